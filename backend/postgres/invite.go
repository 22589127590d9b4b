package postgres

import (
	"context"
	"fmt"
	"strings"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
	"switchboard/backend/internal/storetx"
)

var _ backend.InviteService = (*DB)(nil)

const inviteColumns = `id, email, name, role, invited_by, created_at, expires_at, accepted_at, user_id`

func scanInvite(s scanner) (*backend.Invite, error) {
	var inv backend.Invite
	return &inv, s.Scan(&inv.ID, &inv.Email, &inv.Name, &inv.Role, &inv.InvitedBy, at{&inv.CreatedAt}, at{&inv.ExpiresAt}, at{&inv.AcceptedAt}, &inv.UserID)
}

var _ storetx.InviteTx = steps{}

// EmailTaken implements storetx.InviteTx.
func (s steps) EmailTaken(ctx context.Context, email string) (bool, error) {
	return exists(ctx, s.Tx, `SELECT 1 FROM users WHERE lower(email) = lower($1)`, email)
}

// InsertInvite implements storetx.InviteTx.
func (s steps) InsertInvite(ctx context.Context, inv *backend.Invite, tokenHash string) error {
	_, err := s.Exec(ctx, `INSERT INTO invites (token_hash, id, email, name, role, invited_by, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		tokenHash, inv.ID, inv.Email, inv.Name, string(inv.Role), inv.InvitedBy, inv.CreatedAt, inv.ExpiresAt)
	if err != nil {
		return fmt.Errorf("create invite: %w", err)
	}
	return nil
}

// FindInvites implements backend.InviteService.
func (db *DB) FindInvites(ctx context.Context) ([]*backend.Invite, error) {
	out, err := collect(ctx, db.pool, scanInvite, `SELECT `+inviteColumns+` FROM invites WHERE accepted_at IS NULL ORDER BY created_at DESC`)
	if err != nil {
		return nil, fmt.Errorf("find invites: %w", err)
	}
	return nonNil(out), nil
}

// InviteByToken implements backend.InviteService.
func (db *DB) InviteByToken(ctx context.Context, token string) (*backend.Invite, error) {
	gone := backend.Errorf(backend.ENotFound, "This invitation link is not valid: it was used already, withdrawn or it expired. Ask your admin for a new one.")
	inv, err := one(ctx, db.pool, scanInvite, gone, `SELECT `+inviteColumns+` FROM invites WHERE token_hash = $1`, storekit.HashToken(token))
	if err != nil {
		return nil, err
	}
	if !inv.AcceptedAt.IsZero() || !db.now().Before(inv.ExpiresAt) {
		return nil, gone
	}
	return inv, nil
}

// AcceptInvite implements backend.InviteService: the user is created and
// the token spent in one transaction, so a token used twice at once makes
// one account.
func (db *DB) AcceptInvite(ctx context.Context, token, name, password string) (*backend.User, error) {
	inv, err := db.InviteByToken(ctx, token)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(name) == "" {
		name = inv.Name
	}
	u := &backend.User{Name: strings.TrimSpace(name), Email: inv.Email, Role: inv.Role}
	if err := storekit.CheckUser(u); err != nil {
		return nil, err
	}
	hash, err := storekit.HashPassword(password, db.PasswordCost)
	if err != nil {
		return nil, err
	}
	err = db.update(ctx, func(tx *Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE invites SET accepted_at = $1 WHERE id = $2 AND accepted_at IS NULL`, tx.Now(), inv.ID)
		if err != nil {
			return fmt.Errorf("spend invite: %w", err)
		} else if tag.RowsAffected() == 0 {
			return backend.Errorf(backend.ENotFound, "This invitation link is not valid: it was used already, withdrawn or it expired. Ask your admin for a new one.")
		}
		if err := createUser(ctx, tx, u, hash); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE invites SET user_id = $1 WHERE id = $2`, u.ID, inv.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// DeleteInvite implements backend.InviteService.
func (db *DB) DeleteInvite(ctx context.Context, id string) error {
	return db.update(ctx, func(tx *Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM invites WHERE id = $1 AND accepted_at IS NULL`, id)
		if err != nil {
			return fmt.Errorf("delete invite: %w", err)
		} else if tag.RowsAffected() == 0 {
			return backend.Errorf(backend.ENotFound, "Invitation %s does not exist or was accepted.", id)
		}
		return nil
	})
}

// CountUsers implements backend.InviteService.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// CreateFirstAdmin implements backend.InviteService: it claims the
// workspace's first run (one row only one caller can insert, only while
// there are no users) and creates the admin in the same transaction.
func (db *DB) CreateFirstAdmin(ctx context.Context, u *backend.User, password string) error {
	u.Role = backend.RoleAdmin
	if err := storekit.CheckUser(u); err != nil {
		return err
	}
	hash, err := storekit.HashPassword(password, db.PasswordCost)
	if err != nil {
		return err
	}
	taken := backend.Errorf(backend.EConflict, "This workspace already has an admin; sign in instead.")
	return db.update(ctx, func(tx *Tx) error {
		if err := lock(ctx, tx, "first-run"); err != nil {
			return err
		}
		if found, err := exists(ctx, tx, `SELECT 1 FROM users UNION ALL SELECT 1 FROM first_run`); err != nil {
			return err
		} else if found {
			return taken
		}
		if _, err := tx.Exec(ctx, `INSERT INTO first_run (id, claimed_at) VALUES (1, $1)`, tx.Now()); err != nil {
			return err
		}
		return createUser(ctx, tx, u, hash)
	})
}
