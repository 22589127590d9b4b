package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
	"switchboard/backend/internal/storetx"
)

// Session lifetimes unless the DB sets its own: a session ends a week after
// sign-in, or a day after it was last used, whichever comes first.
const (
	DefaultSessionMaxAge = storekit.DefaultSessionMaxAge
	DefaultSessionIdle   = storekit.DefaultSessionIdle
)

// renewEvery limits how often using a session writes its last use.
const renewEvery = storekit.RenewEvery

func (db *DB) lifetimes() storekit.Lifetimes {
	return storekit.Lifetimes{MaxAge: db.SessionMaxAge, Idle: db.SessionIdle}
}

func (db *DB) sessionMaxAge() time.Duration { return db.lifetimes().Max() }

func (db *DB) sessionIdle() time.Duration { return db.lifetimes().IdleFor() }

// Authenticate implements backend.UserService.
func (db *DB) Authenticate(ctx context.Context, email, password string) (string, *backend.User, error) {
	denied := storekit.ErrSignIn()
	if len(password) > backend.MaxPasswordBytes {
		return "", nil, denied // no stored password is that long
	}
	var hash string
	row := db.r.QueryRowContext(ctx, `SELECT `+userColumns+`, password_hash FROM users WHERE email = ?`, strings.TrimSpace(email))
	u, err := scanUser(suffixScanner{row, []any{&hash}})
	if errors.Is(err, sql.ErrNoRows) {
		// Spend the same time as a real check so timing does not reveal emails.
		db.dummy.Spend(password, db.PasswordCost)
		return "", nil, denied
	} else if err != nil {
		return "", nil, fmt.Errorf("find user: %w", err)
	}
	if !storekit.PasswordMatches(hash, password) {
		return "", nil, denied
	}
	if u.Disabled {
		return "", nil, storekit.ErrDisabled()
	}
	token, err := storekit.NewToken()
	if err != nil {
		return "", nil, err
	}
	err = db.update(ctx, func(tx *Tx) error {
		now := tx.Now()
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_used_at) VALUES (?, ?, ?, ?, ?)`,
			hashToken(token), u.ID, formatTime(now), formatTime(now.Add(db.sessionMaxAge())), formatTime(now))
		return err
	})
	if err != nil {
		return "", nil, fmt.Errorf("create session: %w", err)
	}
	return token, u, nil
}

// suffixScanner scans a row whose columns are a user's followed by more.
type suffixScanner struct {
	s     interface{ Scan(...any) error }
	extra []any
}

func (p suffixScanner) Scan(dest ...any) error { return p.s.Scan(append(dest, p.extra...)...) }

func findSession(ctx context.Context, q queryer, id string) (*storekit.SessionRow, error) {
	var s storekit.SessionRow
	var expires, used string
	row := q.QueryRowContext(ctx, `SELECT u.id, u.name, u.email, u.role, u.disabled_at <> '', u.created_at, s.expires_at, s.last_used_at
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?`, id)
	u, err := scanUser(suffixScanner{row, []any{&expires, &used}})
	if err != nil {
		return nil, err
	}
	s.ID, s.User, s.Expires, s.LastUsed = id, u, parseTime(expires), parseTime(used)
	return &s, nil
}

// SessionByToken implements backend.UserService. Using a session renews it
// (at most once a minute).
func (db *DB) SessionByToken(ctx context.Context, token string) (*backend.Session, error) {
	s, err := findSession(ctx, db.r, hashToken(token))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, storekit.ErrNoSession()
	} else if err != nil {
		return nil, fmt.Errorf("find session: %w", err)
	}
	now := db.Now().UTC()
	if why := db.lifetimes().Invalid(s, now); why != "" {
		return nil, backend.Errorf(backend.EUnauthorized, "%s", why)
	}
	if now.Sub(s.LastUsed) >= renewEvery {
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
	_, err := s.ExecContext(ctx, `UPDATE sessions SET last_used_at = ? WHERE token_hash = ?`, formatTime(s.Now()), id)
	return err
}

// DeleteSession implements storetx.SessionTx.
func (s steps) DeleteSession(ctx context.Context, id string) (string, error) {
	var userID string
	err := s.QueryRowContext(ctx, `DELETE FROM sessions WHERE token_hash = ? RETURNING user_id`, id).Scan(&userID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("revoke session: %w", err)
	}
	return userID, nil
}

// DeleteUserSessions implements storetx.SessionTx.
func (s steps) DeleteUserSessions(ctx context.Context, userID, keep string) (int, error) {
	res, err := s.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?`, userID, keep)
	if err != nil {
		return 0, fmt.Errorf("revoke sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// FindSession implements storetx.SessionTx.
func (s steps) FindSession(ctx context.Context, id string) (*storekit.SessionRow, error) {
	row, err := findSession(ctx, s.Tx, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return row, err
}

// PurgeSessions implements backend.UserService.
func (db *DB) PurgeSessions(ctx context.Context) (int, error) {
	var n int64
	err := db.update(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ? OR last_used_at <= ?`,
			formatTime(tx.Now()), formatTime(tx.Now().Add(-db.sessionIdle())))
		if err != nil {
			return fmt.Errorf("purge sessions: %w", err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return int(n), err
}

// hashToken stores tokens as SHA-256 so a copied database file holds no
// usable credential; the hash is also the session's id.
var hashToken = storekit.HashToken
