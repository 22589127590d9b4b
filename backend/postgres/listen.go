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
	// LeaderChannel carries the new term when a node takes over routing
	// (for monitoring: the multi-node test times takeovers with it).
	LeaderChannel = "switchboard_leader"
	// relayChannel carries signals that are not kept, for every node
	// (Relay).
	relayChannel = "switchboard_relay"
)

// nodeLocks is, in SQL, the first key of the session advisory lock each
// node holds on its id while it lives (the second key is the id).
const nodeLocks = `x'53420002'::int`

// liveNodes lists, in SQL, the ids of the nodes alive now: those whose
// lock is held (pg_locks shows a two-key advisory lock's keys as classid
// and objid, with objsubid 2).
const liveNodes = `(SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND classid = (` + nodeLocks + `)::oid
	AND objsubid = 2 AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))`

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
	handlers map[string]map[int]func(payload string)
	next     int
	// waiting maps a routing command's id to its caller's wake-up.
	waiting map[string]chan struct{}
}

// register adds this process to the nodes and starts its listener.
func (db *DB) register(ctx context.Context) error {
	if err := db.pool.QueryRow(ctx, `INSERT INTO nodes (name, started_at) VALUES ($1, $2) RETURNING id`, db.Name, db.now()).Scan(&db.node); err != nil {
		return fmt.Errorf("register node: %w", err)
	}
	l := &listener{db: db, done: make(chan struct{}), handlers: map[string]map[int]func(string){}, waiting: map[string]chan struct{}{}}
	l.subscribe(eventsChannel, func(string) { db.wake() })
	l.subscribe(routingDoneChannel, l.answered)
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
		fmt.Sprintf(`SELECT pg_advisory_lock(%s, %d)`, nodeLocks, l.db.node),
		`LISTEN ` + eventsChannel, `LISTEN ` + routingChannel, `LISTEN ` + routingDoneChannel, `LISTEN ` + relayChannel,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			conn.Close(context.Background())
			return nil, fmt.Errorf("listen: %w", err)
		}
	}
	return conn, nil
}

// subscribe adds a handler for a channel's notifications; after a
// reconnection (when notifications may have been missed) it is called with
// an empty payload. stop removes it.
func (l *listener) subscribe(channel string, h func(payload string)) (stop func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.handlers[channel] == nil {
		l.handlers[channel] = map[int]func(string){}
	}
	l.next++
	n := l.next
	l.handlers[channel][n] = h
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		delete(l.handlers[channel], n)
	}
}

// await returns what wakes the caller of routing command id when its
// answer may be there.
func (l *listener) await(id string) <-chan struct{} {
	ch := make(chan struct{}, 1)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.waiting[id] = ch
	return ch
}

// forget stops waking the caller of command id.
func (l *listener) forget(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.waiting, id)
}

// answered wakes the caller of the command named by payload, or every
// caller when payload is empty (after a reconnection).
func (l *listener) answered(payload string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, ch := range l.waiting {
		if payload == "" || id == payload {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
}

// dispatch hands a notification to its channel's handlers (every channel's,
// with an empty payload, when channel is empty).
func (l *listener) dispatch(channel, payload string) {
	l.mu.Lock()
	var hs []func(string)
	for c, byID := range l.handlers {
		if c == channel || channel == "" {
			for _, h := range byID {
				hs = append(hs, h)
			}
		}
	}
	l.mu.Unlock()
	for _, h := range hs {
		h(payload)
	}
}

func (l *listener) run(ctx context.Context, conn *pgx.Conn) {
	defer close(l.done)
	wait := 100 * time.Millisecond
	for {
		n, err := conn.WaitForNotification(ctx)
		if err == nil {
			l.dispatch(n.Channel, n.Payload)
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
		l.dispatch("", "")
	}
}

func (l *listener) close() {
	l.cancel()
	<-l.done
}

// MaxRelay is the largest payload Relay takes (PostgreSQL's NOTIFY takes
// under 8,000 bytes).
const MaxRelay = 7000

// Relay hands payload to the OnRelay subscribers of every node, this one
// included, as the store's commits are: a signal that is not kept (someone
// typing), to reach the desktops and widgets connected to other nodes.
func (db *DB) Relay(ctx context.Context, payload []byte) error {
	if len(payload) > MaxRelay {
		return fmt.Errorf("relay: %d bytes is more than %d", len(payload), MaxRelay)
	}
	if _, err := db.pool.Exec(ctx, `SELECT pg_notify('`+relayChannel+`', $1)`, string(payload)); err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	return nil
}

// OnRelay calls fn with every payload any node relays from now on, until
// stop is called. A payload relayed while this node's connection was being
// restored is lost.
func (db *DB) OnRelay(fn func(payload []byte)) (stop func()) {
	return db.ln.subscribe(relayChannel, func(p string) {
		if p != "" { // "" after a reconnection: nothing to hand on
			fn([]byte(p))
		}
	})
}
