package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"switchboard/backend"
	"switchboard/backend/internal/storetx"
)

var _ backend.InviteService = (*DB)(nil)

const inviteColumns = `id, email, name, role, invited_by, created_at, expires_at, accepted_at, user_id`

func scanInvite(s interface{ Scan(...any) error }) (*backend.Invite, error) {
	var inv backend.Invite
	var created, expires, accepted string
	if err := s.Scan(&inv.ID, &inv.Email, &inv.Name, &inv.Role, &inv.InvitedBy, &created, &expires, &accepted, &inv.UserID); err != nil {
		return nil, err
	}
	inv.CreatedAt, inv.ExpiresAt, inv.AcceptedAt = parseTime(created), parseTime(expires), parseTime(accepted)
	return &inv, nil
}

var _ storetx.InviteTx = steps{}

// EmailTaken implements storetx.InviteTx.
func (s steps) EmailTaken(ctx context.Context, email string) (bool, error) {
	var n int
	err := s.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE email = ?`, email).Scan(&n)
	return n > 0, err
}

// InsertInvite implements storetx.InviteTx.
func (s steps) InsertInvite(ctx context.Context, inv *backend.Invite, tokenHash string) error {
	_, err := s.ExecContext(ctx, `INSERT INTO invites (token_hash, `+inviteColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', '')`,
		tokenHash, inv.ID, inv.Email, inv.Name, string(inv.Role), inv.InvitedBy, formatTime(inv.CreatedAt), formatTime(inv.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create invite: %w", err)
	}
	return nil
}

// FindInvites implements backend.InviteService.
func (db *DB) FindInvites(ctx context.Context) ([]*backend.Invite, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+inviteColumns+` FROM invites WHERE accepted_at = '' ORDER BY created_at DESC`)
	if err != nil {
		return nil, fmt.Errorf("find invites: %w", err)
	}
	defer rows.Close()
	out := []*backend.Invite{}
	for rows.Next() {
		inv, err := scanInvite(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, inv)
	}
	return out, rows.Err()
}

// InviteByToken implements backend.InviteService.
func (db *DB) InviteByToken(ctx context.Context, token string) (*backend.Invite, error) {
	inv, err := scanInvite(db.r.QueryRowContext(ctx, `SELECT `+inviteColumns+` FROM invites WHERE token_hash = ?`, hashToken(token)))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (!inv.AcceptedAt.IsZero() || !db.Now().Before(inv.ExpiresAt))) {
		return nil, backend.Errorf(backend.ENotFound, "This invitation link is not valid: it was used already, withdrawn or it expired. Ask your admin for a new one.")
	} else if err != nil {
		return nil, fmt.Errorf("find invite: %w", err)
	}
	return inv, nil
}

// AcceptInvite implements backend.InviteService. The user is created with
// the invitation's email, so a token used twice at once makes one account:
// the second creation meets the taken email.
func (db *DB) AcceptInvite(ctx context.Context, token, name, password string) (*backend.User, error) {
	inv, err := db.InviteByToken(ctx, token)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(name) == "" {
		name = inv.Name
	}
	u := &backend.User{Name: strings.TrimSpace(name), Email: inv.Email, Role: inv.Role}
	if err := db.CreateUser(ctx, u, password); err != nil {
		return nil, err
	}
	err = db.update(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE invites SET accepted_at = ?, user_id = ? WHERE id = ?`, formatTime(tx.Now()), u.ID, inv.ID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("spend invite: %w", err)
	}
	return u, nil
}

// DeleteInvite implements backend.InviteService.
func (db *DB) DeleteInvite(ctx context.Context, id string) error {
	return db.update(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM invites WHERE id = ? AND accepted_at = ''`, id)
		if err != nil {
			return fmt.Errorf("delete invite: %w", err)
		} else if n, _ := res.RowsAffected(); n == 0 {
			return backend.Errorf(backend.ENotFound, "Invitation %s does not exist or was accepted.", id)
		}
		return nil
	})
}

// CountUsers implements backend.InviteService.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// CreateFirstAdmin implements backend.InviteService: it claims the
// workspace's first run (one row that only one caller can insert, and only
// while there are no users), then creates the admin; a failed creation
// gives the claim back.
func (db *DB) CreateFirstAdmin(ctx context.Context, u *backend.User, password string) error {
	taken := backend.Errorf(backend.EConflict, "This workspace already has an admin; sign in instead.")
	err := db.update(ctx, func(tx *Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM first_run)`).Scan(&n); err != nil {
			return err
		} else if n > 0 {
			return taken
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO first_run (id, claimed_at) VALUES (1, ?)`, formatTime(tx.Now()))
		return err
	})
	if err != nil {
		return err
	}
	u.Role = backend.RoleAdmin
	if err := db.CreateUser(ctx, u, password); err != nil {
		db.update(ctx, func(tx *Tx) error {
			_, err := tx.ExecContext(ctx, `DELETE FROM first_run WHERE id = 1`)
			return err
		})
		return err
	}
	return nil
}
