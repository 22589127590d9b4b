package storetx

import (
	"context"

	"switchboard/backend"
)

// UserTx is the steps that change a user's password and access.
type UserTx interface {
	SessionTx
	// FindUser returns a user, or ENotFound.
	FindUser(ctx context.Context, id string) (*backend.User, error)
	// SetPasswordHash stores a user's password hash; it reports false when
	// there is no such user.
	SetPasswordHash(ctx context.Context, userID, hash string) (bool, error)
	// SetDisabled disables (now) or enables a user; it reports false when
	// the user already was so.
	SetDisabled(ctx context.Context, userID string, disabled bool) (bool, error)
}

// SetPassword stores a user's new password hash (ENotFound for an unknown
// user) and ends every session of the user but keep.
func SetPassword(ctx context.Context, tx UserTx, userID, hash, keep, reason string) error {
	if found, err := tx.SetPasswordHash(ctx, userID, hash); err != nil {
		return err
	} else if !found {
		return backend.Errorf(backend.ENotFound, "User %s does not exist.", userID)
	}
	_, err := RevokeSessions(ctx, tx, userID, keep, reason)
	return err
}

// SetUserDisabled implements backend.UserService: a disabled user's
// sessions end.
func (w Writes) SetUserDisabled(ctx context.Context, userID string, disabled bool) (*backend.User, error) {
	var u *backend.User
	err := w.Update(ctx, func(tx Steps) (err error) {
		u, err = setUserDisabled(ctx, tx, userID, disabled)
		return err
	})
	return u, err
}

func setUserDisabled(ctx context.Context, tx UserTx, userID string, disabled bool) (*backend.User, error) {
	changed, err := tx.SetDisabled(ctx, userID, disabled)
	if err != nil {
		return nil, err
	}
	u, err := tx.FindUser(ctx, userID)
	if err != nil || !changed {
		return u, err // unknown, or already so
	}
	if disabled {
		if _, err := RevokeSessions(ctx, tx, userID, "", "disabled"); err != nil {
			return u, err
		}
	}
	return u, tx.AppendEvent(ctx, backend.EventUserUpserted, u.ID, u)
}
