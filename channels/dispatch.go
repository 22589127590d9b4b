package channels

import (
	"context"
	"fmt"
	"sync"
	"time"

	"switchboard/backend"
)

// inboundCursor names the durable cursor of the OnInbound dispatcher.
const inboundCursor = "inbound.dispatch"

// inboundIdle is how long the dispatcher sleeps with nothing to do when no
// commit wakes it, and the longest wait before a refused message is tried
// again.
const inboundIdle = 5 * time.Second

const (
	// MaxRedelivered bounds, per conversation, the messages handed over
	// while an older message (of another conversation) is not handed over
	// yet, so the durable cursor is still before them: after a crash they
	// are handed over again. A consumer that remembers the last 16 message
	// ids of a conversation (flows do) drops every such repeat.
	MaxRedelivered = 8
	// maxOutstanding bounds the messages read but not yet behind the cursor.
	maxOutstanding = 4096
	// inboundPage is how many messages one read takes.
	inboundPage = 256
	// DefaultInboundParallel is how many conversations are handed over at
	// once unless Options.InboundParallel says otherwise.
	DefaultInboundParallel = 64
)

// inboundEntry is one message the dispatcher read.
type inboundEntry struct {
	seq     int64
	msg     *backend.Message
	handled bool
}

// convQueue is one conversation's messages waiting to be handed over.
type convQueue struct {
	id      string
	waiting []*inboundEntry
	// busy: a worker or a retry wait has the conversation.
	busy bool
	// failed: a message was refused and this pass does not retry.
	failed bool
	// beyond counts its handled messages still after the cursor.
	beyond int
	wait   time.Duration // the next retry's wait
}

// dispatcher hands inbound messages to OnInbound: in store order within a
// conversation, one at a time; conversations in parallel. It keeps the
// durable cursor before the oldest message not handed over yet.
type dispatcher struct {
	h *Hub
	// retry: a refused message is tried again after a wait (the background
	// dispatcher); otherwise its conversation stops for this pass.
	retry bool
	ready chan *convQueue

	mu          sync.Mutex
	readTo      int64 // messages up to here were read
	cursor      int64 // messages up to here were handed over
	outstanding []*inboundEntry
	convs       map[string]*convQueue
	active      int // conversations busy
	firstErr    error
	progress    chan struct{} // something was handed over or refused
	room        chan struct{} // the window had no room and now has
	cursorMoved chan struct{}
}

func newDispatcher(h *Hub, cursor int64, retry bool) *dispatcher {
	return &dispatcher{h: h, retry: retry, ready: make(chan *convQueue, maxOutstanding), readTo: cursor, cursor: cursor,
		convs: map[string]*convQueue{}, progress: make(chan struct{}, 1), room: make(chan struct{}, 1), cursorMoved: make(chan struct{}, 1)}
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// parallel is how many conversations are handed over at once.
func (h *Hub) parallel() int {
	if h.opts.InboundParallel > 0 {
		return h.opts.InboundParallel
	}
	return DefaultInboundParallel
}

// fill reads new messages into the conversations' queues while the window
// has room, and schedules the conversations that can go on.
func (d *dispatcher) fill(ctx context.Context) (read int, err error) {
	for {
		d.mu.Lock()
		room, from := maxOutstanding-len(d.outstanding), d.readTo
		d.mu.Unlock()
		if room <= 0 {
			return read, nil
		}
		msgs, seqs, err := d.h.store.InboundAfter(ctx, from, min(room, inboundPage))
		if err != nil || len(msgs) == 0 {
			return read, err
		}
		d.mu.Lock()
		for i, m := range msgs {
			e := &inboundEntry{seq: seqs[i], msg: m}
			d.outstanding = append(d.outstanding, e)
			q := d.convs[m.ConversationID]
			if q == nil {
				q = &convQueue{id: m.ConversationID}
				d.convs[q.id] = q
			}
			q.waiting = append(q.waiting, e)
			d.readTo = e.seq
			d.schedule(q)
		}
		d.mu.Unlock()
		read += len(msgs)
		if len(msgs) < min(room, inboundPage) {
			return read, nil
		}
	}
}

// schedule hands q to a worker when it has work it may do now; d.mu is held.
func (d *dispatcher) schedule(q *convQueue) {
	if q.busy || q.failed || len(q.waiting) == 0 || q.beyond >= MaxRedelivered {
		return
	}
	q.busy = true
	d.active++
	d.ready <- q // never blocks: a conversation is in ready at most once
}

// work runs conversations until ctx ends.
func (d *dispatcher) work(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case q := <-d.ready:
			d.drain(ctx, q)
		}
	}
}

