// Package server wires the engine together: it opens the store, starts the
// API and the background workers, and closes them in reverse order. A test
// can boot the whole engine on 127.0.0.1:0 with a temp directory.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"switchboard/backend"
	"switchboard/backend/api"
	"switchboard/backend/flow"
	"switchboard/backend/routing"
	"switchboard/backend/sqlite"
	"switchboard/channels"
	_ "switchboard/channels/all" // every connector registers itself
	"switchboard/channels/webchat"
)

// Config says where the engine listens and keeps its data.
type Config struct {
	// Addr is the listen address, e.g. "127.0.0.1:0" or ":8080".
	Addr string
	// DataDir holds engine.db.
	DataDir string
	// Demo seeds a demo workspace into an empty store.
	Demo bool
	// PasswordCost overrides the bcrypt cost (tests use the minimum).
	PasswordCost int
	// PublicURL is the engine's external URL, which platforms call webhooks
	// on (Twilio signs it). Empty: rebuilt from each request.
	PublicURL string
	// ChannelBaseURLs points connectors at other API hosts, by connector
	// id (tests use the platform fakes).
	ChannelBaseURLs map[string]string
	// OnInbound, when set, also sees every new inbound message after it was
	// stored, acknowledged and handed to its flow.
	OnInbound func(ctx context.Context, m *backend.Message)
	// Clock drives routing's timers (offer expiry, cool-downs, wrap-up
	// limits); tests pass a backend.FakeClock. Default: the wall clock.
	Clock backend.Clock
	// LowMemory keeps the store's reader pool small, for the engine
	// embedded in the desktop app (one agent, not a team).
	LowMemory bool
	Logger    *slog.Logger
}

// Server is a running engine.
type Server struct {
	Config   Config
	DB       *sqlite.DB
	API      *api.Server
	Channels *channels.Hub
	Routing  *routing.Engine
	Flows    *flow.Engine
	Widget   *webchat.Server

	ln     net.Listener
	http   *http.Server
	cancel context.CancelFunc
	served chan struct{}
}

// Open starts the engine. Close stops it.
func Open(ctx context.Context, cfg Config) (_ *Server, err error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	s := &Server{Config: cfg, served: make(chan struct{})}
	s.DB = sqlite.NewDB(filepath.Join(cfg.DataDir, "engine.db"))
	if cfg.PasswordCost > 0 {
		s.DB.PasswordCost = cfg.PasswordCost
	}
	if cfg.LowMemory {
		s.DB.MaxReaders = 2
	}
	if err := s.DB.Open(ctx); err != nil {
		return nil, err
	}
	if cfg.Demo {
		if err := SeedDemo(ctx, s.DB); err != nil {
			s.DB.Close()
			return nil, fmt.Errorf("seed demo: %w", err)
		}
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.API = api.NewServer(s.DB, cfg.Logger)
	s.API.Start(runCtx)
	for _, start := range []func(ctx, runCtx context.Context) error{s.startRouting, s.startFlows, s.startChannels} {
		if err := start(ctx, runCtx); err != nil {
			s.Close()
			return nil, err
		}
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	s.ln = ln
	s.http = &http.Server{Handler: s.API, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn)}
	go func() {
		defer close(s.served)
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			cfg.Logger.Error("http serve", "err", err)
		}
	}()
	return s, nil
}

