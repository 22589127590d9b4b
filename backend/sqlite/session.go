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
		if err := db.update(ctx, func(tx *Tx) error { return touchSession(ctx, tx, s.ID) }); err != nil {
			return nil, fmt.Errorf("renew session: %w", err)
		}
		s.LastUsed = now
	}
	return db.lifetimes().Session(s), nil
}

func touchSession(ctx context.Context, tx *Tx, id string) error {
	_, err := tx.ExecContext(ctx, `UPDATE sessions SET last_used_at = ? WHERE token_hash = ?`, formatTime(tx.Now()), id)
	return err
}

// RevokeToken implements backend.UserService.
func (db *DB) RevokeToken(ctx context.Context, token string) error {
	id := hashToken(token)
	return db.update(ctx, func(tx *Tx) error {
		var userID string
		err := tx.QueryRowContext(ctx, `DELETE FROM sessions WHERE token_hash = ? RETURNING user_id`, id).Scan(&userID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		} else if err != nil {
			return fmt.Errorf("revoke session: %w", err)
		}
		return tx.AppendEvent(ctx, backend.EventSessionRevoked, userID,
			backend.SessionRevocation{UserID: userID, SessionIDs: []string{id}, Reason: "signed out"})
	})
}

// RevokeUserSessions implements backend.UserService.
func (db *DB) RevokeUserSessions(ctx context.Context, userID, keepSessionID, reason string) (int, error) {
	var n int
	err := db.update(ctx, func(tx *Tx) error {
		var err error
		n, err = revokeSessions(ctx, tx, userID, keepSessionID, reason)
		return err
	})
	return n, err
}

// revokeSessions deletes a user's sessions but keep and tells the live
// feed, which closes their sockets.
func revokeSessions(ctx context.Context, tx *Tx, userID, keep, reason string) (int, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?`, userID, keep)
	if err != nil {
		return 0, fmt.Errorf("revoke sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	err = tx.AppendEvent(ctx, backend.EventSessionRevoked, userID,
		backend.SessionRevocation{UserID: userID, All: true, Except: keep, Reason: reason})
	return int(n), err
}

// CheckSessions implements backend.UserService.
func (db *DB) CheckSessions(ctx context.Context, ids []string) ([]string, error) {
	var invalid []string
	err := db.update(ctx, func(tx *Tx) error {
		invalid = nil
		for _, id := range ids {
			s, err := findSession(ctx, tx, id)
			if errors.Is(err, sql.ErrNoRows) {
				invalid = append(invalid, id)
				continue
			} else if err != nil {
				return err
			}
			if db.lifetimes().Invalid(s, tx.Now()) != "" {
				invalid = append(invalid, id)
			} else if tx.Now().Sub(s.LastUsed) >= renewEvery {
				if err := touchSession(ctx, tx, id); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return invalid, err
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
