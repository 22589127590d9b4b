package postgres

import (
	"context"
	"fmt"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
	"switchboard/backend/internal/storetx"
)

const userColumns = `u.id, u.name, u.email, u.role, u.disabled_at IS NOT NULL, u.created_at`

func scanUser(s scanner, extra ...any) (*backend.User, error) {
	var u backend.User
	if err := s.Scan(append([]any{&u.ID, &u.Name, &u.Email, &u.Role, &u.Disabled, at{&u.CreatedAt}}, extra...)...); err != nil {
		return nil, err
	}
	return &u, nil
}

func userScan(s scanner) (*backend.User, error) { return scanUser(s) }

func findUser(ctx context.Context, q querier, id string) (*backend.User, error) {
	u, err := one(ctx, q, userScan, backend.Errorf(backend.ENotFound, "User %s does not exist.", id),
		`SELECT `+userColumns+` FROM users u WHERE u.id = $1`, id)
	if err != nil && backend.ErrorCode(err) == backend.EInternal {
		return nil, fmt.Errorf("find user: %w", err)
	}
	return u, err
}

// CreateUser implements backend.UserService.
func (db *DB) CreateUser(ctx context.Context, u *backend.User, password string) error {
	if err := storekit.CheckUser(u); err != nil {
		return err
	}
	hash, err := storekit.HashPassword(password, db.PasswordCost)
	if err != nil {
		return err
	}
	return db.update(ctx, func(tx *Tx) error { return createUser(ctx, tx, u, hash) })
}

func createUser(ctx context.Context, tx *Tx, u *backend.User, hash string) error {
	if taken, err := exists(ctx, tx, `SELECT 1 FROM users WHERE lower(email) = lower($1)`, u.Email); err != nil {
		return err
	} else if taken {
		return backend.Errorf(backend.EConflict, "A user with email %s already exists.", u.Email)
	}
	if u.ID == "" {
		u.ID = backend.NewID("usr")
	}
	u.CreatedAt, u.Disabled = tx.Now(), false
	if _, err := tx.Exec(ctx, `INSERT INTO users (id, name, email, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		u.ID, u.Name, u.Email, string(u.Role), hash, u.CreatedAt); err != nil {
		return fmt.Errorf("insert user: %w", err)
	}
	return tx.AppendEvent(ctx, backend.EventUserUpserted, u.ID, u)
}

// FindUsers implements backend.UserService.
func (db *DB) FindUsers(ctx context.Context) ([]*backend.User, error) {
	users, err := collect(ctx, db.pool, userScan, `SELECT `+userColumns+` FROM users u ORDER BY u.name`)
	if err != nil {
		return nil, fmt.Errorf("find users: %w", err)
	}
	return users, nil
}

// FindUserByID implements backend.UserService.
func (db *DB) FindUserByID(ctx context.Context, id string) (*backend.User, error) {
	return findUser(ctx, db.pool, id)
}

// ChangePassword implements backend.UserService.
func (db *DB) ChangePassword(ctx context.Context, userID, current, next, keepSessionID string) error {
	old, err := one(ctx, db.pool, func(s scanner) (string, error) {
		var h string
		return h, s.Scan(&h)
	}, backend.Errorf(backend.ENotFound, "User %s does not exist.", userID), `SELECT password_hash FROM users WHERE id = $1`, userID)
	if err != nil {
		return err
	}
	if !storekit.PasswordMatches(old, current) {
		return backend.Errorf(backend.EForbidden, "The current password is not correct.")
	}
	return db.setPassword(ctx, userID, next, keepSessionID, "password changed")
}

// ResetPassword implements backend.UserService.
func (db *DB) ResetPassword(ctx context.Context, userID, password string) error {
	return db.setPassword(ctx, userID, password, "", "password reset")
}

// setPassword stores a new password and ends every session of the user but
// keep.
func (db *DB) setPassword(ctx context.Context, userID, password, keep, reason string) error {
	hash, err := storekit.HashPassword(password, db.PasswordCost)
	if err != nil {
		return err
	}
	return db.update(ctx, func(tx *Tx) error { return storetx.SetPassword(ctx, steps{tx}, userID, hash, keep, reason) })
}

var _ storetx.UserTx = steps{}

// SetPasswordHash implements storetx.UserTx.
func (s steps) SetPasswordHash(ctx context.Context, userID, hash string) (bool, error) {
	tag, err := s.Exec(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2`, hash, userID)
	if err != nil {
		return false, fmt.Errorf("set password: %w", err)
	}
	return tag.RowsAffected() > 0, nil
}

// SetDisabled implements storetx.UserTx.
func (s steps) SetDisabled(ctx context.Context, userID string, disabled bool) (bool, error) {
	set := `UPDATE users SET disabled_at = NULL WHERE id = $1 AND disabled_at IS NOT NULL`
	args := []any{userID}
	if disabled {
		set = `UPDATE users SET disabled_at = $2 WHERE id = $1 AND disabled_at IS NULL`
		args = append(args, s.Now())
	}
	tag, err := s.Exec(ctx, set, args...)
	if err != nil {
		return false, fmt.Errorf("disable user: %w", err)
	}
	return tag.RowsAffected() > 0, nil
}

// FindUser implements storetx.UserTx.
func (s steps) FindUser(ctx context.Context, id string) (*backend.User, error) {
	return findUser(ctx, s.Tx, id)
}
