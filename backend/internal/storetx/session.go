package storetx

import (
	"context"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
)

// SessionTx is the steps of the session transactions; sessions are named
// by the hash of their token.
type SessionTx interface {
	Tx
	// FindSession returns a session with its user, or nil when there is
	// none.
	FindSession(ctx context.Context, id string) (*storekit.SessionRow, error)
	// TouchSession records that the session is used now.
	TouchSession(ctx context.Context, id string) error
	// DeleteSession deletes a session and returns its user, or "" when
	// there was none.
	DeleteSession(ctx context.Context, id string) (string, error)
	// DeleteUserSessions deletes a user's sessions but keep and returns
	// how many there were.
	DeleteUserSessions(ctx context.Context, userID, keep string) (int, error)
}

// RevokeSession ends the session id (nothing when there is none) and tells
// the live feed, which closes its sockets.
func RevokeSession(ctx context.Context, tx SessionTx, id string) error {
	userID, err := tx.DeleteSession(ctx, id)
	if userID == "" || err != nil {
		return err
	}
	return tx.AppendEvent(ctx, backend.EventSessionRevoked, userID,
		backend.SessionRevocation{UserID: userID, SessionIDs: []string{id}, Reason: "signed out"})
}

// RevokeSessions deletes a user's sessions but keep and tells the live
// feed, which closes their sockets.
func RevokeSessions(ctx context.Context, tx SessionTx, userID, keep, reason string) (int, error) {
	n, err := tx.DeleteUserSessions(ctx, userID, keep)
	if err != nil {
		return 0, err
	}
	err = tx.AppendEvent(ctx, backend.EventSessionRevoked, userID,
		backend.SessionRevocation{UserID: userID, All: true, Except: keep, Reason: reason})
	return n, err
}

// CheckSessions returns which of the sessions ids are gone or no longer
// valid under l, and renews the others' last use (at most once per
// storekit.RenewEvery).
func CheckSessions(ctx context.Context, tx SessionTx, l storekit.Lifetimes, ids []string) ([]string, error) {
	var invalid []string
	for _, id := range ids {
		s, err := tx.FindSession(ctx, id)
		if err != nil {
			return invalid, err
		}
		if s == nil || l.Invalid(s, tx.Now()) != "" {
			invalid = append(invalid, id)
		} else if tx.Now().Sub(s.LastUsed) >= storekit.RenewEvery {
			if err := tx.TouchSession(ctx, id); err != nil {
				return invalid, err
			}
		}
	}
	return invalid, nil
}