func (s *Server) startRouting(ctx, runCtx context.Context) error {
	s.Routing = routing.New(s.DB, routing.Options{Logger: s.Config.Logger, Clock: s.Config.Clock})
	if err := s.Routing.Start(runCtx); err != nil {
		return fmt.Errorf("start routing: %w", err)
	}
	s.API.SetRouter(s.Routing)
	if err := ensureRoutingDefaults(ctx, s.Routing); err != nil {
		return fmt.Errorf("routing defaults: %w", err)
	}
	if s.Config.Demo {
		if err := SeedDemoRouting(ctx, s.DB, s.Routing); err != nil {
			return fmt.Errorf("seed demo routing: %w", err)
		}
	}
	users, err := s.DB.FindUsers(ctx)
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
func ensureRoutingDefaults(ctx context.Context, r *routing.Engine) error {
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
		t, err := s.Routing.CreateTask(ctx, backend.TaskInput{Channel: channel, Attributes: attrs, Priority: priority, ConversationID: conv})
		if err != nil {
			return "", err
		}
		return t.ID, nil
	})
	s.Flows, err = flow.NewEngine(s.DB, flow.Options{
		Sender: flow.MessageSender{Messages: s.DB}, Tasks: tasks, HTTP: &http.Client{Timeout: 30 * time.Second},
		Conversations: s.DB, Contacts: s.DB, Logger: s.Config.Logger,
	})
	if err != nil {
		return fmt.Errorf("start flows: %w", err)
	}
	s.API.SetFlowAdmin(s.Flows, flow.Parse, func(ctx context.Context, f *backend.Flow, msgs []string) (any, error) {
		return flow.Simulate(ctx, f, msgs)
	})
	return s.Flows.Start(runCtx)
}

// onInbound hands a stored inbound message to the flow engine (and to the
// configured hook). The channel hub calls it after the webhook was
// acknowledged, at least once per message; flows drop repeats.
func (s *Server) onInbound(ctx context.Context, m *backend.Message) {
	if err := s.Flows.HandleMessage(ctx, m); err != nil {
		s.Config.Logger.Error("flow", "conversation", m.ConversationID, "err", err)
	}
	if s.Config.OnInbound != nil {
		s.Config.OnInbound(ctx, m)
	}
}

func (s *Server) startChannels(ctx, runCtx context.Context) (err error) {
	s.Channels, err = channels.NewHub(ctx, s.DB, channels.Options{
		PublicURL: s.Config.PublicURL, BaseURLs: s.Config.ChannelBaseURLs, Logger: s.Config.Logger, OnInbound: s.onInbound,
	})
	if err != nil {
		return fmt.Errorf("start channels: %w", err)
	}
	s.API.Handle("/hooks/", s.Channels)
	s.API.SetChannelAdmin(s.Channels)
	if err := s.Channels.Start(runCtx); err != nil {
		return err
	}
	if s.Widget, err = webchat.NewServer(ctx, s.DB, webchat.Options{Logger: s.Config.Logger, OnVisitorTyping: s.visitorTyping}); err != nil {
		return fmt.Errorf("start web chat: %w", err)
	}
	s.API.Handle("/widget/", s.Widget)
	s.API.SetTypist(s.agentTyping)
	s.Widget.Start(runCtx)
	return nil
}

// visitorTyping tells the agents' desktops that a web chat visitor is
// typing in their conversation.
func (s *Server) visitorTyping(instance, threadKey string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := s.DB.FindThreadConversation(ctx, webchat.ID, instance, threadKey)
	if err != nil {
		return // nothing written yet: no conversation to show it in
	}
	t := api.Typing{ConversationID: c.ID, Who: "customer"}
	if ct, err := s.DB.FindContactByID(ctx, c.ContactID); err == nil {
		t.Name = ct.Name
	}
	s.API.PublishTyping(t)
}

// agentTyping shows a web chat visitor that an agent is typing; other
// channels have no such signal here.
func (s *Server) agentTyping(ctx context.Context, conversationID, agentName string) error {
	c, err := s.DB.FindConversationByID(ctx, conversationID)
	if err != nil || c.Channel != webchat.ID {
		return err
	}
	return s.Widget.AgentTyping(ctx, c.ID)
}

// URL is the engine's base URL, e.g. http://127.0.0.1:41234.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() }

// Close stops the listener, the background workers and the store, in that order.
func (s *Server) Close() error {
	if s.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s.http.Shutdown(ctx)
		cancel()
		<-s.served
	}
	if s.Widget != nil {
		s.Widget.Close()
	}
	if s.Channels != nil {
		s.Channels.Close()
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
	return s.DB.Close()
}
