// Package routing is Switchboard's TaskRouter-style engine: workers with
// activities and per-channel capacity, queues with target expressions,
// workflows with filters and escalating targets, reservations that offer a
// task to one worker at a time, and live statistics.
//
// The engine keeps its working state in memory for fast decisions and
// writes every decision through the Store in one transaction before it
// answers; on any store error it reloads from the store, so memory never
// runs ahead of what is durable.
package routing

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"switchboard/backend"
)

// Store is what the engine needs from storage; backend/sqlite implements it.
type Store interface {
	// LoadRouting returns the durable routing state.
	LoadRouting(ctx context.Context) (*backend.RoutingSnapshot, error)
	// SaveRouting writes one decision atomically. Returns EConflict when a
	// task would hold two active reservations.
	SaveRouting(ctx context.Context, c *backend.RoutingChange) error
	// FindTask returns a task, open or not. Returns ENotFound.
	FindTask(ctx context.Context, id string) (*backend.Task, error)
}

var _ Store = backend.RoutingStore(nil)

// QueuedStore is a Store whose writes can be queued behind the ones queued
// before them and awaited apart (the SQLite store's group commit). The
// engine then decides the next operations while earlier ones are being
// made durable, so many decisions share one commit; each caller is still
// answered only once its own decision is durable.
type QueuedStore interface {
	Store
	// QueueRouting queues c after every change queued before it, to be
	// written as SaveRouting would, and returns a wait that gives
	// SaveRouting's answer once c is durable (or refused). It keeps c
	// until then.
	QueueRouting(ctx context.Context, c *backend.RoutingChange) (wait func() error)
}

// DefaultReservationTimeout is how long a worker has to answer an offer
// when neither the options nor the workflow say otherwise.
const DefaultReservationTimeout = 30 * time.Second

// Options configure an Engine. The zero value is usable.
type Options struct {
	// Clock defaults to the wall clock.
	Clock Clock
	// ReservationTimeout defaults to DefaultReservationTimeout; a
	// workflow may set its own.
	ReservationTimeout time.Duration
	// TimeoutActivity, when set, is the activity a worker is moved to when
	// an offer to them times out (for example "Offline").
	TimeoutActivity string
	// WrapUpLimit, when set, ends wrap-up by itself after this long for
	// tasks whose workflow sets no limit of its own.
	WrapUpLimit time.Duration
	// NewID makes identifiers; defaults to backend.NewID.
	NewID  func(prefix string) string
	Logger *slog.Logger
}

// Engine routes tasks to workers. Its methods are safe for concurrent use.
type Engine struct {
	store Store
	opts  Options
	clock Clock
	log   *slog.Logger

	mu      sync.Mutex
	started bool
	closed  bool
	ctx     context.Context // for timer-driven writes
	ev      *evaluator

	activities map[string]*backend.Activity
	workers    map[string]*worker
	avail      workerSet // available workers, longest idle first
	// roomy lists, per task channel, the available workers with room for
	// one more task of it, longest idle first; built on first use.
	roomy     map[string]workerSet
	queues    map[string]*queue
	queueList []*queue // by ID
	workflows map[string]*workflow
	tasks     map[string]*task          // open tasks
	byConv    map[string]map[*task]bool // open tasks by conversation
	res       map[string]*backend.Reservation

	deadlines deadlineHeap
	dlSeq     int
	timerStop func() bool
	timerAt   time.Time

	dirty      changeSet
	redispatch bool
	broken     bool // the last reload failed
	// freed and waiting hold the workers and tasks the current change
	// made ready, until settle offers work.
	freed   []*worker
	waiting []*task

	// debug enables the checks the simulation test relies on.
	debug      bool
	violations []string
}

// worker is a backend.Worker plus what the engine derives from it.
type worker struct {
	w *backend.Worker
	// version bumps when attributes change, invalidating cached matches.
	version  int
	load     map[string]int
	res      map[string]*backend.Reservation // active, by ID
	elig     map[*queue]bool                 // queue target with no task attributes
	inRoomy  map[string]bool                 // channels whose roomy list holds w
	counters backend.RoutingCounters
}

// queue is a backend.Queue with its compiled target and waiting tasks.
type queue struct {
	q       *backend.Queue
	target  *program
	pending []*task // in offer order
	// pendingOn counts the waiting tasks of each channel.
	pendingOn map[string]int
	byState   map[string]int
	// eligible and available count workers whose elig entry is true;
	// members are those workers (they serve the queue).
	eligible, available int
	members             map[*worker]bool
	counters            backend.RoutingCounters
}

