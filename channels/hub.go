package channels

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"switchboard/backend"
)

// Store is what the Hub needs from the engine's store.
type Store interface {
	backend.ChannelService
	backend.MediaService
	// StoreInbound stores a message once per platform id.
	StoreInbound(ctx context.Context, in *backend.InboundMessage) (*backend.Message, bool, error)
	// SetDeliveryStatus moves a message's delivery state forward.
	SetDeliveryStatus(ctx context.Context, id, status, reason string) (*backend.Message, error)
	// Notify signals after every commit that appended events.
	Notify() (<-chan struct{}, func())
}

// Clock is the Hub's time source; tests replace it.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives after d.
	After(d time.Duration) <-chan time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// SystemClock is the real clock.
var SystemClock Clock = systemClock{}

// Options configure a Hub. The zero value works.
type Options struct {
	// PublicURL is the engine's external base URL, such as
	// "https://sb.example.com". Twilio signs the URL it called, so behind a
	// proxy set this; when empty the URL is rebuilt from the request (Host,
	// X-Forwarded-Proto/Host). It also makes callback URLs for platforms.
	PublicURL string
	// BaseURLs replaces a connector's platform API base URL, by connector
	// id (tests point connectors at fakes).
	BaseURLs map[string]string
	// Client makes platform API calls (default: 30 s timeout).
	Client *http.Client
	Logger *slog.Logger
	Clock  Clock
	// MaxBodyBytes limits a webhook body (default 1 MiB).
	MaxBodyBytes int64
	// OnInbound is called, after the webhook was acknowledged, for every new
	// inbound message of a configured channel, reading from the store: a
	// message stored before a crash is handed over after the restart (at
	// least once). A conversation's messages are handed over one at a time,
	// in store order; different conversations in parallel (InboundParallel
	// at once), so OnInbound must be safe for concurrent use. While it
	// returns an error the message is retried, and no later message of its
	// conversation is handed over, so nothing falls between the store and
	// its consumer; only an EInvalid or ENotFound error (the message can
	// never be handled) lets the dispatcher move past it. After a crash at
	// most MaxRedelivered messages of a conversation that were handed over
	// are handed over again.
	OnInbound func(ctx context.Context, m *backend.Message) error
	// InboundParallel is how many conversations are handed over at once
	// (default DefaultInboundParallel).
	InboundParallel int
	// InboundRetry is the first wait before a refused message is handed
	// over again, doubled up to 5 s (default 100 ms).
	InboundRetry time.Duration
	// MaxAttempts bounds deliveries of one message (default 10).
	MaxAttempts int
	// Backoff is the first retry delay, doubled per attempt up to
	// MaxBackoff (defaults 2 s and 10 min).
	Backoff, MaxBackoff time.Duration
	// Lease is how long a claimed send may take before it is considered
	// interrupted (default 2 min).
	Lease time.Duration
	// ManualInbound keeps Start from running the inbound dispatcher: the
	// caller runs RunInbound while it holds the role (with several nodes,
	// the routing leader does, so one node at a time hands messages over).
	ManualInbound bool
	// ManualPollers keeps Start from running the instances' pollers (the
	// Telegram, IMAP and Discord sessions): the caller runs RunPollers
	// while it holds the role (with several nodes, the routing leader
	// does, so a platform sees one session per instance).
	ManualPollers bool
	// ManualOutbox keeps Start from running the background sender: the
	// caller delivers the outbox itself with RunOutbox. Tests that drive
	// an injected clock use it, so no sender they do not control can claim
	// a job between their steps.
	ManualOutbox bool
	// ManualMedia keeps Start from running the background media fetcher:
	// the caller fetches with RunMediaFetches (tests with an injected
	// clock).
	ManualMedia bool
	// MaxMediaBytes is the largest file the engine fetches and keeps
	// (default DefaultMaxMediaBytes).
	MaxMediaBytes int64
	// TakeOverOnStart makes Start treat every send left under way as
	// interrupted at once (resent when the platform deduplicates, failed
	// as in doubt otherwise) instead of waiting out its lease, which holds
	// back the rest of its conversation. Set it only when this hub is its
	// store's one sender (SQLite): those sends belonged to a process that
	// died.
	TakeOverOnStart bool
}

// Hub serves webhooks at /hooks/{connector}/{instance}, stores what they
// carry before answering 2xx, hands new messages to OnInbound and delivers
// outbound messages from the durable outbox.
type Hub struct {
	store Store
	opts  Options
	log   *slog.Logger
	clock Clock

	mu        sync.RWMutex
	instances map[string]*instance // "connector/instance"

	wakeInbound chan struct{}
	wakeOutbox  chan struct{}
	wakeMedia   chan struct{}

	runMu   sync.Mutex
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	pollers map[string]*pollerRun
	// pollCtx is what pollers run under: the hub's context, or RunPollers'
	// while it runs; nil runs none.
	pollCtx context.Context

	outbox   outboxState
	health   healthBook // the admin console's last errors (admin.go)
	dispatch atomic.Pointer[dispatcher]
}

