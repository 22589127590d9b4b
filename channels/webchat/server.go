package webchat

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"switchboard/backend"
	"switchboard/channels"
)

// Store is what the widget server needs from the engine's store.
type Store interface {
	backend.EventService
	FindChannelInstance(ctx context.Context, connector, instance string) (*backend.ChannelInstance, error)
	StoreInbound(ctx context.Context, in *backend.InboundMessage) (*backend.Message, bool, error)
	FindConversationByID(ctx context.Context, id string) (*backend.Conversation, error)
	FindContactByID(ctx context.Context, id string) (*backend.Contact, error)
	UpdateContact(ctx context.Context, c *backend.Contact) error
	SessionByToken(ctx context.Context, token string) (*backend.Session, error)

	// WebchatKey returns a named server key, creating it on first use.
	WebchatKey(ctx context.Context, name string) ([]byte, error)
	// PutWebchatUpload stores a visitor's file unless it takes the visitor
	// or the instance over quota (ETooLarge).
	PutWebchatUpload(ctx context.Context, id, instance, subject, name, typ string, data []byte, q backend.UploadQuota) error
	// AttachWebchatUploads marks a visitor's uploads as carried by a
	// message and returns them as attachments. Returns EInvalid for an id
	// that is not the visitor's.
	AttachWebchatUploads(ctx context.Context, instance, subject string, ids []string, urlOf func(id string) string) ([]backend.Attachment, error)
	// DeleteOrphanWebchatUploads deletes uploads no message carries made
	// before cutoff.
	DeleteOrphanWebchatUploads(ctx context.Context, cutoff time.Time) (int, error)
	// WebchatUpload returns a stored file and its uploader. Returns ENotFound.
	WebchatUpload(ctx context.Context, instance, id string) (subject, name, typ string, data []byte, err error)
	// WebchatHistory returns a visitor's non-private messages, oldest first.
	WebchatHistory(ctx context.Context, instance, threadKey string, limit int) ([]*backend.Message, error)
}

// Defaults of the upload limits.
const (
	DefaultVisitorUploadBytes  = 50 << 20
	DefaultInstanceUploadBytes = 1 << 30
	DefaultUploadQuotaWindow   = 24 * time.Hour
	DefaultOrphanUploadAge     = time.Hour
	DefaultUploadSweep         = 10 * time.Minute
)

// Options tune a Server. The zero value works.
type Options struct {
	Logger *slog.Logger
	// Clock runs the sweeper of unattached uploads (default the system
	// clock); Now defaults to its Now.
	Clock backend.Clock
	Now   func() time.Time
	// TokenTTL is how long a visitor token stays valid (default 180 days).
	TokenTTL time.Duration
	// MaxUploadBytes limits one uploaded file (default 10 MiB).
	MaxUploadBytes int64
	// VisitorUploadBytes and InstanceUploadBytes bound what one visitor
	// and all visitors of an instance upload within UploadQuotaWindow
	// (defaults 50 MiB and 1 GiB a day): anonymous visitors cost nothing to
	// make, so the instance's bound is what keeps a disk from filling.
	VisitorUploadBytes, InstanceUploadBytes int64
	UploadQuotaWindow                       time.Duration
	// OrphanUploadAge is how long an upload no message carries is kept
	// (default 1 h); the sweeper looks every UploadSweep (default 10 min).
	OrphanUploadAge, UploadSweep time.Duration
	// Rate is the messages (and typing signals) per second one socket may
	// send, with Burst at once (defaults 5 and 20); a socket that goes
	// over is closed with 1008.
	Rate  float64
	Burst int
	// HistoryLimit is how many past messages a returning visitor gets
	// (default 200).
	HistoryLimit int
	// OnVisitorTyping, when set, is told that a visitor is typing in a
	// thread (for the agents' live view).
	OnVisitorTyping func(instance, threadKey string)
	// Calls, when set, takes the visitor's call.* frames: the widget shows
	// a call button and the call is signaled over the socket.
	Calls CallHandler
}

// CallHandler handles a visitor's web call (the voice engine implements
// it). send queues a frame to the visitor's socket; gone is closed when
// that socket closes.
type CallHandler interface {
	VisitorFrame(ctx context.Context, instance, subject, name string, frame []byte, send func([]byte), gone <-chan struct{})
}