// drain hands q's messages over in order until it has none it may hand
// over now, or one is refused.
func (d *dispatcher) drain(ctx context.Context, q *convQueue) {
	for {
		d.mu.Lock()
		if len(q.waiting) == 0 || q.beyond >= MaxRedelivered || ctx.Err() != nil {
			d.release(q)
			d.mu.Unlock()
			return
		}
		e := q.waiting[0]
		d.mu.Unlock()
		err := d.h.opts.OnInbound(ctx, e.msg)
		d.mu.Lock()
		if err != nil && ctx.Err() != nil {
			d.release(q)
			d.mu.Unlock()
			return
		}
		if code := backend.ErrorCode(err); err != nil && code != backend.EInvalid && code != backend.ENotFound {
			d.refused(ctx, q, fmt.Errorf("hand over message %s: %w", e.msg.ID, err))
			d.mu.Unlock()
			return
		} else if err != nil {
			d.h.log.Error("inbound message can never be handled; moving past it", "message", e.msg.ID, "error", err)
		}
		q.wait = 0
		q.waiting = q.waiting[1:]
		e.handled = true
		q.beyond++
		d.advance()
		signal(d.progress)
		d.mu.Unlock()
	}
}

// release ends a worker's turn with q; d.mu is held.
func (d *dispatcher) release(q *convQueue) {
	q.busy = false
	d.active--
	if len(q.waiting) == 0 && q.beyond == 0 {
		delete(d.convs, q.id)
	}
	signal(d.progress)
}

// refused handles a refusal: the background dispatcher tries the same
// message again after a growing wait, holding back only its conversation;
// a single pass stops the conversation. d.mu is held.
func (d *dispatcher) refused(ctx context.Context, q *convQueue, err error) {
	if d.firstErr == nil {
		d.firstErr = err
	}
	if !d.retry {
		q.failed = true
		d.release(q)
		return
	}
	wait := q.wait
	if wait == 0 {
		wait = d.h.opts.InboundRetry
	}
	q.wait = min(2*wait, inboundIdle)
	d.h.log.Warn("inbound message not handed over yet; retrying", "error", err, "wait", wait)
	after := d.h.clock.After(wait)
	d.h.wg.Add(1)
	go func() {
		defer d.h.wg.Done()
		select {
		case <-ctx.Done():
			d.mu.Lock()
			d.release(q)
			d.mu.Unlock()
		case <-after:
			d.ready <- q // still busy: no one else took it meanwhile
		}
	}()
}

// advance moves the cursor past the handled messages at the front of the
// window; d.mu is held.
func (d *dispatcher) advance() {
	full := len(d.outstanding) >= maxOutstanding
	n := 0
	for n < len(d.outstanding) && d.outstanding[n].handled {
		e := d.outstanding[n]
		d.cursor = e.seq
		if q := d.convs[e.msg.ConversationID]; q != nil {
			q.beyond--
			if !q.busy && len(q.waiting) == 0 && q.beyond == 0 {
				delete(d.convs, q.id)
			} else {
				d.schedule(q)
			}
		}
		n++
	}
	if n == 0 {
		return
	}
	clear(d.outstanding[:n])
	d.outstanding = d.outstanding[n:]
	signal(d.cursorMoved)
	if full {
		signal(d.room)
	}
}