// instance is one running connector instance.
type instance struct {
	info      Info
	name      string
	connector Connector
	limiter   *limiter
	// config is the configuration it was built from: an instance whose
	// stored configuration is unchanged keeps running as it is.
	config string
}

// NewHub returns a Hub over store with the instances configured in it.
func NewHub(ctx context.Context, store Store, opts Options) (*Hub, error) {
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Clock == nil {
		opts.Clock = SystemClock
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 10
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 2 * time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 10 * time.Minute
	}
	if opts.Lease <= 0 {
		opts.Lease = 2 * time.Minute
	}
	if opts.InboundRetry <= 0 {
		opts.InboundRetry = 100 * time.Millisecond
	}
	if opts.MaxMediaBytes <= 0 {
		opts.MaxMediaBytes = DefaultMaxMediaBytes
	}
	opts.PublicURL = strings.TrimRight(opts.PublicURL, "/")
	h := &Hub{
		store: store, opts: opts, log: opts.Logger.With("component", "channels"), clock: opts.Clock,
		instances:   map[string]*instance{},
		wakeInbound: make(chan struct{}, 1), wakeOutbox: make(chan struct{}, 1), wakeMedia: make(chan struct{}, 1),
		pollers: map[string]*pollerRun{},
		outbox:  outboxState{paused: map[string]time.Time{}},
	}
	if err := h.Reload(ctx); err != nil {
		return nil, err
	}
	return h, nil
}

// Reload brings the running instances in line with the store. An instance
// whose configuration is unchanged keeps running untouched (its poller's
// connection too); changed, added and removed ones are rebuilt, started or
// stopped. An instance whose configuration no longer builds is logged
// (without its config) and skipped.
func (h *Hub) Reload(ctx context.Context) error {
	return h.reload(ctx, "")
}

// reload is Reload that also restarts the instance named by restart
// ("connector/instance"), changed or not: saving an instance starts it
// afresh, which is how an admin restarts one stopped by a final error.
func (h *Hub) reload(ctx context.Context, restart string) error {
	cis, err := h.store.FindChannelInstances(ctx)
	if err != nil {
		return fmt.Errorf("reload channels: %w", err)
	}
	h.mu.RLock()
	running := h.instances
	h.mu.RUnlock()
	next := map[string]*instance{}
	for _, ci := range cis {
		if !ci.Enabled {
			continue
		}
		key := ci.Connector + "/" + ci.Instance
		if old := running[key]; old != nil && old.config == string(ci.Config) && key != restart {
			next[key] = old
			continue
		}
		inst, err := h.build(ci)
		if err != nil {
			h.log.Error("channel instance not started", "connector", ci.Connector, "instance", ci.Instance, "error", backend.ErrorMessage(err))
			continue
		}
		next[key] = inst
	}
	h.mu.Lock()
	h.instances = next
	h.mu.Unlock()
	h.syncPollers()
	return nil
}

func (h *Hub) build(ci *backend.ChannelInstance) (*instance, error) {
	info, ok := Lookup(ci.Connector)
	if !ok {
		return nil, backend.Errorf(backend.EInvalid, "There is no %q connector.", ci.Connector)
	}
	hook := ""
	if h.opts.PublicURL != "" {
		hook = h.opts.PublicURL + "/hooks/" + ci.Connector + "/" + ci.Instance
	}
	c, err := info.New(Params{
		Connector: ci.Connector, Instance: ci.Instance, Config: ci.Config, HookURL: hook,
		BaseURL: h.opts.BaseURLs[ci.Connector], Client: h.opts.Client,
		Logger: h.log.With("connector", ci.Connector, "instance", ci.Instance), Now: h.clock.Now,
		After: h.clock.After,
	})
	if err != nil {
		return nil, err
	}
	return &instance{info: info, name: ci.Instance, connector: c, limiter: newLimiter(info.Rate, info.Burst), config: string(ci.Config)}, nil
}

// PutInstance validates and stores an instance's configuration (secrets
// shown as the Redacted placeholder keep their stored value) and reloads.
// Returns EInvalid for an unknown connector or a configuration it rejects.
func (h *Hub) PutInstance(ctx context.Context, ci *backend.ChannelInstance) error {
	info, ok := Lookup(ci.Connector)
	if !ok {
		return backend.Errorf(backend.EInvalid, "There is no %q connector.", ci.Connector)
	}
	if ci.Instance == "" || strings.ContainsAny(ci.Instance, "/?# ") {
		return backend.Errorf(backend.EInvalid, "An instance name must be non-empty, without spaces or slashes.")
	}
	var prev []byte
	if old, err := h.store.FindChannelInstance(ctx, ci.Connector, ci.Instance); err == nil {
		prev = old.Config
	}
	cfg, err := keepSecrets(ci.Config, prev, info.Secrets)
	if err != nil {
		return err
	}
	ci.Config = cfg
	if _, err := h.build(ci); err != nil {
		return err
	}
	if err := h.store.PutChannelInstance(ctx, ci); err != nil {
		return err
	}
	ci.Config = RedactConfig(ci.Config, info.Secrets)
	h.health.forget(ci.Connector + "/" + ci.Instance)
	return h.reload(ctx, ci.Connector+"/"+ci.Instance)
}

