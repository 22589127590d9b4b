package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Notification channels the nodes share.
const (
	// eventsChannel carries the newest sequence after every commit that
	// appended events.
	eventsChannel = "switchboard_events"
	// routingChannel wakes the routing leader: a command waits.
	routingChannel = "switchboard_routing"
	// routingDoneChannel carries the id of a command the leader answered.
	routingDoneChannel = "switchboard_routing_done"
)

// nodeLocks is the first key of the session advisory lock each node holds
// on its id while it lives (the second key is the id).
const nodeLocks = 0x53420002

// liveNodes lists, in SQL, the ids of the nodes alive now: those whose
// lock is held.
const liveNodes = `(SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND classid = 1397882882 AND objsubid = 2
	AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))`

// keepalive makes the server notice within seconds a node whose machine or
// network went away (on TCP; a process that dies closes its socket at once),
// so its locks are released: its leadership among them.
var keepalive = map[string]string{
	"tcp_keepalives_idle": "2", "tcp_keepalives_interval": "1", "tcp_keepalives_count": "3", "tcp_user_timeout": "5000",
	"application_name": "switchboard",
}

// connect opens a connection of its own (outside the pool) with keepalives.
func (db *DB) connect(ctx context.Context) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(db.URL)
	if err != nil {
		return nil, err
	}
	for k, v := range keepalive {
		cfg.RuntimeParams[k] = v
	}
	return pgx.ConnectConfig(ctx, cfg)
}

// listener is the node's own connection: it holds the node's lock and
// receives the other nodes' notifications, handing each to the handlers of
// its channel. When the connection breaks it reconnects (taking the lock
// again) and tells the handlers, which may have missed notifications.
type listener struct {
	db     *DB
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	handlers map[string][]func(payload string)
	resumed  []func()
}

// register adds this process to the nodes and starts its listener.
func (db *DB) register(ctx context.Context) error {
	if err := db.pool.QueryRow(ctx, `INSERT INTO nodes (name, started_at) VALUES ($1, $2) RETURNING id`, db.Name, db.now()).Scan(&db.node); err != nil {
		return fmt.Errorf("register node: %w", err)
	}
	l := &listener{db: db, done: make(chan struct{}), handlers: map[string][]func(string){}}
	l.on(eventsChannel, func(string) { db.wake() })
	l.onResume(db.wake)
	conn, err := l.connect(ctx)
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	l.cancel, db.ln = cancel, l
	go l.run(runCtx, conn)
	return nil
}

// Node returns this process's node id.
func (db *DB) Node() int64 { return db.node }

func (l *listener) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := l.db.connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	for _, q := range []string{
		fmt.Sprintf(`SELECT pg_advisory_lock(%d, %d)`, nodeLocks, l.db.node),
		`LISTEN ` + eventsChannel, `LISTEN ` + routingChannel, `LISTEN ` + routingDoneChannel,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			conn.Close(context.Background())
			return nil, fmt.Errorf("listen: %w", err)
		}
	}
	return conn, nil
}

// on adds a handler for a channel's notifications.
func (l *listener) on(channel string, h func(payload string)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.handlers[channel] = append(l.handlers[channel], h)
}

// onResume adds a function called after a reconnection.
func (l *listener) onResume(f func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.resumed = append(l.resumed, f)
}

func (l *listener) run(ctx context.Context, conn *pgx.Conn) {
	defer close(l.done)
	wait := 100 * time.Millisecond
	for {
		n, err := conn.WaitForNotification(ctx)
		if err == nil {
			l.mu.Lock()
			hs := l.handlers[n.Channel]
			l.mu.Unlock()
			for _, h := range hs {
				h(n.Payload)
			}
			continue
		}
		conn.Close(context.Background())
		if ctx.Err() != nil {
			return
		}
		l.db.Logger.Warn("postgres: lost the notification connection; reconnecting", "error", err)
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			if conn, err = l.connect(ctx); err == nil {
				break
			}
			wait = min(2*wait, 5*time.Second)
		}
		wait = 100 * time.Millisecond
		l.mu.Lock()
		resumed := l.resumed
		l.mu.Unlock()
		for _, f := range resumed {
			f()
		}
	}
}

func (l *listener) close() {
	l.cancel()
	<-l.done
}
