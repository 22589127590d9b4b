package storetx

import (
	"context"

	"switchboard/backend"
)

// InviteTx is the steps of the invitation transactions.
type InviteTx interface {
	Tx
	// EmailTaken reports whether a user has the email address.
	EmailTaken(ctx context.Context, email string) (bool, error)
	// InsertInvite stores an invitation under the hash of its token.
	InsertInvite(ctx context.Context, inv *backend.Invite, tokenHash string) error
}

// CreateInvite stores an invitation (checked by storekit.CheckInvite) for
// an address that has no account yet (EConflict), valid for
// backend.InviteTTL.
func CreateInvite(ctx context.Context, tx InviteTx, inv *backend.Invite, tokenHash string) error {
	if taken, err := tx.EmailTaken(ctx, inv.Email); err != nil {
		return err
	} else if taken {
		return backend.Errorf(backend.EConflict, "%s already has an account.", inv.Email)
	}
	inv.ID, inv.CreatedAt = backend.NewID("inv"), tx.Now()
	inv.ExpiresAt = inv.CreatedAt.Add(backend.InviteTTL)
	return tx.InsertInvite(ctx, inv, tokenHash)
}
