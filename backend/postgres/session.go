package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
	"switchboard/backend/internal/storetx"
)

func (db *DB) lifetimes() storekit.Lifetimes {
	return storekit.Lifetimes{MaxAge: db.SessionMaxAge, Idle: db.SessionIdle}
}

// Authenticate implements backend.UserService.
func (db *DB) Authenticate(ctx context.Context, email, password string) (string, *backend.User, error) {
	if len(password) > backend.MaxPasswordBytes {
		return "", nil, storekit.ErrSignIn() // no stored password is that long
	}
	var hash string
	u, err := scanUser(db.pool.QueryRow(ctx, `SELECT `+userColumns+`, u.password_hash FROM users u WHERE lower(u.email) = lower($1)`,
		strings.TrimSpace(email)), &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		// Spend the same time as a real check so timing does not reveal emails.
		db.dummy.Spend(password, db.PasswordCost)
		return "", nil, storekit.ErrSignIn()
	} else if err != nil {
		return "", nil, fmt.Errorf("find user: %w", err)
	}
	if !storekit.PasswordMatches(hash, password) {
		return "", nil, storekit.ErrSignIn()
	}
	if u.Disabled {
		return "", nil, storekit.ErrDisabled()
	}
	token, err := storekit.NewToken()
	if err != nil {
		return "", nil, err
	}
	err = db.update(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_used_at) VALUES ($1, $2, $3, $4, $3)`,
			storekit.HashToken(token), u.ID, tx.Now(), tx.Now().Add(db.lifetimes().Max()))
		return err
	})
	if err != nil {
		return "", nil, fmt.Errorf("create session: %w", err)
	}
	return token, u, nil
}

func findSession(ctx context.Context, q querier, id string) (*storekit.SessionRow, error) {
	s := &storekit.SessionRow{ID: id}
	var err error
	s.User, err = scanUser(q.QueryRow(ctx, `SELECT `+userColumns+`, s.expires_at, s.last_used_at
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1`, id), at{&s.Expires}, at{&s.LastUsed})
	return s, err
}

// SessionByToken implements backend.UserService. Using a session renews it
// (at most once a minute).
func (db *DB) SessionByToken(ctx context.Context, token string) (*backend.Session, error) {
	s, err := findSession(ctx, db.pool, storekit.HashToken(token))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, storekit.ErrNoSession()
	} else if err != nil {
		return nil, fmt.Errorf("find session: %w", err)
	}
	now := db.now()
	if why := db.lifetimes().Invalid(s, now); why != "" {
		return nil, backend.Errorf(backend.EUnauthorized, "%s", why)
	}
	if now.Sub(s.LastUsed) >= storekit.RenewEvery {
		if err := db.update(ctx, func(tx *Tx) error { return steps{tx}.TouchSession(ctx, s.ID) }); err != nil {
			return nil, fmt.Errorf("renew session: %w", err)
		}
		s.LastUsed = now
	}
	return db.lifetimes().Session(s), nil
}

var _ storetx.SessionTx = steps{}

// TouchSession implements storetx.SessionTx.
func (s steps) TouchSession(ctx context.Context, id string) error {
	_, err := s.Exec(ctx, `UPDATE sessions SET last_used_at = $1 WHERE token_hash = $2`, s.Now(), id)
	return err
}

// DeleteSession implements storetx.SessionTx.
func (s steps) DeleteSession(ctx context.Context, id string) (string, error) {
	var userID string
	err := s.QueryRow(ctx, `DELETE FROM sessions WHERE token_hash = $1 RETURNING user_id`, id).Scan(&userID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("revoke session: %w", err)
	}
	return userID, nil
}

// DeleteUserSessions implements storetx.SessionTx.
func (s steps) DeleteUserSessions(ctx context.Context, userID, keep string) (int, error) {
	tag, err := s.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2`, userID, keep)
	if err != nil {
		return 0, fmt.Errorf("revoke sessions: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// FindSession implements storetx.SessionTx.
func (s steps) FindSession(ctx context.Context, id string) (*storekit.SessionRow, error) {
	row, err := findSession(ctx, s.Tx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return row, err
}

// PurgeSessions implements backend.UserService.
func (db *DB) PurgeSessions(ctx context.Context) (int, error) {
	var n int64
	err := db.update(ctx, func(tx *Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1 OR last_used_at <= $2`,
			tx.Now(), tx.Now().Add(-db.lifetimes().IdleFor()))
		if err != nil {
			return fmt.Errorf("purge sessions: %w", err)
		}
		n = tag.RowsAffected()
		return nil
	})
	return int(n), err
}