// workflow is a backend.Workflow with compiled filters and targets.
type workflow struct {
	wf      *backend.Workflow
	filters []*program
	targets [][]*program // per filter; the last entry is the default
}

// task is an open backend.Task with its runtime links.
type task struct {
	t        *backend.Task
	rejected map[string]bool
	res      *backend.Reservation // active reservation, if any
	target   *program             // the current workflow target's expression
}

// changeSet collects what the current operation touched, in order.
type changeSet struct {
	seen         map[any]bool
	activities   []*backend.Activity
	workers      []*backend.Worker
	queues       []*backend.Queue
	workflows    []*backend.Workflow
	tasks        []*backend.Task
	reservations []*backend.Reservation
	queueStats   []*queue
	workerStats  []*worker
	missed       []*backend.MissedOffer
	// access marks conversations whose workers may have changed;
	// finished maps a conversation to the user who completed its task.
	access         map[string]bool
	finished       map[string]string
	accessComplete bool
	// deleted* name what an admin removed in this change.
	deletedQueues, deletedWorkflows, deletedWorkers []string
}

// New returns an engine on store; call Start before use.
func New(store Store, opts Options) *Engine {
	if opts.Clock == nil {
		opts.Clock = SystemClock{}
	}
	if opts.ReservationTimeout <= 0 {
		opts.ReservationTimeout = DefaultReservationTimeout
	}
	if opts.NewID == nil {
		opts.NewID = backend.NewID
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	e := &Engine{store: store, opts: opts, clock: opts.Clock, log: opts.Logger, ev: newEvaluator()}
	e.reset()
	return e
}

func (e *Engine) reset() {
	e.activities = map[string]*backend.Activity{}
	e.workers = map[string]*worker{}
	e.avail = newWorkerSet()
	e.roomy = map[string]workerSet{}
	e.queues = map[string]*queue{}
	e.queueList = nil
	e.workflows = map[string]*workflow{}
	e.tasks = map[string]*task{}
	e.byConv = map[string]map[*task]bool{}
	e.res = map[string]*backend.Reservation{}
	e.deadlines = nil
	e.freed, e.waiting = nil, nil
	e.dirty = changeSet{seen: map[any]bool{}}
}

// Start loads the state from the store, re-offers pending reservations
// (expiring those whose time passed), routes waiting tasks and arms the
// timer. ctx bounds the timer-driven writes until Close.
func (e *Engine) Start(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.started {
		return fmt.Errorf("routing: already started")
	}
	e.ctx = ctx
	if err := e.load(ctx); err != nil {
		return fmt.Errorf("start routing: %w", err)
	}
	e.ensureDefaultActivities()
	for _, r := range e.res {
		if r.State == backend.ReservationPending {
			e.touchReservation(r) // publish the offer again
		}
	}
	e.started = true
	e.markAllAccess()
	return e.finish(ctx, true)
}

// Close stops the timer. Later calls return EUnavailable. It does not
// close the store.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	if e.timerStop != nil {
		e.timerStop()
		e.timerStop = nil
	}
	return nil
}

// begin locks the engine for an operation; the caller must call e.mu.Unlock.
func (e *Engine) begin() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return backend.Errorf(backend.EUnavailable, "The router is shut down.")
	} else if !e.started {
		e.mu.Unlock()
		return backend.Errorf(backend.EUnavailable, "The router has not started.")
	}
	if e.broken {
		if err := e.load(e.ctx); err != nil {
			e.mu.Unlock()
			e.log.Error("routing: reload", "err", err)
			return backend.Errorf(backend.EUnavailable, "The router cannot reach its store.")
		}
		e.broken, e.redispatch = false, true
	}
	return nil
}

// now returns the clock's time in UTC.
func (e *Engine) now() time.Time { return e.clock.Now().UTC() }

// finish runs what fell due, optionally routes everything that waits,
// writes the change set and re-arms the timer.
func (e *Engine) finish(ctx context.Context, dispatchAll bool) error {
	e.settle()
	e.runDue()
	if dispatchAll || e.redispatch {
		e.redispatch = false
		e.dispatchAll()
	}
	err := e.commit(ctx)
	e.arm()
	return err
}

