package flow

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"time"

	"switchboard/backend"
)

// Sender queues a bot message in a conversation. Production uses
// MessageSender (backend.MessageService.StoreOutbound).
type Sender interface {
	// Send queues text in conv. key is an idempotency key: a second Send
	// with the same key sends nothing.
	Send(ctx context.Context, conv *backend.Conversation, text, key string) error
}

// SenderFunc adapts a function to Sender.
type SenderFunc func(ctx context.Context, conv *backend.Conversation, text, key string) error

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, conv *backend.Conversation, text, key string) error {
	return f(ctx, conv, text, key)
}

// TaskCreator hands a conversation to the router (backend/routing).
type TaskCreator interface {
	// CreateTask creates a routing task for the conversation and returns
	// its id. channel is the kind of work ("chat", "voice", "email").
	CreateTask(ctx context.Context, conversationID, channel string, attrs map[string]any, priority int) (taskID string, err error)
}

// TaskCreatorFunc adapts a function to TaskCreator.
type TaskCreatorFunc func(ctx context.Context, conversationID, channel string, attrs map[string]any, priority int) (string, error)

// CreateTask calls f.
func (f TaskCreatorFunc) CreateTask(ctx context.Context, conversationID, channel string, attrs map[string]any, priority int) (string, error) {
	return f(ctx, conversationID, channel, attrs, priority)
}

// HTTPDoer makes the HTTP widget's requests; *http.Client implements it.
type HTTPDoer interface {
	Do(*http.Request) (*http.Response, error)
}

// ConversationFinder looks conversations up; backend.ConversationService
// implements it.
type ConversationFinder interface {
	FindConversationByID(ctx context.Context, id string) (*backend.Conversation, error)
}

// ContactFinder looks contacts up for {{contact.…}} and splits on contact
// attributes; backend.ContactService implements it.
type ContactFinder interface {
	FindContactByID(ctx context.Context, id string) (*backend.Contact, error)
}

// Defaults of Options.
const (
	DefaultLease    = 2 * time.Minute
	DefaultMaxSteps = 100
	DefaultPoll     = time.Minute
)

// Options configure an Engine. Sender and Tasks are required to send and to
// hand over; without them those widgets take their failure transitions.
type Options struct {
	Clock  Clock
	Sender Sender
	Tasks  TaskCreator
	// Calls lets voice widgets act on live calls (the voice engine).
	Calls CallControl
	// HTTP makes HTTP widget requests (default: a client with no timeout
	// of its own; each widget has one).
	HTTP HTTPDoer
	// Conversations and Contacts are optional lookups: without the first,
	// a timeout runs with a conversation made from the execution; without
	// the second, {{contact.…}} is empty.
	Conversations ConversationFinder
	Contacts      ContactFinder
	// Widgets replaces the widget registry (default DefaultRegistry()).
	Widgets Registry
	// DefaultFlow is the flow of instances that have none of their own
	// (default: DefaultFlow(DefaultFlowOptions{})).
	DefaultFlow *backend.Flow
	// DefaultVoiceFlow is the flow of phone trunks (keys "voice.sip/…")
	// that have none of their own (default:
	// DefaultVoiceFlow(DefaultFlowOptions{})).
	DefaultVoiceFlow *backend.Flow
	// Lease is how long a run may hold an execution before another runner
	// may take it over after a crash (default DefaultLease).
	Lease time.Duration
	// Poll is the longest the timer sleeps, so that deadlines set by other
	// engines on the same store are seen (default DefaultPoll).
	Poll time.Duration
	// MaxSteps bounds the widgets one input may run (default DefaultMaxSteps).
	MaxSteps int
	// TakeOverOnStart makes Start resume every execution left running,
	// whatever its lease. Set it only when this engine is the store's one
	// runner (SQLite): a running execution then belongs to a process that
	// died, and waiting out its lease would hold its conversation's
	// messages back.
	TakeOverOnStart bool
	// Trace, when set, sees every widget run (the flow test command
	// prints them). It must be quick.
	Trace  func(TraceStep)
	NewID  func(prefix string) string
	Logger *slog.Logger
}