// DispatchInbound hands the inbound messages stored since the last call to
// OnInbound and returns when it has caught up: each conversation's messages
// in order, conversations in parallel. A conversation stops at a message
// OnInbound refuses (the cursor stays before it) and the first such error
// is returned; see Options.OnInbound. Start runs the same in the
// background; tests may call it directly.
func (h *Hub) DispatchInbound(ctx context.Context) error {
	if h.opts.OnInbound == nil {
		return nil
	}
	cursor, err := h.store.ChannelCursor(ctx, inboundCursor)
	if err != nil {
		return err
	}
	d := newDispatcher(h, cursor, false)
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for range h.parallel() {
		wg.Add(1)
		go func() { defer wg.Done(); d.work(wctx) }()
	}
	defer func() { stop(); wg.Wait() }()
	for ctx.Err() == nil {
		n, err := d.fill(ctx)
		if err != nil {
			return err
		}
		d.mu.Lock()
		for d.active > 0 {
			d.mu.Unlock()
			<-d.progress
			d.mu.Lock()
		}
		d.mu.Unlock()
		if n == 0 {
			break
		}
	}
	d.mu.Lock()
	cursor, err = d.cursor, d.firstErr
	d.mu.Unlock()
	if e := h.store.SetChannelCursor(ctx, inboundCursor, cursor); e != nil {
		return e
	}
	if err == nil {
		err = ctx.Err()
	}
	return err
}

// RunInbound is the background dispatcher, until ctx ends: it reads new
// messages as they are committed, hands them over on h.parallel() workers,
// retries refused ones after a growing wait (only their conversation
// waits), and saves the cursor as it moves. Start runs it unless
// Options.ManualInbound is set.
func (h *Hub) RunInbound(ctx context.Context) {
	if h.opts.OnInbound == nil {
		return
	}
	cursor, err := h.store.ChannelCursor(ctx, inboundCursor)
	for err != nil {
		h.log.Warn("inbound cursor not readable yet; retrying", "error", err)
		select {
		case <-ctx.Done():
			return
		case <-h.clock.After(h.opts.InboundRetry):
		}
		cursor, err = h.store.ChannelCursor(ctx, inboundCursor)
	}
	d := newDispatcher(h, cursor, true)
	h.dispatch.Store(d)
	defer h.dispatch.CompareAndSwap(d, nil) // a node that stops leading has no backlog of its own
	var wg sync.WaitGroup
	for range h.parallel() {
		wg.Add(1)
		go func() { defer wg.Done(); d.work(ctx) }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); d.saveCursor(ctx, cursor) }()
	defer wg.Wait()
	notify, stop := h.store.Notify()
	defer stop()
	for {
		if _, err := d.fill(ctx); err != nil && ctx.Err() == nil {
			h.log.Warn("inbound messages not readable; retrying", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-h.wakeInbound:
		case <-notify:
		case <-d.room:
		case <-h.clock.After(inboundIdle):
		}
	}
}

// saveCursor writes the cursor whenever it moved, coalescing moves made
// while a write is under way.
func (d *dispatcher) saveCursor(ctx context.Context, saved int64) {
	for {
		select {
		case <-ctx.Done():
			// Save what was reached, so a clean stop redelivers nothing.
			d.mu.Lock()
			cursor := d.cursor
			d.mu.Unlock()
			if cursor > saved {
				d.h.store.SetChannelCursor(context.WithoutCancel(ctx), inboundCursor, cursor)
			}
			return
		case <-d.cursorMoved:
		}
		d.mu.Lock()
		cursor := d.cursor
		d.mu.Unlock()
		if cursor <= saved {
			continue
		}
		if err := d.h.store.SetChannelCursor(ctx, inboundCursor, cursor); err != nil {
			if ctx.Err() == nil {
				d.h.log.Warn("inbound cursor not saved; trying again at the next move", "error", err)
			}
			continue
		}
		saved = cursor
	}
}

// InboundBacklog is how far the dispatcher is behind the store.
type InboundBacklog struct {
	// Pending counts messages read but not handed over yet; Oldest is how
	// long the oldest of them has waited since it was stored.
	Pending int
	Oldest  time.Duration
	// Held counts conversations that wait for an older message of another
	// conversation (MaxRedelivered of theirs are past the cursor).
	Held int
}

// InboundBacklog returns the background dispatcher's backlog (zero before
// Start).
func (h *Hub) InboundBacklog() InboundBacklog {
	d := h.dispatch.Load()
	if d == nil {
		return InboundBacklog{}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var b InboundBacklog
	for _, e := range d.outstanding {
		if e.handled {
			continue
		}
		if b.Pending == 0 {
			b.Oldest = max(h.clock.Now().Sub(e.msg.CreatedAt), 0)
		}
		b.Pending++
	}
	for _, q := range d.convs {
		if !q.busy && len(q.waiting) > 0 && q.beyond >= MaxRedelivered {
			b.Held++
		}
	}
	return b
}
