// Package server wires the engine together: it opens the store, starts the
// API and the background workers, and closes them in reverse order. A test
// can boot the whole engine on 127.0.0.1:0 with a temp directory.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"sync"
	"time"

	"switchboard/backend"
	"switchboard/backend/api"
	"switchboard/backend/cluster"
	"switchboard/backend/flow"
	"switchboard/backend/postgres"
	"switchboard/backend/routing"
	"switchboard/backend/secret"
	"switchboard/backend/sqlite"
	"switchboard/backend/voice"
	"switchboard/channels"
	_ "switchboard/channels/all" // every connector registers itself
	"switchboard/channels/webchat"
)

// Config says where the engine listens and keeps its data.
type Config struct {
	// Addr is the listen address, e.g. "127.0.0.1:0" or ":8080".
	Addr string
	// DataDir holds engine.db (SQLite) and the calls' recordings.
	DataDir string
	// Store, when set, is the URL of the PostgreSQL database the engine
	// keeps its state in instead of SQLite, shared by every node of a team
	// (postgres://…). It may hold a password: never log it.
	Store string
	// Demo seeds a demo workspace into an empty store.
	Demo bool
	// PasswordCost overrides the bcrypt cost (tests use the minimum).
	PasswordCost int
	// PublicURL is the engine's external URL, which platforms call webhooks
	// on (Twilio signs it) and callback URLs are made from. Empty: rebuilt
	// from each request (Host, and X-Forwarded-* from trusted proxies).
	PublicURL string
	// TrustedProxies may set X-Forwarded-For/Proto/Host; from any other
	// peer those headers are dropped.
	TrustedProxies []netip.Prefix
	// TLSCertFile and TLSKeyFile, when set, make the engine serve HTTPS.
	TLSCertFile, TLSKeyFile string
	// Timeouts of the HTTP server (zero: the defaults below). WebSockets
	// are exempt once upgraded.
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// ChannelBaseURLs points connectors at other API hosts, by connector
	// id (tests use the platform fakes).
	ChannelBaseURLs map[string]string
	// SecretKey seals channel secrets, the web chat signing key and flow
	// HTTP headers in the store. Without it the engine starts only while the
	// store holds no secrets, and refuses to store any.
	SecretKey *secret.Key
	// OnInbound, when set, also sees every new inbound message after it was
	// stored, acknowledged and handed to its flow.
	OnInbound func(ctx context.Context, m *backend.Message)
	// Synchronous is the store's SQLite synchronous setting (FULL when
	// empty; see sqlite.DB.Synchronous).
	Synchronous string
	// CPUProfile, for `serve`, names a file that receives a CPU profile
	// of the process until it stops.
	CPUProfile string
	// LowMemory keeps the store's reader pool small, for the engine
	// embedded in the desktop app (one agent, not a team).
	LowMemory bool
	// Voice sets up calls: SIP trunks' address, media ports, public IP.
	Voice VoiceConfig
	// RoutingClock times the router's offers (reservation timeouts,
	// cool-downs, wrap-up limits); nil is the wall clock. Tests drive a
	// fake one.
	RoutingClock backend.Clock
	// EventRetention is how long the change log keeps an event that some
	// desktop has not read (events every desktop has read go sooner);
	// zero is DefaultEventRetention, negative keeps every event.
	EventRetention time.Duration
	Logger         *slog.Logger
}

// DefaultEventRetention is how long the change log keeps events a desktop
// has not read: a desktop away longer takes a snapshot when it is back.
const DefaultEventRetention = 30 * 24 * time.Hour

// Router is the engine's routing: the engine itself on SQLite, or the
// cluster's router (leading or handing calls to the leader) on PostgreSQL.
type Router interface {
	cluster.Routing
	Close() error
}

// Server is a running engine.
type Server struct {
	Config Config
	// Store is what the engine keeps: DB (SQLite) or PG (PostgreSQL).
	Store Store
	DB    *sqlite.DB
	PG    *postgres.DB
	API   *api.Server
	// Routing is Cluster on PostgreSQL.
	Routing  Router
	Cluster  *cluster.Router
	Channels *channels.Hub
	Flows    *flow.Engine
	Widget   *webchat.Server
	Voice    *voice.Engine

	ln     net.Listener
	scheme string
	http   *http.Server
	cancel context.CancelFunc
	served chan struct{}
	// stopRelay ends this node's part in the typing signals relayed
	// between nodes (PostgreSQL).
	stopRelay func()
}