// TraceStep describes one widget run.
type TraceStep struct {
	ConversationID string `json:"conversationId"`
	Widget         string `json:"widget"`
	Type           string `json:"type"`
	// Event is the transition taken ("" when the widget waits or ends).
	Event string `json:"event"`
	// Actions lists what the widget did, such as `send "Hello"`.
	Actions []string `json:"actions"`
	// Status is the execution's status after the step when it stops there
	// (waiting, ended, agent, failed), else "".
	Status string `json:"status"`
	Error  string `json:"error"`
}

// Engine runs flows. Its methods are safe for concurrent use.
type Engine struct {
	store backend.FlowService
	// steps saves a step and its replies in one write, and author names the
	// replies, when the Sender is a MessageSender on the engine's own store
	// and that store can (nil otherwise).
	steps  backend.FlowStepService
	author string
	opts   Options
	clock  Clock
	log    *slog.Logger
	def    *Program
	voice  *Program

	mu       sync.Mutex
	programs map[progKey]*Program
	locks    map[string]*convLock
	ctx      context.Context
	started  bool
	closed   bool
	timerAt  time.Time
	stop     func() bool
	firing   sync.Mutex
	wg       sync.WaitGroup
}

type progKey struct {
	key string
	rev int
}

type convLock struct {
	mu sync.Mutex
	n  int
}