// commit writes the change set. On failure the engine reloads its state
// from the store, so memory never holds what the store refused.
func (e *Engine) commit(ctx context.Context) error {
	c := e.dirty.change(e.now())
	c.Access, c.AccessComplete = e.accessChanges(e.dirty.access, e.dirty.finished), e.dirty.accessComplete
	e.dirty = changeSet{seen: map[any]bool{}}
	if c.Empty() {
		return nil
	}
	var err error
	if qs, ok := e.store.(QueuedStore); ok {
		err = e.commitQueued(ctx, qs, c)
	} else {
		err = e.store.SaveRouting(ctx, c)
	}
	if err == nil {
		return nil
	}
	if lerr := e.load(ctx); lerr != nil {
		// Memory is empty now: refuse work until the store is back.
		e.log.Error("routing: reload after failed write", "err", lerr)
		e.broken = true
	}
	e.redispatch = true // offer what waits on the next operation
	if backend.ErrorCode(err) == backend.EInternal {
		return fmt.Errorf("save routing: %w", err)
	}
	return err
}

// commitQueued queues a copy of c (the engine goes on changing its own
// objects) and waits for it with the engine unlocked, so other operations
// decide meanwhile and their changes join the same commit. The change is
// queued whatever the caller's context says: later changes build on it.
// After a refusal it waits for every change queued behind it, so the
// reload that follows sees them.
func (e *Engine) commitQueued(ctx context.Context, qs QueuedStore, c *backend.RoutingChange) error {
	ctx = context.WithoutCancel(ctx)
	wait := qs.QueueRouting(ctx, snapshot(c))
	e.mu.Unlock()
	err := wait()
	e.mu.Lock()
	if err != nil {
		qs.QueueRouting(ctx, &backend.RoutingChange{})()
	}
	return err
}

func (cs *changeSet) change(now time.Time) *backend.RoutingChange {
	c := &backend.RoutingChange{
		Activities: cs.activities, Workers: cs.workers, Queues: cs.queues, Workflows: cs.workflows,
		Tasks: cs.tasks, Reservations: cs.reservations, MissedOffers: cs.missed,
		DeletedQueues: cs.deletedQueues, DeletedWorkflows: cs.deletedWorkflows, DeletedWorkers: cs.deletedWorkers,
	}
	for _, q := range cs.queueStats {
		c.QueueStats = append(c.QueueStats, q.stats(now))
	}
	for _, w := range cs.workerStats {
		c.WorkerStats = append(c.WorkerStats, w.stats())
	}
	return c
}

func (cs *changeSet) mark(key any) bool {
	if cs.seen[key] {
		return false
	}
	cs.seen[key] = true
	return true
}

func (e *Engine) touchActivity(a *backend.Activity) {
	if e.dirty.mark(a) {
		e.dirty.activities = append(e.dirty.activities, a)
	}
}

func (e *Engine) touchWorker(w *worker) {
	if e.dirty.mark(w.w) {
		e.dirty.workers = append(e.dirty.workers, w.w)
	}
}

func (e *Engine) touchWorkerStats(w *worker) {
	if e.dirty.mark(w) {
		e.dirty.workerStats = append(e.dirty.workerStats, w)
	}
}

func (e *Engine) touchQueue(q *queue) {
	if e.dirty.mark(q.q) {
		e.dirty.queues = append(e.dirty.queues, q.q)
	}
}

func (e *Engine) touchQueueStats(q *queue) {
	if q != nil && e.dirty.mark(q) {
		e.dirty.queueStats = append(e.dirty.queueStats, q)
	}
}

func (e *Engine) touchWorkflow(wf *backend.Workflow) {
	if e.dirty.mark(wf) {
		e.dirty.workflows = append(e.dirty.workflows, wf)
	}
}

func (e *Engine) touchTask(t *task) {
	t.t.UpdatedAt = e.now()
	e.touchAccess(t.t.ConversationID)
	if e.dirty.mark(t.t) {
		e.dirty.tasks = append(e.dirty.tasks, t.t)
	}
	e.touchQueueStats(e.queues[t.t.QueueID])
}

func (e *Engine) touchReservation(r *backend.Reservation) {
	if e.dirty.mark(r) {
		e.dirty.reservations = append(e.dirty.reservations, r)
	}
}

// ensureDefaultActivities adds Available, Break, Lunch and Offline when
// missing.
func (e *Engine) ensureDefaultActivities() {
	now := e.now()
	for _, a := range []backend.Activity{
		{Name: backend.ActivityAvailable, Available: true},
		{Name: backend.ActivityBreak}, {Name: backend.ActivityLunch}, {Name: backend.ActivityOffline},
	} {
		if _, ok := e.activities[a.Name]; !ok {
			a.CreatedAt, a.UpdatedAt = now, now
			e.activities[a.Name] = &a
			e.touchActivity(&a)
		}
	}
}
