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
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Role      Role      `json:"role"`
	CreatedAt time.Time `json:"createdAt"`
}

// Session is a signed-in user's bearer token as the store knows it.
type Session struct {
	User      User      `json:"user"`
	ExpiresAt time.Time `json:"expiresAt"`
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
}