// NewEngine returns an engine on store. It fails when the default flow is
// invalid. Call Start to fire timeouts, Close to stop.
func NewEngine(store backend.FlowService, opts Options) (*Engine, error) {
	if opts.Clock == nil {
		opts.Clock = SystemClock{}
	}
	if opts.HTTP == nil {
		opts.HTTP = &http.Client{}
	}
	if opts.Widgets == nil {
		opts.Widgets = VoiceRegistry()
	}
	if opts.DefaultFlow == nil {
		opts.DefaultFlow = DefaultFlow(DefaultFlowOptions{})
	}
	if opts.Lease <= 0 {
		opts.Lease = DefaultLease
	}
	if opts.Poll <= 0 {
		opts.Poll = DefaultPoll
	}
	if opts.MaxSteps <= 0 {
		opts.MaxSteps = DefaultMaxSteps
	}
	if opts.NewID == nil {
		opts.NewID = backend.NewID
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	e := &Engine{store: store, opts: opts, clock: opts.Clock, log: opts.Logger,
		programs: map[progKey]*Program{}, locks: map[string]*convLock{}, ctx: context.Background()}
	if ms, ok := opts.Sender.(MessageSender); ok && sameValue(ms.Messages, store) {
		if st, ok := store.(backend.FlowStepService); ok {
			e.steps, e.author = st, ms.author()
		}
	}
	var err error
	if e.def, err = Compile(opts.DefaultFlow, opts.Widgets); err != nil {
		return nil, fmt.Errorf("default flow: %w", err)
	}
	if opts.DefaultVoiceFlow == nil {
		opts.DefaultVoiceFlow = DefaultVoiceFlow(DefaultFlowOptions{})
	}
	if _, ok := opts.Widgets[TypeGather]; ok {
		if e.voice, err = Compile(opts.DefaultVoiceFlow, opts.Widgets); err != nil {
			return nil, fmt.Errorf("default voice flow: %w", err)
		}
	}
	return e, nil
}

// Validate checks f against the engine's widget registry. The error is a
// *ValidationError (code invalid) listing every problem.
func (e *Engine) Validate(f *backend.Flow) error {
	_, err := Compile(f, e.opts.Widgets)
	return err
}

// SetFlow validates f and saves it as the flow of the channel instance key
// ("connector/instance", see backend.FlowKey). New executions use it;
// executions under way finish on their revision.
func (e *Engine) SetFlow(ctx context.Context, key string, f *backend.Flow) (*backend.FlowRevision, error) {
	if strings.TrimSpace(key) == "" {
		return nil, backend.Errorf(backend.EInvalid, "A flow needs a channel instance.")
	}
	p, err := Compile(f, e.opts.Widgets)
	if err != nil {
		return nil, err
	}
	rev, err := e.store.PutFlow(ctx, key, f)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.programs[progKey{key, rev.Revision}] = p
	e.mu.Unlock()
	return rev, nil
}

// Flow returns the current flow of key, or the default flow as revision 0
// when the instance has none of its own.
func (e *Engine) Flow(ctx context.Context, key string) (*backend.FlowRevision, error) {
	rev, err := e.store.FindFlow(ctx, key)
	if backend.ErrorCode(err) == backend.ENotFound {
		return &backend.FlowRevision{Key: key, Revision: 0, Flow: e.defaultFor(key).Flow()}, nil
	}
	return rev, err
}

// DeleteFlow makes key fall back to the default flow. Returns ENotFound.
func (e *Engine) DeleteFlow(ctx context.Context, key string) error {
	return e.store.DeleteFlow(ctx, key)
}

// Execution returns the flow state of a conversation. Returns ENotFound.
func (e *Engine) Execution(ctx context.Context, conversationID string) (*backend.FlowExecution, error) {
	return e.store.FindFlowExecution(ctx, conversationID)
}

// program returns the compiled flow of (key, rev), compiling and caching it.
func (e *Engine) program(ctx context.Context, key string, rev int) (*Program, error) {
	if rev == 0 {
		return e.defaultFor(key), nil
	}
	e.mu.Lock()
	p := e.programs[progKey{key, rev}]
	e.mu.Unlock()
	if p != nil {
		return p, nil
	}
	r, err := e.store.FindFlowRevision(ctx, key, rev)
	if err != nil {
		return nil, err
	}
	if p, err = Compile(r.Flow, e.opts.Widgets); err != nil {
		return nil, fmt.Errorf("flow %s revision %d: %w", key, rev, err)
	}
	e.mu.Lock()
	e.programs[progKey{key, rev}] = p
	e.mu.Unlock()
	return p, nil
}

// defaultFor returns the built-in flow of an instance with none of its
// own: the voice flow for phone trunks, else the messaging flow.
func (e *Engine) defaultFor(key string) *Program {
	if e.voice != nil && strings.HasPrefix(key, backend.CallChannelSIP+"/") {
		return e.voice
	}
	return e.def
}

// current returns the revision number new executions of key start on.
func (e *Engine) current(ctx context.Context, key string) (int, error) {
	rev, err := e.store.FindFlow(ctx, key)
	if backend.ErrorCode(err) == backend.ENotFound {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	e.mu.Lock()
	_, ok := e.programs[progKey{key, rev.Revision}]
	e.mu.Unlock()
	if !ok {
		p, err := Compile(rev.Flow, e.opts.Widgets)
		if err != nil {
			return 0, fmt.Errorf("flow %s revision %d: %w", key, rev.Revision, err)
		}
		e.mu.Lock()
		e.programs[progKey{key, rev.Revision}] = p
		e.mu.Unlock()
	}
	return rev.Revision, nil
}

// lock takes the per-conversation lock and returns its release.
func (e *Engine) lock(conversationID string) func() {
	e.mu.Lock()
	l := e.locks[conversationID]
	if l == nil {
		l = &convLock{}
		e.locks[conversationID] = l
	}
	l.n++
	e.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		e.mu.Lock()
		if l.n--; l.n == 0 {
			delete(e.locks, conversationID)
		}
		e.mu.Unlock()
	}
}

func (e *Engine) now() time.Time { return e.clock.Now().UTC() }

// SetCalls gives voice widgets the call engine. Call it before the first
// call arrives.
func (e *Engine) SetCalls(c CallControl) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.opts.Calls = c
}

// sameValue reports whether a and b hold the same comparable value (the
// same store).
func sameValue(a, b any) bool {
	if a == nil || b == nil || reflect.TypeOf(a) != reflect.TypeOf(b) || !reflect.TypeOf(a).Comparable() {
		return false
	}
	return a == b
}
