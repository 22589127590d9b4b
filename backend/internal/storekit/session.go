package storekit

import (
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"switchboard/backend"
)

// Session lifetimes unless a store sets its own: a session ends a week after
// sign-in, or a day after it was last used, whichever comes first.
const (
	DefaultSessionMaxAge = 7 * 24 * time.Hour
	DefaultSessionIdle   = 24 * time.Hour
)

// RenewEvery limits how often using a session writes its last use.
const RenewEvery = time.Minute

// Lifetimes are a store's session lifetimes (the defaults when zero).
type Lifetimes struct {
	MaxAge, Idle time.Duration
}

// Max returns the absolute lifetime.
func (l Lifetimes) Max() time.Duration {
	if l.MaxAge > 0 {
		return l.MaxAge
	}
	return DefaultSessionMaxAge
}

// IdleFor returns how long a session lives without use.
func (l Lifetimes) IdleFor() time.Duration {
	if l.Idle > 0 {
		return l.Idle
	}
	return DefaultSessionIdle
}

// SessionRow is a session as a store reads it.
type SessionRow struct {
	ID                string
	User              *backend.User
	Expires, LastUsed time.Time
}

// Invalid returns why the session cannot be used at now, or "".
func (l Lifetimes) Invalid(s *SessionRow, now time.Time) string {
	switch {
	case s.User.Disabled:
		return "Your account is disabled; ask an admin to enable it."
	case !now.Before(s.Expires):
		return "Your session has expired; please sign in again."
	case !now.Before(s.LastUsed.Add(l.IdleFor())):
		return "Your session ended after a time without use; please sign in again."
	}
	return ""
}

// Session returns the backend view of a valid session row.
func (l Lifetimes) Session(s *SessionRow) *backend.Session {
	return &backend.Session{ID: s.ID, User: *s.User, ExpiresAt: s.Expires, IdleUntil: s.LastUsed.Add(l.IdleFor())}
}

// ErrNoSession is the answer to an unknown or revoked token.
func ErrNoSession() error {
	return backend.Errorf(backend.EUnauthorized, "Your session is not valid; please sign in again.")
}

// Dummy is a real bcrypt hash compared against when an email is unknown, so
// that timing does not reveal which emails have accounts. The zero value is
// ready.
type Dummy struct {
	once sync.Once
	hash []byte
}

// Spend compares password against the dummy hash made at cost.
func (d *Dummy) Spend(password string, cost int) {
	d.once.Do(func() { d.hash, _ = bcrypt.GenerateFromPassword([]byte("switchboard-dummy"), cost) })
	bcrypt.CompareHashAndPassword(d.hash, []byte(password))
}