// Open starts the engine. Close stops it.
func Open(ctx context.Context, cfg Config) (_ *Server, err error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if err := PrivateDir(cfg.DataDir); err != nil {
		return nil, err
	}
	s := &Server{Config: cfg, served: make(chan struct{})}
	store, err := OpenStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s.Store = store
	s.DB, _ = store.(*sqlite.DB)
	s.PG, _ = store.(*postgres.DB)
	if err := s.requireKey(ctx); err != nil {
		store.Close()
		return nil, err
	}
	if cfg.Demo {
		if err := SeedDemo(ctx, store, cfg.SecretKey != nil); err != nil {
			store.Close()
			return nil, fmt.Errorf("seed demo: %w", err)
		}
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.API = api.NewServer(store, cfg.Logger)
	s.API.PublicURL = cfg.PublicURL
	s.API.EventRetention = cfg.EventRetention
	if cfg.EventRetention == 0 {
		s.API.EventRetention = DefaultEventRetention
	}
	s.API.Start(runCtx)
	for _, start := range []func(ctx, runCtx context.Context) error{s.startRouting, s.startFlows, s.startVoice, s.startChannels} {
		if err := start(ctx, runCtx); err != nil {
			s.Close()
			return nil, err
		}
	}
	if s.Cluster != nil {
		s.Cluster.SetOnLead(s.lead)
	}

	s.API.SetMetrics(s.metrics)
	if err := s.listen(); err != nil {
		s.Close()
		return nil, err
	}
	go func() {
		defer close(s.served)
		if err := s.http.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			cfg.Logger.Error("http serve", "err", err)
		}
	}()
	return s, nil
}

// ErrNoSecretKey is returned by Open for a store that holds secrets when no
// key was given.
var ErrNoSecretKey = errors.New("this data directory holds channel secrets, which are encrypted: " +
	"give the secret key with --secret-key-file FILE or SWITCHBOARD_SECRET_KEY (see README)")

// requireKey refuses a store with secrets when there is no key, and warns
// that none can be stored otherwise.
func (s *Server) requireKey(ctx context.Context) error {
	if s.Config.SecretKey != nil {
		return nil
	}
	has, err := s.Store.HasSecrets(ctx)
	if err != nil {
		return err
	}
	if has {
		return ErrNoSecretKey
	}
	s.Config.Logger.Warn("no secret key: channels, the web chat and flow HTTP headers cannot be configured until the engine restarts with one")
	return nil
}

// PrivateDir creates dir if needed and makes it readable by this user only.
func PrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("make data dir private: %w", err)
	}
	return nil
}

// The router queues its decisions in the SQLite store's group commit.
var _ routing.QueuedStore = (*sqlite.DB)(nil)

// startRouting starts the router: on SQLite the engine itself; on
// PostgreSQL the cluster's router, which runs the engine while this node
// leads and hands every call to the leader otherwise.
func (s *Server) startRouting(ctx, runCtx context.Context) error {
	opts := routing.Options{Logger: s.Config.Logger, Clock: s.Config.RoutingClock}
	if s.PG != nil {
		s.Cluster = cluster.New(s.PG, opts)
		s.Cluster.Start(runCtx)
		s.Routing = s.Cluster
	} else {
		e := routing.New(s.DB, opts)
		if err := e.Start(runCtx); err != nil {
			return fmt.Errorf("start routing: %w", err)
		}
		s.Routing = e
	}
	s.API.SetRouter(s.Routing)
	s.API.SetRoutingAdmin(s.Routing, routing.ImportTaskRouterWorkflow)
	s.API.SetSupervisor(s.Routing, s.Store, nil)
	if err := ensureRoutingDefaults(ctx, s.Routing); err != nil {
		return fmt.Errorf("routing defaults: %w", err)
	}
	if s.Config.Demo {
		if err := SeedDemoRouting(ctx, s.Store, s.Routing); err != nil {
			return fmt.Errorf("seed demo routing: %w", err)
		}
	}
	users, err := s.Store.FindUsers(ctx)
	if err != nil {
		return err
	}
	for _, u := range users {
		if err := s.ensureWorker(ctx, u); err != nil {
			return err
		}
	}
	s.API.OnUserCreated = s.ensureWorker
	return nil
}