// Server serves the widget under /widget/: the script, the visitor session,
// the socket, uploads and uploaded files. Mount it at "/widget/" without
// stripping the prefix, then Start it.
type Server struct {
	store Store
	opts  Options
	log   *slog.Logger
	mux   *http.ServeMux
	hub   *hub

	keyMu sync.Mutex
	key   []byte // the visitor-token signing key, loaded on first use
	// scripts caches the served script per look.
	scripts scripts

	sweepMu     sync.Mutex
	sweepStop   func() bool
	sweepClosed bool
	sweeping    sync.WaitGroup
}

// tokenKeyName names the visitor-token signing key in the store.
const tokenKeyName = "visitor-token"

// NewServer returns a widget server over store. Call Start, then Close.
func NewServer(ctx context.Context, store Store, opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Clock == nil {
		opts.Clock = backend.SystemClock{}
	}
	if opts.Now == nil {
		opts.Now = opts.Clock.Now
	}
	if opts.VisitorUploadBytes <= 0 {
		opts.VisitorUploadBytes = DefaultVisitorUploadBytes
	}
	if opts.InstanceUploadBytes <= 0 {
		opts.InstanceUploadBytes = DefaultInstanceUploadBytes
	}
	if opts.UploadQuotaWindow <= 0 {
		opts.UploadQuotaWindow = DefaultUploadQuotaWindow
	}
	if opts.OrphanUploadAge <= 0 {
		opts.OrphanUploadAge = DefaultOrphanUploadAge
	}
	if opts.UploadSweep <= 0 {
		opts.UploadSweep = DefaultUploadSweep
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = 180 * 24 * time.Hour
	}
	if opts.MaxUploadBytes <= 0 {
		opts.MaxUploadBytes = 10 << 20
	}
	if opts.Rate <= 0 {
		opts.Rate = 5
	}
	if opts.Burst <= 0 {
		opts.Burst = 20
	}
	if opts.HistoryLimit <= 0 {
		opts.HistoryLimit = 200
	}
	s := &Server{store: store, opts: opts, log: opts.Logger.With("component", "webchat"), mux: http.NewServeMux()}
	s.hub = newHub(store, s.log)
	s.mux.HandleFunc("GET /widget/{instance}/widget.js", s.handleScript)
	s.mux.HandleFunc("OPTIONS /widget/{instance}/{what}", s.handlePreflight)
	s.mux.HandleFunc("POST /widget/{instance}/session", s.handleSession)
	s.mux.HandleFunc("GET /widget/{instance}/ws", s.handleSocket)
	s.mux.HandleFunc("POST /widget/{instance}/upload", s.handleUpload)
	s.mux.HandleFunc("GET /widget/{instance}/files/{id}", s.handleFile)
	s.mux.HandleFunc("POST /widget/{instance}/typing/{conversation}", s.handleAgentTyping)
	s.mux.HandleFunc("GET /widget/{instance}/preview", s.handlePreview)
	return s, nil
}

// signingKey returns the visitor-token key, creating it on first use: an
// engine with no secret key (so no web chat instance either) never needs
// one. Returns EUnavailable when it cannot be stored.
func (s *Server) signingKey(ctx context.Context) ([]byte, error) {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	if s.key == nil {
		key, err := s.store.WebchatKey(ctx, tokenKeyName)
		if err != nil {
			return nil, err
		}
		s.key = key
	}
	return s.key, nil
}

// Start runs the push loop and the sweeper of unattached uploads until
// Close (or ctx ends).
func (s *Server) Start(ctx context.Context) {
	s.hub.start(ctx)
	s.scheduleSweep(ctx)
}

