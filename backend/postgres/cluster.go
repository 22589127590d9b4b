package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"switchboard/backend"
)

// The nodes elect one routing leader: whoever holds the session advisory
// lock leaderLock. Taking it blocks until the holder's session ends (its
// process exits or dies, or the server notices its machine is gone), so
// followers wait without polling. A new leader bumps the term in
// routing_leader; its routing writes check the term under a share lock,
// so a deposed leader can never commit beside its successor.

// leaderLock is the advisory lock of the routing leadership.
const leaderLock = 0x53420003

// Campaign blocks until this node holds the routing leadership (or ctx
// ends), then returns its term: the epoch, a channel closed when the
// leadership is lost (its connection broke), and resign, which gives it up.
// Commands a deposed leader left under way are answered as failed.
func (db *DB) Campaign(ctx context.Context) (epoch int64, lost <-chan struct{}, resign func(), err error) {
	conn, err := db.connect(ctx)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("campaign: %w", err)
	}
	fail := func(err error) (int64, <-chan struct{}, func(), error) {
		conn.Close(context.Background())
		return 0, nil, nil, fmt.Errorf("campaign: %w", err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, leaderLock); err != nil {
		return fail(err)
	}
	if epoch, err = db.promote(ctx); err != nil {
		return fail(err)
	}
	done := make(chan struct{})
	stop, cancel := context.WithCancel(context.Background())
	var once sync.Once
	go func() {
		// The connection only waits: it returns when it breaks or on resign.
		for {
			if _, err := conn.WaitForNotification(stop); err != nil {
				break
			}
		}
		conn.Close(context.Background())
		once.Do(func() { close(done) })
	}()
	return epoch, done, func() { cancel(); <-done }, nil
}

// promote starts a new term and fails the commands the last leader left
// under way (they may or may not have taken effect; their callers are told
// to try again).
func (db *DB) promote(ctx context.Context) (int64, error) {
	var epoch int64
	err := db.update(ctx, func(tx *Tx) error {
		if err := tx.QueryRow(ctx, `UPDATE routing_leader SET epoch = epoch + 1, node = $1, since = $2 WHERE id = 1 RETURNING epoch`,
			db.node, tx.Now()).Scan(&epoch); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `WITH failed AS (UPDATE routing_commands SET state = 'done', error_code = $1, error_message = $2
			WHERE state = 'running' RETURNING id)
			SELECT pg_notify('`+routingDoneChannel+`', id) FROM failed`, backend.EUnavailable,
			"The routing leader changed while this was under way; try again.")
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `SELECT pg_notify('`+LeaderChannel+`', $1::bigint::text)`, epoch)
		return err
	})
	return epoch, err
}

// fenced is the routing store of one leader's term: its writes are refused
// once another node took over.
type fenced struct {
	db    *DB
	epoch int64
}

// RoutingStore returns the routing store of the term epoch (see Campaign).
func (db *DB) RoutingStore(epoch int64) backend.RoutingStore { return fenced{db, epoch} }

// LoadRouting implements backend.RoutingStore.
func (f fenced) LoadRouting(ctx context.Context) (*backend.RoutingSnapshot, error) {
	return f.db.LoadRouting(ctx)
}

// FindTask implements backend.RoutingStore.
func (f fenced) FindTask(ctx context.Context, id string) (*backend.Task, error) {
	return f.db.FindTask(ctx, id)
}

// SaveRouting implements backend.RoutingStore, unless the term is over
// (EUnavailable).
func (f fenced) SaveRouting(ctx context.Context, c *backend.RoutingChange) error {
	return f.db.update(ctx, func(tx *Tx) error {
		var current int64
		if err := tx.QueryRow(ctx, `SELECT epoch FROM routing_leader WHERE id = 1 FOR SHARE`).Scan(&current); err != nil {
			return fmt.Errorf("routing term: %w", err)
		}
		if current != f.epoch {
			return backend.Errorf(backend.EUnavailable, "This node no longer leads routing (term %d, now %d).", f.epoch, current)
		}
		return saveRouting(ctx, tx, c)
	})
}

// command is a routing command as the leader runs it.
type command struct {
	id, method string
	args       []byte
}