// ensureWorker makes an agent routable: every user with the agent role has
// a worker (starting Offline, until they make themselves Available), also
// when created with `switchboard user add` while the engine was down.
func (s *Server) ensureWorker(ctx context.Context, u *backend.User) error {
	if u.Role != backend.RoleAgent {
		return nil
	}
	if _, err := s.Routing.WorkerByUserID(ctx, u.ID); backend.ErrorCode(err) != backend.ENotFound {
		return err
	}
	_, err := s.Routing.UpsertWorker(ctx, &backend.Worker{ID: backend.NewID("wk"), UserID: u.ID, Name: u.Name,
		Activity: backend.ActivityOffline, Attributes: map[string]any{}})
	return err
}

// ensureRoutingDefaults gives a new workspace a Support queue that every
// agent serves and a Default workflow into it, so a flow's hand-over to a
// live agent works before an admin designs any routing.
func ensureRoutingDefaults(ctx context.Context, r Router) error {
	qs, err := r.Queues(ctx)
	if err != nil || len(qs) > 0 {
		return err
	}
	wfs, err := r.Workflows(ctx)
	if err != nil || len(wfs) > 0 {
		return err
	}
	if _, err := r.UpsertQueue(ctx, &backend.Queue{ID: "q_support", Name: "Support"}); err != nil {
		return err
	}
	_, err = r.UpsertWorkflow(ctx, &backend.Workflow{ID: "wf_default", Name: "Default", Default: []backend.WorkflowTarget{{QueueID: "q_support"}}})
	return err
}

// startFlows starts the flow engine: every new inbound message runs
// through its channel instance's flow, which may answer, wait, or create a
// routing task for a live agent.
func (s *Server) startFlows(ctx, runCtx context.Context) (err error) {
	tasks := flow.TaskCreatorFunc(func(ctx context.Context, conv, channel string, attrs map[string]any, priority int) (string, error) {
		// A conversation has one open task: a hand-over run again after a
		// crash (the task was made, the flow not yet saved) finds it.
		if conv != "" {
			if open, err := s.Routing.Tasks(ctx, backend.TaskFilter{ConversationID: conv}); err != nil {
				return "", err
			} else if len(open) > 0 {
				return open[0].ID, nil
			}
		}
		t, err := s.Routing.CreateTask(ctx, backend.TaskInput{Channel: channel, Attributes: attrs, Priority: priority, ConversationID: conv})
		if err != nil {
			return "", err
		}
		return t.ID, nil
	})
	s.Flows, err = flow.NewEngine(s.Store, flow.Options{
		Sender: flow.MessageSender{Messages: s.Store}, Tasks: tasks, HTTP: &http.Client{Timeout: 30 * time.Second},
		Conversations: s.Store, Contacts: s.Store, Logger: s.Config.Logger,
		// What is left running belongs to a process that died (SQLite has
		// one engine process; PostgreSQL lists only the runs of nodes that
		// are gone), and its conversations must not wait out the lease.
		TakeOverOnStart: true,
	})
	if err != nil {
		return fmt.Errorf("start flows: %w", err)
	}
	s.API.SetFlowAdmin(s.Flows, flow.Parse, func(ctx context.Context, f *backend.Flow, msgs []string) (any, error) {
		return flow.Simulate(ctx, f, msgs)
	})
	s.API.SetFlowImporter(func(data []byte) (*backend.Flow, any, error) { return flow.ImportStudio(data) })
	return s.Flows.Start(runCtx)
}

// onInbound hands a stored inbound message to the flow engine (and to the
// configured hook). The channel hub calls it after the webhook was
// acknowledged, at least once per message, in store order; flows drop
// repeats. An error (the flow is busy elsewhere, the store failed) makes
// the hub retry this message before any later one.
func (s *Server) onInbound(ctx context.Context, m *backend.Message) error {
	if err := s.Flows.HandleMessage(ctx, m); err != nil {
		return err
	}
	if s.Config.OnInbound != nil {
		s.Config.OnInbound(ctx, m)
	}
	return nil
}

