// Package api serves the engine's HTTP JSON and WebSocket API to the desktop
// app: sign-in, roles, the sync feed and live events.
package api

import (
	"context"
	"log/slog"
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
	// OnUserCreated, when set, runs after an admin created a user (the
	// engine makes agents routable here).
	OnUserCreated func(ctx context.Context, u *backend.User) error

	mux      *http.ServeMux
	hub      *Hub
	started  bool
	channels ChannelAdmin
	router   Router

	flows     FlowAdmin
	parseFlow func([]byte) (*backend.Flow, error)
	simulate  FlowSimulator
}

// NewServer returns a Server with its routes. Call Close to stop its hub.
func NewServer(store backend.Store, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.Default()
	}
	s := &Server{Store: store, Logger: logger, MaxBody: DefaultMaxBody, mux: http.NewServeMux()}
	s.hub = NewHub(store, logger)
	s.routes()
	return s
}

// Start runs the live-event hub until ctx ends or Close is called.
func (s *Server) Start(ctx context.Context) {
	s.started = true
	go s.hub.Run(ctx)
}

// Close stops the hub, disconnects every WebSocket client and waits.
func (s *Server) Close() {
	s.hub.Close()
	if s.started {
		<-s.hub.stopped
	}
}

// Handle mounts another handler (webhooks, widget) under a pattern.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	s.mux.ServeHTTP(w, r)
}

func (s *Server) routes() {
	s.mux.HandleFunc("POST /api/auth/signin", s.handleSignIn)
	s.mux.Handle("POST /api/auth/signout", s.auth(backend.RoleAgent, s.handleSignOut))
	s.mux.Handle("GET /api/me", s.auth(backend.RoleAgent, s.handleMe))
	s.mux.Handle("GET /api/sync", s.auth(backend.RoleAgent, s.handleSync))
	s.mux.Handle("GET /api/ws", s.auth(backend.RoleAgent, s.handleWebSocket))
	s.mux.Handle("GET /api/conversations", s.auth(backend.RoleAgent, s.handleConversations))
	s.mux.Handle("GET /api/conversations/{id}", s.auth(backend.RoleAgent, s.handleConversation))
	s.mux.Handle("GET /api/conversations/{id}/messages", s.auth(backend.RoleAgent, s.handleMessages))
	s.mux.Handle("POST /api/conversations/{id}/messages", s.auth(backend.RoleAgent, s.handleSendMessage))
	s.mux.Handle("POST /api/conversations/{id}/status", s.auth(backend.RoleAgent, s.handleSetStatus))
	s.mux.Handle("GET /api/contacts/{id}", s.auth(backend.RoleAgent, s.handleContact))
	s.mux.Handle("POST /api/contacts/merge", s.auth(backend.RoleAdmin, s.handleMergeContacts))
	s.mux.Handle("GET /api/canned", s.auth(backend.RoleAgent, s.handleCanned))
	s.mux.Handle("PUT /api/canned/{id}", s.auth(backend.RoleAdmin, s.handlePutCanned))
	s.mux.Handle("GET /api/users", s.auth(backend.RoleSupervisor, s.handleUsers))
	s.mux.Handle("POST /api/users", s.auth(backend.RoleAdmin, s.handleCreateUser))
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		Error(w, r, s.Logger, backend.Errorf(backend.ENotFound, "There is no %s %s.", r.Method, r.URL.Path))
	})
}

type ctxKey int

const sessionKey ctxKey = 1

// SessionFrom returns the signed-in session of an authenticated request.
func SessionFrom(ctx context.Context) *backend.Session {
	s, _ := ctx.Value(sessionKey).(*backend.Session)
	return s
}

// bearerToken reads the token from the Authorization header, or from the
// access_token query parameter for WebSocket clients that cannot set headers.
func bearerToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		return strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
	}
	return r.URL.Query().Get("access_token")
}

// auth wraps h so that it runs only for a signed-in user with at least min.
func (s *Server) auth(min backend.Role, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := bearerToken(r)
		if token == "" {
			Error(w, r, s.Logger, backend.Errorf(backend.EUnauthorized, "Sign in first: this request has no bearer token."))
			return
		}
		sess, err := s.Store.SessionByToken(r.Context(), token)
		if err != nil {
			Error(w, r, s.Logger, err)
			return
		}
		if !sess.User.Role.AtLeast(min) {
			Error(w, r, s.Logger, backend.Errorf(backend.EForbidden, "This needs the %s role; you are signed in as %s.", min, sess.User.Role))
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), sessionKey, sess)))
	})
}

// SignInRequest is the body of POST /api/auth/signin.
type SignInRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// SignInResponse is the answer to a successful sign-in.
type SignInResponse struct {
	Token string       `json:"token"`
	User  backend.User `json:"user"`
	// LastSeq is the change feed's newest sequence at sign-in.
	LastSeq int64 `json:"lastSeq"`
	// Engine names the feed LastSeq belongs to.
	Engine backend.FeedIdentity `json:"engine"`
	Now    time.Time            `json:"now"`
}

func (s *Server) handleSignIn(w http.ResponseWriter, r *http.Request) {
	var req SignInRequest
	if err := decodeJSON(w, r, s.MaxBody, &req); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	if req.Email == "" || req.Password == "" {
		Error(w, r, s.Logger, backend.Errorf(backend.EInvalid, "Both email and password are required."))
		return
	}
	token, u, err := s.Store.Authenticate(r.Context(), req.Email, req.Password)
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	seq, id, err := s.feedPosition(r.Context())
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, SignInResponse{Token: token, User: *u, LastSeq: seq, Engine: id, Now: time.Now().UTC()})
}

func (s *Server) handleSignOut(w http.ResponseWriter, r *http.Request) {
	if err := s.Store.RevokeToken(r.Context(), bearerToken(r)); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, SessionFrom(r.Context()).User)
}