// Close disconnects every visitor and stops the push loop and the sweeper.
func (s *Server) Close() error {
	s.stopSweeps()
	s.hub.close()
	return nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// AgentTyping tells the visitor of a web chat conversation that an agent
// is typing. Returns ENotFound for a conversation that is not web chat.
func (s *Server) AgentTyping(ctx context.Context, conversationID string) error {
	c, err := s.store.FindConversationByID(ctx, conversationID)
	if err != nil {
		return err
	}
	if c.Channel != ID {
		return backend.Errorf(backend.ENotFound, "The conversation is not a web chat.")
	}
	s.hub.typing(threadID(c.Instance, c.ThreadKey))
	return nil
}

// config loads an enabled widget instance. Returns ENotFound.
func (s *Server) config(ctx context.Context, instance string) (*Config, error) {
	ci, err := s.store.FindChannelInstance(ctx, ID, instance)
	if err != nil || !ci.Enabled {
		return nil, backend.Errorf(backend.ENotFound, "There is no such chat widget.")
	}
	return ParseConfig(ci.Config)
}

// cors checks the request's Origin against the widget's allowed origins and
// sets the CORS headers. It answers and returns nil when refused.
func (s *Server) cors(w http.ResponseWriter, r *http.Request) *Config {
	cfg, err := s.config(r.Context(), r.PathValue("instance"))
	if err != nil {
		s.fail(w, r, err)
		return nil
	}
	origin := r.Header.Get("Origin")
	if !cfg.AllowsOrigin(origin) && !ownOrigin(r, origin) {
		s.log.Warn("widget origin refused", "instance", r.PathValue("instance"), "origin", origin)
		s.fail(w, r, backend.Errorf(backend.EForbidden, "This site may not use the chat widget."))
		return nil
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
	return cfg
}

func (s *Server) handlePreflight(w http.ResponseWriter, r *http.Request) {
	if s.cors(w, r) == nil {
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "POST, GET")
	h.Set("Access-Control-Allow-Headers", "Content-Type, Authorization")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

// SessionRequest is the body of POST /widget/{instance}/session.
type SessionRequest struct {
	// Token is the visitor token kept in localStorage, if any.
	Token string `json:"token,omitempty"`
	// Name and Email come from the pre-chat form (both optional).
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	// Identifier and IdentifierHash link a signed-in user of the business's
	// site: IdentifierHash = hex(HMAC-SHA256(identitySecret, Identifier)).
	Identifier     string `json:"identifier,omitempty"`
	IdentifierHash string `json:"identifierHash,omitempty"`
}

// SessionResponse is the answer: a (possibly renewed) token, the widget's
// look and the visitor's history.
type SessionResponse struct {
	Token    string `json:"token"`
	Name     string `json:"name,omitempty"`
	Email    string `json:"email,omitempty"`
	Verified bool   `json:"verified"`
	Title    string `json:"title"`
	Greeting string `json:"greeting,omitempty"`
	Color    string `json:"color"`
	PreChat  bool   `json:"preChat"`
	// Calls says the widget may offer a call button.
	Calls    bool           `json:"calls"`
	Messages []*WireMessage `json:"messages"`
}

func (s *Server) handleSession(w http.ResponseWriter, r *http.Request) {
	cfg := s.cors(w, r)
	if cfg == nil {
		return
	}
	instance := r.PathValue("instance")
	var req SessionRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		s.fail(w, r, backend.Errorf(backend.EInvalid, "The session request is not valid JSON."))
		return
	}
	key, err := s.signingKey(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := s.opts.Now()
	var claims *Claims
	if req.Token != "" {
		if c, err := ParseToken(key, req.Token, now, s.opts.TokenTTL); err == nil && c.Instance == instance {
			claims = c
		}
	}
	if req.Identifier != "" {
		if !ValidIdentity(cfg.IdentitySecret.Reveal(), req.Identifier, req.IdentifierHash) || len(req.Identifier) > 200 {
			s.fail(w, r, backend.Errorf(backend.EForbidden, "The identity hash does not match."))
			return
		}
		if claims == nil || claims.Subject != "u:"+req.Identifier {
			claims = &Claims{Instance: instance, Subject: "u:" + req.Identifier}
		}
	}
	if claims == nil {
		claims = &Claims{Instance: instance, Subject: backend.NewID("v")}
	}
	if name := cleanLine(req.Name, 100); name != "" {
		claims.Name = name
	}
	if email := cleanLine(req.Email, 254); email != "" {
		if !strings.Contains(email, "@") {
			s.fail(w, r, backend.Errorf(backend.EInvalid, "That email address does not look right."))
			return
		}
		claims.Email = email
	}
	claims.IssuedAt = now.Unix()
	history, err := s.store.WebchatHistory(r.Context(), instance, claims.Subject, s.opts.HistoryLimit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	resp := SessionResponse{
		Token: SignToken(key, claims), Name: claims.Name, Email: claims.Email, Verified: claims.Verified(),
		Title: cfg.Title, Greeting: cfg.Greeting, Color: cfg.Color, PreChat: cfg.PreChat == nil || *cfg.PreChat, Calls: s.opts.Calls != nil,
		Messages: make([]*WireMessage, 0, len(history)),
	}
	for _, m := range history {
		resp.Messages = append(resp.Messages, wire(m, claims.Subject))
	}
	writeJSON(w, http.StatusOK, resp)
}

// cleanLine trims s, drops control characters and caps its length.
func cleanLine(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max])
	}
	return s
}

// visitor authenticates a request by its visitor token (Authorization:
// Bearer, or ?token= for the socket).
func (s *Server) visitor(r *http.Request) (*Claims, error) {
	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if token == "" {
		token = r.URL.Query().Get("token")
	}
	key, err := s.signingKey(r.Context())
	if err != nil {
		return nil, err
	}
	c, err := ParseToken(key, token, s.opts.Now(), s.opts.TokenTTL)
	if err != nil {
		return nil, err
	}
	if c.Instance != r.PathValue("instance") {
		return nil, backend.Errorf(backend.EUnauthorized, "The visitor token is for another widget.")
	}
	return c, nil
}

// UploadResponse names a stored upload; send its ID in a message frame.
type UploadResponse struct {
	ID   string `json:"id"`
	URL  string `json:"url"`
	Name string `json:"name"`
	Type string `json:"type"`
	Size int64  `json:"size"`
}

func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request) {
	if s.cors(w, r) == nil {
		return
	}
	claims, err := s.visitor(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxUploadBytes+64<<10)
	f, hdr, err := r.FormFile("file")
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.fail(w, r, backend.Errorf(backend.ETooLarge, "The file is larger than %d MiB.", s.opts.MaxUploadBytes>>20))
			return
		}
		s.fail(w, r, backend.Errorf(backend.EInvalid, "Send the file as multipart form field \"file\"."))
		return
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, s.opts.MaxUploadBytes+1))
	if err != nil || int64(len(data)) > s.opts.MaxUploadBytes {
		s.fail(w, r, backend.Errorf(backend.ETooLarge, "The file is larger than %d MiB.", s.opts.MaxUploadBytes>>20))
		return
	}
	typ := http.DetectContentType(data)
	if ct, _, err := mime.ParseMediaType(hdr.Header.Get("Content-Type")); err == nil && ct != "application/octet-stream" && typ == "application/octet-stream" {
		typ = ct
	}
	name := cleanLine(hdr.Filename, 200)
	if name == "" {
		name = "file"
	}
	id := backend.NewID("up")
	instance := r.PathValue("instance")
	quota := backend.UploadQuota{Since: s.opts.Now().Add(-s.opts.UploadQuotaWindow),
		VisitorBytes: s.opts.VisitorUploadBytes, TotalBytes: s.opts.InstanceUploadBytes}
	if err := s.store.PutWebchatUpload(r.Context(), id, instance, claims.Subject, name, typ, data, quota); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, UploadResponse{ID: id, URL: fileURL(instance, id), Name: name, Type: typ, Size: int64(len(data))})
}

