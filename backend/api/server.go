// Package api serves the engine's HTTP JSON and WebSocket API to the desktop
// app: sign-in and sessions, the access policy, the per-user sync feed and
// live events.
package api

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"switchboard/backend"
)

// DefaultMaxBody is the request body limit for JSON endpoints.
const DefaultMaxBody = 1 << 20

// Server routes API requests to the store.
type Server struct {
	Store  backend.Store
	Logger *slog.Logger
	// MaxBody limits JSON request bodies (DefaultMaxBody when zero).
	MaxBody int64
	// MaxUpload limits a file an agent uploads (DefaultMaxUpload when zero).
	MaxUpload int64
	// Clock times sign-in throttling, session checks and purges (the
	// wall clock when nil). Set it before Start.
	Clock backend.Clock
	// ClientIP names the client of a request for sign-in throttling; the
	// default is the connection's remote address. A deployment behind
	// trusted proxies replaces it.
	ClientIP func(r *http.Request) string
	// PublicURL is the engine's external address, for invitation links
	// (empty: the address each request came to).
	PublicURL string
	// OnUserCreated, when set, runs after a user was created by an admin,
	// an invitation or the first-run setup (the engine makes agents
	// routable here).
	OnUserCreated func(ctx context.Context, u *backend.User) error
	// EventRetention turns on pruning of the change log (prune.go): events
	// older than it go even if a desktop has not read them. Zero keeps
	// every event. Set it before Start.
	EventRetention time.Duration
	// PruneGrace keeps events newer than it (DefaultPruneGrace when zero).
	PruneGrace time.Duration

	mux      *http.ServeMux
	table    map[string]string // pattern → access rule name
	policy   *Policy
	hub      *Hub
	throttle *throttle
	started  bool
	stop     context.CancelFunc
	channels ChannelAdmin
	router   Router
	console  ChannelConsole
	super    *supervisor
	replies  ReplyChecker
	routing  RoutingAdmin
	importTR TaskRouterImporter
	importer FlowImporter

	voice  Voice
	frames func(u backend.User, frame []byte)
	greet  func(u backend.User) [][]byte

	flows     FlowAdmin
	parseFlow func([]byte) (*backend.Flow, error)
	simulate  FlowSimulator

	metrics []MetricsSource
}

// NewServer returns a Server with its routes. Call Close to stop its hub.
func NewServer(store backend.Store, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.Default()
	}
	s := &Server{Store: store, Logger: logger, MaxBody: DefaultMaxBody, mux: http.NewServeMux(), table: map[string]string{}}
	s.policy = &Policy{store: store, router: func() Router { return s.router }}
	s.hub = NewHub(store, logger)
	s.throttle = newThrottle()
	s.routes()
	return s
}

// Start runs the live-event hub and the session housekeeping until ctx
// ends or Close is called.
func (s *Server) Start(ctx context.Context) {
	if s.Clock == nil {
		s.Clock = backend.SystemClock{}
	}
	s.started = true
	ctx, s.stop = context.WithCancel(ctx)
	s.hub.clock = s.Clock
	s.hub.workerOf = s.workerID
	go s.hub.Run(ctx)
	s.purgeSessions(ctx)
	s.pruneEvents(ctx)
}

// Close stops the hub, disconnects every WebSocket client and waits.
func (s *Server) Close() {
	s.hub.Close()
	if s.started {
		s.stop()
		<-s.hub.stopped
	}
}

// Handle mounts another handler (webhooks, widget) under a pattern. The
// web chat widget's agent-typing route is kept in front of it, behind the
// access policy: only who may work on the conversation signals typing.
func (s *Server) Handle(pattern string, h http.Handler) {
	s.table[pattern] = Mounted.Name
	s.mux.Handle(pattern, h)
	if pattern == "/widget/" {
		s.route("POST /widget/{instance}/typing/{conversation}", ConversationRule(Act, "conversation"), h.ServeHTTP)
	}
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	s.mux.ServeHTTP(w, r)
}

type ctxKey int

const sessionKey ctxKey = 1

// SessionFrom returns the signed-in session of an authenticated request.
func SessionFrom(ctx context.Context) *backend.Session {
	s, _ := ctx.Value(sessionKey).(*backend.Session)
	return s
}

// bearerToken reads the token from the Authorization header, or, where
// allowed (the WebSocket upgrade), from the access_token query parameter.
func bearerToken(r *http.Request, query bool) string {
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		return strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
	}
	if query {
		return r.URL.Query().Get("access_token")
	}
	return ""
}

// authenticate returns the session of the request's bearer token.
func (s *Server) authenticate(r *http.Request, query bool) (*backend.Session, error) {
	token := bearerToken(r, query)
	if token == "" {
		if !query && r.URL.Query().Has("access_token") {
			return nil, backend.Errorf(backend.EUnauthorized, "Send the token in the Authorization header; access_token in the address is accepted only by the live feed.")
		}
		return nil, backend.Errorf(backend.EUnauthorized, "Sign in first: this request has no bearer token.")
	}
	return s.Store.SessionByToken(r.Context(), token)
}

// clientIP names the request's client for throttling.
func (s *Server) clientIP(r *http.Request) string {
	if s.ClientIP != nil {
		return s.ClientIP(r)
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// workerID returns the routing worker a user signs in as ("" for none).
func (s *Server) workerID(ctx context.Context, userID string) string {
	if s.router == nil {
		return ""
	}
	w, err := s.router.WorkerByUserID(ctx, userID)
	if err != nil {
		return ""
	}
	return w.ID
}

// purgeEvery is how often expired sessions are deleted.
const purgeEvery = time.Hour

// purgeSessions deletes expired sessions now and every purgeEvery.
func (s *Server) purgeSessions(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	if n, err := s.Store.PurgeSessions(ctx); err != nil {
		s.Logger.Error("purge sessions", "err", err)
	} else if n > 0 {
		s.Logger.Info("purged expired sessions", "count", n)
	}
	s.Clock.AfterFunc(purgeEvery, func() { s.purgeSessions(ctx) })
}
