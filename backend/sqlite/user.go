package sqlite

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"switchboard/backend"
)

// SessionTTL is how long a bearer token stays valid.
const SessionTTL = 30 * 24 * time.Hour

// CreateUser implements backend.UserService.
func (db *DB) CreateUser(ctx context.Context, u *backend.User, password string) error {
	u.Email = strings.TrimSpace(u.Email)
	if _, err := mail.ParseAddress(u.Email); err != nil {
		return backend.Errorf(backend.EInvalid, "%q is not an email address.", u.Email)
	} else if !u.Role.Valid() {
		return backend.Errorf(backend.EInvalid, "Role must be agent, supervisor or admin, not %q.", u.Role)
	} else if len(password) < 8 {
		return backend.Errorf(backend.EInvalid, "A password needs at least 8 characters.")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), db.PasswordCost)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
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
		u.CreatedAt = tx.Now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO users (id, name, email, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			u.ID, u.Name, u.Email, string(u.Role), string(hash), formatTime(u.CreatedAt)); err != nil {
			return fmt.Errorf("insert user: %w", err)
		}
		return tx.AppendEvent(ctx, backend.EventUserUpserted, u.ID, u)
	})
}

// Authenticate implements backend.UserService.
func (db *DB) Authenticate(ctx context.Context, email, password string) (string, *backend.User, error) {
	denied := backend.Errorf(backend.EUnauthorized, "The email or password is not correct.")
	var u backend.User
	var hash, created string
	err := db.r.QueryRowContext(ctx, `SELECT id, name, email, role, password_hash, created_at FROM users WHERE email = ?`, strings.TrimSpace(email)).
		Scan(&u.ID, &u.Name, &u.Email, &u.Role, &hash, &created)
	if errors.Is(err, sql.ErrNoRows) {
		// Spend the same time as a real check so timing does not reveal emails.
		bcrypt.CompareHashAndPassword(db.dummyHash(), []byte(password))
		return "", nil, denied
	} else if err != nil {
		return "", nil, fmt.Errorf("find user: %w", err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return "", nil, denied
	}
	u.CreatedAt = parseTime(created)
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", nil, err
	}
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	err = db.update(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			hashToken(token), u.ID, formatTime(tx.Now()), formatTime(tx.Now().Add(SessionTTL)))
		return err
	})
	if err != nil {
		return "", nil, fmt.Errorf("create session: %w", err)
	}
	return token, &u, nil
}

// SessionByToken implements backend.UserService.
func (db *DB) SessionByToken(ctx context.Context, token string) (*backend.Session, error) {
	var s backend.Session
	var created, expires string
	err := db.r.QueryRowContext(ctx, `SELECT u.id, u.name, u.email, u.role, u.created_at, s.expires_at
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?`, hashToken(token)).
		Scan(&s.User.ID, &s.User.Name, &s.User.Email, &s.User.Role, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, backend.Errorf(backend.EUnauthorized, "Your session is not valid; please sign in again.")
	} else if err != nil {
		return nil, fmt.Errorf("find session: %w", err)
	}
	s.User.CreatedAt, s.ExpiresAt = parseTime(created), parseTime(expires)
	if !db.Now().Before(s.ExpiresAt) {
		return nil, backend.Errorf(backend.EUnauthorized, "Your session has expired; please sign in again.")
	}
	return &s, nil
}

// RevokeToken implements backend.UserService.
func (db *DB) RevokeToken(ctx context.Context, token string) error {
	return db.update(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, hashToken(token))
		return err
	})
}

// FindUsers implements backend.UserService.
func (db *DB) FindUsers(ctx context.Context) ([]*backend.User, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, name, email, role, created_at FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("find users: %w", err)
	}
	defer rows.Close()
	var out []*backend.User
	for rows.Next() {
		var u backend.User
		var created string
		if err := rows.Scan(&u.ID, &u.Name, &u.Email, &u.Role, &created); err != nil {
			return nil, err
		}
		u.CreatedAt = parseTime(created)
		out = append(out, &u)
	}
	return out, rows.Err()
}

// dummyHash is a real hash at the configured cost, compared against when the
// email is unknown.
func (db *DB) dummyHash() []byte {
	db.dummyOnce.Do(func() {
		db.dummy, _ = bcrypt.GenerateFromPassword([]byte("switchboard-dummy"), db.PasswordCost)
	})
	return db.dummy
}

// hashToken stores tokens as SHA-256 so a copied database file holds no
// usable credential.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
