package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
	"switchboard/backend/internal/storetx"
)

const userColumns = `id, name, email, role, disabled_at <> '', created_at`

func scanUser(s interface{ Scan(...any) error }) (*backend.User, error) {
	var u backend.User
	var created string
	if err := s.Scan(&u.ID, &u.Name, &u.Email, &u.Role, &u.Disabled, &created); err != nil {
		return nil, err
	}
	u.CreatedAt = parseTime(created)
	return &u, nil
}

func findUser(ctx context.Context, q queryer, id string) (*backend.User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, backend.Errorf(backend.ENotFound, "User %s does not exist.", id)
	} else if err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	return u, nil
}

// hashPassword checks a new password and hashes it.
func (db *DB) hashPassword(password string) (string, error) {
	return storekit.HashPassword(password, db.PasswordCost)
}

// CreateUser implements backend.UserService.
func (db *DB) CreateUser(ctx context.Context, u *backend.User, password string) error {
	if err := storekit.CheckUser(u); err != nil {
		return err
	}
	hash, err := db.hashPassword(password)
	if err != nil {
		return err
	}
	return db.update(ctx, func(tx *Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE email = ?`, u.Email).Scan(&n); err != nil {
			return err
		} else if n > 0 {
			return backend.Errorf(backend.EConflict, "A user with email %s already exists.", u.Email)
		}
		if u.ID == "" {
			u.ID = backend.NewID("usr")
		}
		u.CreatedAt, u.Disabled = tx.Now(), false
		if _, err := tx.ExecContext(ctx, `INSERT INTO users (id, name, email, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			u.ID, u.Name, u.Email, string(u.Role), hash, formatTime(u.CreatedAt)); err != nil {
			return fmt.Errorf("insert user: %w", err)
		}
		return tx.AppendEvent(ctx, backend.EventUserUpserted, u.ID, u)
	})
}

// FindUsers implements backend.UserService.
func (db *DB) FindUsers(ctx context.Context) ([]*backend.User, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("find users: %w", err)
	}
	defer rows.Close()
	var out []*backend.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// FindUserByID implements backend.UserService.
func (db *DB) FindUserByID(ctx context.Context, id string) (*backend.User, error) {
	return findUser(ctx, db.r, id)
}

// ChangePassword implements backend.UserService.
func (db *DB) ChangePassword(ctx context.Context, userID, current, next, keepSessionID string) error {
	var old string
	err := db.r.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE id = ?`, userID).Scan(&old)
	if errors.Is(err, sql.ErrNoRows) {
		return backend.Errorf(backend.ENotFound, "User %s does not exist.", userID)
	} else if err != nil {
		return fmt.Errorf("find user: %w", err)
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
	hash, err := db.hashPassword(password)
	if err != nil {
		return err
	}
	return db.update(ctx, func(tx *Tx) error { return storetx.SetPassword(ctx, steps{tx}, userID, hash, keep, reason) })
}

var _ storetx.UserTx = steps{}

// SetPasswordHash implements storetx.UserTx.
func (s steps) SetPasswordHash(ctx context.Context, userID, hash string) (bool, error) {
	res, err := s.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, hash, userID)
	if err != nil {
		return false, fmt.Errorf("set password: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// SetDisabled implements storetx.UserTx.
func (s steps) SetDisabled(ctx context.Context, userID string, disabled bool) (bool, error) {
	at, was := "", `disabled_at <> ''`
	if disabled {
		at, was = formatTime(s.Now()), `disabled_at = ''`
	}
	res, err := s.ExecContext(ctx, `UPDATE users SET disabled_at = ? WHERE id = ? AND `+was, at, userID)
	if err != nil {
		return false, fmt.Errorf("disable user: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// FindUser implements storetx.UserTx.
func (s steps) FindUser(ctx context.Context, id string) (*backend.User, error) {
	return findUser(ctx, s.Tx, id)
}
