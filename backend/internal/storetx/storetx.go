// Package storetx holds the transaction bodies both stores (backend/sqlite
// and backend/postgres) run: the order of the steps of a write, the
// decisions between them and the events they append. Each store implements
// the primitive steps (find a message by its client id, insert a message,
// lock a thread, …) with its own SQL, so the SQL stays in the stores and
// the logic exists once.
//
// It sits beside storekit, which holds the rules applied to values before
// and after the SQL (validation, passwords, sealing, media rules); storetx
// holds what runs between a store's begin and commit. Every function here
// runs inside the one transaction its caller opened and reads only through
// it.
package storetx

import (
	"context"
	"time"
)

// Tx is what every transaction body needs of a store's write transaction.
type Tx interface {
	// Now returns the transaction's timestamp: one instant for every row
	// it writes.
	Now() time.Time
	// AppendEvent adds an event carrying v to the change log, in the
	// transaction.
	AppendEvent(ctx context.Context, typ, entityID string, v any) error
	// Lock keeps other transactions from taking the same names until the
	// commit, where the store has several writers (a customer's new
	// contact, a thread's new conversation, a customer's access); it
	// reports false, taking nothing, where one writer already keeps them
	// apart.
	Lock(ctx context.Context, names ...string) (bool, error)
}