// Instances lists the configured instances with their secrets redacted.
func (h *Hub) Instances(ctx context.Context) ([]*backend.ChannelInstance, error) {
	cis, err := h.store.FindChannelInstances(ctx)
	if err != nil {
		return nil, err
	}
	for _, ci := range cis {
		info, _ := Lookup(ci.Connector)
		ci.Config = RedactConfig(ci.Config, info.Secrets)
	}
	return cis, nil
}

func (h *Hub) lookup(connector, name string) *instance {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.instances[connector+"/"+name]
}

// deliver stores a webhook's messages (durably, deduplicated) and applies
// its statuses. An error means something was not stored.
func (h *Hub) deliver(ctx context.Context, connector, name string, wh *Webhook) error {
	if wh == nil {
		return nil
	}
	created := false
	for _, in := range wh.Messages {
		in.Channel, in.Instance = connector, name
		_, c, err := h.store.StoreInbound(ctx, in)
		if err != nil {
			if backend.ErrorCode(err) == backend.EInvalid {
				h.log.Warn("inbound message dropped", "connector", connector, "instance", name, "error", backend.ErrorMessage(err))
				continue
			}
			return fmt.Errorf("store inbound: %w", err)
		}
		created = created || c
	}
	for _, st := range wh.Statuses {
		if err := h.applyStatus(ctx, connector, name, st); err != nil {
			return err
		}
	}
	if created {
		signal(h.wakeInbound)
		signal(h.wakeMedia)
	}
	return nil
}

func (h *Hub) applyStatus(ctx context.Context, connector, name string, st Status) error {
	if backend.DeliveryRank(st.Status) == 0 {
		return nil // a platform state we do not track (sending, accepted…)
	}
	if st.ExternalID == "" {
		if st.ThreadKey == "" {
			return nil
		}
		_, err := h.store.SetThreadDeliveryStatus(ctx, connector, name, st.ThreadKey, st.Status, st.Before)
		return err
	}
	m, err := h.store.FindMessageByExternalID(ctx, connector, name, st.ExternalID)
	if backend.ErrorCode(err) == backend.ENotFound {
		h.log.Debug("status for unknown message", "connector", connector, "instance", name)
		return nil
	} else if err != nil {
		return err
	}
	_, err = h.store.SetDeliveryStatus(ctx, m.ID, st.Status, st.Reason)
	return err
}

// Start runs the inbound dispatcher, the outbox sender and the pollers
// until Close. It returns at once.
func (h *Hub) Start(ctx context.Context) error {
	h.runMu.Lock()
	defer h.runMu.Unlock()
	if h.cancel != nil {
		return errors.New("channels: hub already started")
	}
	if h.opts.TakeOverOnStart {
		n, err := h.store.InterruptOutbox(ctx, h.clock.Now())
		if err != nil {
			return fmt.Errorf("take over the outbox: %w", err)
		}
		if n > 0 {
			h.log.Warn("sends interrupted by the previous process", "count", n)
		}
	}
	h.ctx, h.cancel = context.WithCancel(context.WithoutCancel(ctx))
	if !h.opts.ManualInbound {
		h.wg.Add(1)
		go func() { defer h.wg.Done(); h.RunInbound(h.ctx) }()
	}
	if !h.opts.ManualOutbox {
		h.wg.Add(1)
		go func() { defer h.wg.Done(); h.runOutbox(h.ctx) }()
	}
	if !h.opts.ManualMedia {
		h.wg.Add(1)
		go func() { defer h.wg.Done(); h.runMedia(h.ctx) }()
	}
	if !h.opts.ManualPollers {
		h.pollCtx = h.ctx
	}
	h.syncPollersLocked()
	return nil
}

// RunPollers runs the instances' pollers until ctx ends, then stops them
// and returns (see Options.ManualPollers).
func (h *Hub) RunPollers(ctx context.Context) {
	h.runMu.Lock()
	if h.ctx == nil || h.pollCtx != nil {
		h.runMu.Unlock()
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(h.ctx, cancel) // the hub's Close ends them too
	defer stop()
	h.pollCtx = ctx
	h.syncPollersLocked()
	h.runMu.Unlock()
	<-ctx.Done()
	h.runMu.Lock()
	h.pollCtx = nil
	h.syncPollersLocked()
	h.runMu.Unlock()
}

// Close stops the background work and waits for it.
func (h *Hub) Close() error {
	h.runMu.Lock()
	cancel := h.cancel
	h.runMu.Unlock()
	if cancel != nil {
		cancel()
	}
	h.wg.Wait()
	return nil
}