func fileURL(instance, id string) string { return "/widget/" + instance + "/files/" + id }

// handleFile serves an upload. Its random id is the capability to read it;
// it is sent as a download with a sandboxing policy, never rendered inline
// as a page of the engine's origin.
func (s *Server) handleFile(w http.ResponseWriter, r *http.Request) {
	_, name, typ, data, err := s.store.WebchatUpload(r.Context(), r.PathValue("instance"), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	channels.ServeFile(w, name, typ, data)
}

// handleAgentTyping lets a signed-in agent's client show "typing…" to the
// visitor.
func (s *Server) handleAgentTyping(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		s.fail(w, r, backend.Errorf(backend.EUnauthorized, "Sign in first."))
		return
	}
	if _, err := s.store.SessionByToken(r.Context(), token); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.AgentTyping(r.Context(), r.PathValue("conversation")); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// fail answers with the error's code and its plain sentence; errors with
// no code are logged and shown as a generic sentence.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := backend.ErrorCode(err)
	status := backend.HTTPStatus(code)
	msg := backend.ErrorMessage(err)
	if status == http.StatusInternalServerError {
		s.log.Error("widget request", "path", r.URL.Path, "error", err)
		msg = "Something went wrong on our side."
	}
	writeJSON(w, status, map[string]string{"code": code, "message": msg})
}
