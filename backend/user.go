package backend

import (
	"context"
	"time"
)

// Role is what a signed-in user may do.
type Role string

// The roles, from least to most privileged.
const (
	RoleAgent      Role = "agent"
	RoleSupervisor Role = "supervisor"
	RoleAdmin      Role = "admin"
)

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool {
	return r == RoleAgent || r == RoleSupervisor || r == RoleAdmin
}

// AtLeast reports whether r grants at least the privileges of min.
func (r Role) AtLeast(min Role) bool {
	rank := map[Role]int{RoleAgent: 1, RoleSupervisor: 2, RoleAdmin: 3}
	return rank[r] >= rank[min] && rank[r] > 0
}

// User is a person who signs in: an agent, a supervisor or an admin.
type User struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	Role  Role   `json:"role"`
	// Disabled users cannot sign in and have no sessions.
	Disabled  bool      `json:"disabled,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
}

// MaxPasswordBytes is the longest password bcrypt can take.
const MaxPasswordBytes = 72

// MinPasswordChars is the shortest password accepted.
const MinPasswordChars = 8

// Session is a signed-in user's bearer token as the store knows it.
type Session struct {
	// ID names the session without being a credential (a hash of the
	// token); sign-out and the live feed refer to sessions by it.
	ID   string `json:"-"`
	User User   `json:"user"`
	// ExpiresAt is the absolute end; IdleUntil the end unless it is used
	// again before then.
	ExpiresAt time.Time `json:"expiresAt"`
	IdleUntil time.Time `json:"idleUntil"`
}

// UserService manages users and their sessions.
type UserService interface {
	// CreateUser stores a user with the given password. Returns EInvalid for
	// a bad email, role or short password and EConflict for a taken email.
	CreateUser(ctx context.Context, u *User, password string) error
	// Authenticate checks an email and password and returns a new bearer
	// token. Returns EUnauthorized when they do not match.
	Authenticate(ctx context.Context, email, password string) (token string, u *User, err error)
	// SessionByToken returns the session for a bearer token. Returns
	// EUnauthorized for an unknown or expired token.
	SessionByToken(ctx context.Context, token string) (*Session, error)
	// RevokeToken ends a session. Revoking an unknown token is not an error.
	RevokeToken(ctx context.Context, token string) error
	// FindUsers lists users ordered by name.
	FindUsers(ctx context.Context) ([]*User, error)
	// FindUserByID returns one user. Returns ENotFound.
	FindUserByID(ctx context.Context, id string) (*User, error)
	// ChangePassword replaces a user's password after checking the
	// current one, and ends every other session of the user. Returns
	// EForbidden for a wrong current password and EInvalid for a bad new
	// one.
	ChangePassword(ctx context.Context, userID, current, next, keepSessionID string) error
	// ResetPassword sets a user's password (an admin's reset) and ends
	// every session of the user. Returns ENotFound or EInvalid.
	ResetPassword(ctx context.Context, userID, password string) error
	// SetUserDisabled disables (ending every session) or enables a user.
	// Returns ENotFound.
	SetUserDisabled(ctx context.Context, userID string, disabled bool) (*User, error)
	// RevokeUserSessions ends every session of a user but keepSessionID
	// and returns how many ended.
	RevokeUserSessions(ctx context.Context, userID, keepSessionID, reason string) (int, error)
	// CheckSessions renews the named sessions (they are in use) and
	// returns those no longer valid: expired, revoked or of a disabled
	// user.
	CheckSessions(ctx context.Context, ids []string) (invalid []string, err error)
	// PurgeSessions deletes expired sessions and returns how many.
	PurgeSessions(ctx context.Context) (int, error)
}

// ValidPassword returns EInvalid with a sentence when password cannot be
// used: too short, or longer than bcrypt takes.
func ValidPassword(password string) error {
	if len(password) > MaxPasswordBytes {
		return Errorf(EInvalid, "A password can be at most %d bytes long (this one has %d); choose a shorter one.", MaxPasswordBytes, len(password))
	} else if len([]rune(password)) < MinPasswordChars {
		return Errorf(EInvalid, "A password needs at least %d characters.", MinPasswordChars)
	}
	return nil
}