func (s *Server) startChannels(ctx, runCtx context.Context) (err error) {
	s.Channels, err = channels.NewHub(ctx, s.Store, channels.Options{
		PublicURL: s.Config.PublicURL, BaseURLs: s.Config.ChannelBaseURLs, Logger: s.Config.Logger, OnInbound: s.onInbound,
		// Sends left under way belong to a process that died (on
		// PostgreSQL: to a node that is gone).
		TakeOverOnStart: true,
		// With several nodes the routing leader hands new messages to
		// their flows (lead), one node at a time, in store order.
		ManualInbound: s.Cluster != nil,
		// and runs the pollers, so a platform sees one session per
		// instance (Telegram refuses a second getUpdates).
		ManualPollers: s.Cluster != nil,
	})
	if err != nil {
		return fmt.Errorf("start channels: %w", err)
	}
	s.API.Handle("/hooks/", s.Channels)
	s.API.Handle(channels.LinkPath, http.HandlerFunc(s.Channels.ServeLink))
	s.API.SetReplyChecker(s.Channels)
	s.API.SetChannelAdmin(s.Channels)
	s.API.SetChannelConsole(s.Channels)
	if err := s.Channels.Start(runCtx); err != nil {
		return err
	}
	if s.Widget, err = webchat.NewServer(ctx, s.Store, webchat.Options{Logger: s.Config.Logger, Calls: s.Voice, OnVisitorTyping: s.visitorTyping}); err != nil {
		return fmt.Errorf("start web chat: %w", err)
	}
	s.API.Handle("/widget/", s.Widget)
	s.API.SetTypist(s.agentTyping)
	if s.PG != nil {
		s.stopRelay = s.PG.OnRelay(s.onRelay)
	}
	s.Widget.Start(runCtx)
	return nil
}

// Default HTTP server timeouts: a request (headers and body, so a 10 MiB
// upload on a slow line) must arrive within ReadTimeout and its answer
// leave within WriteTimeout; an idle keep-alive connection is closed after
// IdleTimeout.
const (
	DefaultReadTimeout  = 2 * time.Minute
	DefaultWriteTimeout = 2 * time.Minute
	DefaultIdleTimeout  = 2 * time.Minute
)

// listen opens the listener (TLS when configured) and the HTTP server with
// its timeouts, in front of which trusted proxies are sorted out.
func (s *Server) listen() error {
	cfg := s.Config
	var tlsConfig *tls.Config
	if cfg.TLSCertFile != "" || cfg.TLSKeyFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			return fmt.Errorf("load the TLS certificate: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	s.scheme = "http"
	if tlsConfig != nil {
		ln, s.scheme = tls.NewListener(ln, tlsConfig), "https"
	}
	s.ln = ln
	s.http = &http.Server{
		Handler:           trustProxies(s.API, cfg.TrustedProxies),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       orDefault(cfg.ReadTimeout, DefaultReadTimeout),
		WriteTimeout:      orDefault(cfg.WriteTimeout, DefaultWriteTimeout),
		IdleTimeout:       orDefault(cfg.IdleTimeout, DefaultIdleTimeout),
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	return nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// URL is the engine's base URL as it listens, e.g. http://127.0.0.1:41234.
func (s *Server) URL() string { return s.scheme + "://" + s.ln.Addr().String() }

// lead is what this node runs while it leads routing (PostgreSQL): it
// takes over the flow runs and the sends of nodes that are gone, then runs
// the channels' pollers and hands every new inbound message to its flow
// until the term ends.
func (s *Server) lead(ctx context.Context) {
	s.Flows.TakeOver(ctx)
	if n, err := s.Store.InterruptOutbox(ctx, time.Now()); err != nil && ctx.Err() == nil {
		s.Config.Logger.Error("take over the sends of nodes that are gone", "error", err)
	} else if n > 0 {
		s.Config.Logger.Warn("sends interrupted by a node that is gone", "count", n)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); s.Channels.RunPollers(ctx) }()
	s.Channels.RunInbound(ctx)
	wg.Wait()
}

// Close stops the listener, the background workers and the store, in that order.
func (s *Server) Close() error {
	if s.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s.http.Shutdown(ctx)
		cancel()
		<-s.served
	}
	if s.Cluster != nil {
		s.Cluster.Close() // another node leads from now on
	}
	if s.stopRelay != nil {
		s.stopRelay()
	}
	if s.Widget != nil {
		s.Widget.Close()
	}
	if s.Channels != nil {
		s.Channels.Close()
	}
	if s.Voice != nil {
		s.Voice.Close()
	}
	if s.Flows != nil {
		s.Flows.Close()
	}
	if s.Routing != nil {
		s.Routing.Close()
	}
	if s.API != nil {
		s.API.Close()
	}
	if s.cancel != nil {
		s.cancel()
	}
	return s.Store.Close()
}