// CallRouting hands a routing command (a method name and its JSON
// arguments) to the leader, waits for its answer and returns its JSON
// result, or its error with the leader's code and sentence. Without an
// answer before ctx ends it returns EUnavailable.
func (db *DB) CallRouting(ctx context.Context, method string, args []byte) ([]byte, error) {
	id := backend.NewID("rc")
	wake := db.ln.await(id)
	defer db.ln.forget(id)
	if _, err := db.pool.Exec(ctx, `WITH c AS (INSERT INTO routing_commands (id, method, args, state, created_at)
		VALUES ($1, $2, $3, 'pending', $4) RETURNING id) SELECT pg_notify('`+routingChannel+`', id) FROM c`,
		id, method, string(args), db.now()); err != nil {
		return nil, fmt.Errorf("routing command: %w", err)
	}
	for {
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, db.abandon(id)
		}
		var state, code, message, reason string
		var result []byte
		err := db.pool.QueryRow(context.WithoutCancel(ctx), `DELETE FROM routing_commands WHERE id = $1 AND state = 'done'
			RETURNING state, COALESCE(result::text, 'null'), error_code, error_message, error_reason`, id).
			Scan(&state, &result, &code, &message, &reason)
		if errors.Is(err, pgx.ErrNoRows) {
			continue // woken by a reconnection, not by the answer
		} else if err != nil {
			return nil, fmt.Errorf("routing answer: %w", err)
		}
		if code != "" {
			return nil, &backend.Error{Code: code, Message: message, Reason: reason}
		}
		return result, nil
	}
}

// abandon withdraws a command nobody answered in time.
func (db *DB) abandon(id string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	db.pool.Exec(ctx, `DELETE FROM routing_commands WHERE id = $1`, id)
	return backend.Errorf(backend.EUnavailable, "The router did not answer in time; try again.")
}

// ServeRouting runs, as the leader of term epoch, every command other nodes
// hand it (claimed with SKIP LOCKED, each once) with handle, until ctx
// ends. It wakes on their notifications.
func (db *DB) ServeRouting(ctx context.Context, epoch int64, handle func(ctx context.Context, method string, args []byte) ([]byte, error)) error {
	wake := make(chan struct{}, 1)
	signal := func(string) {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	stop := db.ln.subscribe(routingChannel, signal)
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		cmds, err := collect(ctx, db.pool, func(s scanner) (command, error) {
			var c command
			return c, s.Scan(&c.id, &c.method, &c.args)
		}, `UPDATE routing_commands SET state = 'running', epoch = $1 WHERE id IN (SELECT id FROM routing_commands
			WHERE state = 'pending' ORDER BY created_at LIMIT 64 FOR UPDATE SKIP LOCKED) RETURNING id, method, args::text`, epoch)
		if err != nil && ctx.Err() == nil {
			db.Logger.Error("routing commands", "error", err)
		}
		for _, c := range cmds {
			wg.Add(1)
			go func() {
				defer wg.Done()
				db.answer(ctx, epoch, c, handle)
			}()
		}
		if err != nil {
			select { // the retry's wait
			case <-ctx.Done():
				return nil
			case <-time.After(time.Second):
			}
			continue
		}
		if len(cmds) > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		}
	}
}

// answer runs one command and stores its result for the caller.
func (db *DB) answer(ctx context.Context, epoch int64, c command, handle func(context.Context, string, []byte) ([]byte, error)) {
	result, err := handle(ctx, c.method, c.args)
	code, message, reason := "", "", ""
	if err != nil {
		code, message, reason = backend.ErrorCode(err), backend.ErrorMessage(err), backend.ErrorReason(err)
		if code == backend.EInternal {
			db.Logger.Error("routing command", "method", c.method, "error", err)
		}
		result = nil
	} else if !json.Valid(result) {
		result = []byte("null")
	}
	var res any
	if result != nil {
		res = string(result)
	}
	if _, err := db.pool.Exec(context.WithoutCancel(ctx), `WITH d AS (UPDATE routing_commands SET state = 'done', result = $2,
		error_code = $3, error_message = $4, error_reason = $6 WHERE id = $1 AND epoch = $5 RETURNING id)
		SELECT pg_notify('`+routingDoneChannel+`', id) FROM d`,
		c.id, res, code, message, epoch, reason); err != nil {
		db.Logger.Error("routing answer", "method", c.method, "error", err)
	}
}
