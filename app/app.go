// Package app is what the desktop window binds: thin methods that call the
// API client, the local cache and the keyring. It is the only package that
// imports Wails (desktop.go); every UI event leaves through events.go.
package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"switchboard/app/cache"
	"switchboard/app/keychain"
	"switchboard/backend"
	"switchboard/backend/server"
)

// Version is the application version, set at build time.
var Version = "0.1.0-dev"

// Config says where the app keeps its files and how it starts.
type Config struct {
	// DataDir holds the embedded engine's data, the cache and account.json.
	DataDir string
	// Demo seeds the embedded engine with demo data and shows the accounts.
	Demo bool
	// KeyringService names the keyring entry (tests use their own).
	KeyringService string
	// PasswordCost overrides the embedded engine's bcrypt cost (tests).
	PasswordCost int
	// EngineClock drives the embedded engine's routing timers (tests).
	EngineClock backend.Clock
	Logger      *slog.Logger
}

// App is the bound application object.
type App struct {
	cfg      Config
	log      *slog.Logger
	keychain *keychain.Keychain
	mode     string
	emitter  func(name string, data any)
	// notifier replaces the OS notification (tests).
	notifier func(title, body string) error

	mu      sync.Mutex
	engine  *server.Server
	session *session
	// ended is set when the engine ended the last session.
	ended bool
}

// New returns an App; mode is "desktop" or "browser".
func New(cfg Config, mode string) *App {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &App{cfg: cfg, log: cfg.Logger, keychain: keychain.New(cfg.KeyringService), mode: mode}
}

// uiError crosses the bridge as JSON {code, message, reason}: Wails
// rejects a promise with the error's string, and the frontend decodes it
// and shows its own sentence for the code and reason in the user's language.
type uiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Reason  string `json:"reason,omitempty"`
}

func (e *uiError) Error() string {
	b, _ := json.Marshal(e)
	return string(b)
}

// toUI converts any error to a uiError, logging internal ones.
func (a *App) toUI(err error) error {
	if err == nil {
		return nil
	}
	if backend.ErrorCode(err) == backend.EInternal {
		a.log.Error("internal error", "err", err)
	}
	return &uiError{Code: backend.ErrorCode(err), Message: backend.ErrorMessage(err), Reason: backend.ErrorReason(err)}
}

// DemoAccount is a seeded account shown on the sign-in screen.
type DemoAccount struct {
	Email    string       `json:"email"`
	Password string       `json:"password"`
	Role     backend.Role `json:"role"`
}

// AppInfo tells the frontend about the app it runs in.
type AppInfo struct {
	Version      string        `json:"version"`
	Mode         string        `json:"mode"`
	Demo         bool          `json:"demo"`
	DemoAccounts []DemoAccount `json:"demoAccounts"`
}

// Ready is the frontend's first call. It also tells a watcher (the desktop
// test) that the page loaded and reached Go.
func (a *App) Ready() (AppInfo, error) {
	a.log.Info("frontend ready", "mode", a.mode)
	info := AppInfo{Version: Version, Mode: a.mode, Demo: a.cfg.Demo, DemoAccounts: []DemoAccount{}}
	if a.cfg.Demo {
		for _, u := range server.DemoUsers {
			info.DemoAccounts = append(info.DemoAccounts, DemoAccount{Email: u.Email, Password: server.DemoPassword, Role: u.Role})
		}
	}
	return info, nil
}

// SignInRequest is what the sign-in form sends. An empty Server means the
// engine embedded in this app ("This computer").
type SignInRequest struct {
	Server   string `json:"server"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

// Session describes who is signed in where.
type Session struct {
	Server   string       `json:"server"`
	User     backend.User `json:"user"`
	Embedded bool         `json:"embedded"`
}

// SignIn signs in to the embedded engine or a team server, keeps the token
// in the OS keyring and starts syncing the local cache.
func (a *App) SignIn(req SignInRequest) (Session, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := a.signIn(ctx, req)
	return s, a.toUI(err)
}

// RestoreSession resumes the last session from the keyring, without asking
// for the password. Returns not_found when nobody is signed in.
func (a *App) RestoreSession() (Session, error) {
	s, err := a.restore(context.Background())
	return s, a.toUI(err)
}

// SignOut ends the session on the engine (when reachable) and forgets it.
func (a *App) SignOut() error {
	return a.toUI(a.signOut(context.Background()))
}

// Conversations lists cached conversations matching the filter. Scope
// "mine" is the agent's assigned work, "queues" every conversation with an
// open task, "all" everything (supervisors and admins).
func (a *App) Conversations(filter cache.Filter) ([]cache.Summary, error) {
	s, err := a.current()
	if err != nil {
		return nil, a.toUI(err)
	}
	ctx := context.Background()
	switch filter.Scope {
	case cache.ScopeAll:
		if !s.user.Role.AtLeast(backend.RoleSupervisor) {
			return nil, a.toUI(backend.Errorf(backend.EForbidden, "Only supervisors and admins see every conversation."))
		}
	case cache.ScopeMine:
		w, err := s.cache.WorkerByUser(ctx, s.user.ID)
		if err != nil {
			return nil, a.toUI(err)
		}
		filter.WorkerID = w.ID
	}
	list, err := s.cache.Conversations(ctx, filter)
	if err == nil {
		// Tells a watcher (the desktop test) that the inbox reached the screen.
		s.inboxOnce.Do(func() { a.log.Info("inbox shown", "conversations", len(list)) })
	}
	return list, a.toUI(err)
}

// Conversation returns one cached conversation and marks it read.
func (a *App) Conversation(id string) (cache.Detail, error) {
	s, err := a.current()
	if err != nil {
		return cache.Detail{}, a.toUI(err)
	}
	ctx := context.Background()
	if err := s.cache.MarkRead(ctx, id); err != nil {
		return cache.Detail{}, a.toUI(err)
	}
	d, err := s.cache.Conversation(ctx, id)
	if err != nil {
		return cache.Detail{}, a.toUI(err)
	}
	return *d, nil
}

// SendReply queues a reply in the local outbox and sends it as soon as the
// engine is reachable; it shows at once as queued. To answer on another
// channel of the same contact, pass that conversation's id.
func (a *App) SendReply(conversationID, text string) (backend.Message, error) {
	return a.queueMessage(conversationID, text, false)
}

func (a *App) queueMessage(conversationID, text string, private bool) (backend.Message, error) {
	s, err := a.current()
	if err != nil {
		return backend.Message{}, a.toUI(err)
	}
	m, err := s.cache.Queue(context.Background(), conversationID, backend.NewID("cl"), text, s.user, private)
	if err != nil {
		return backend.Message{}, a.toUI(err)
	}
	s.syncer.Kick()
	a.emit("sync", map[string]int64{"lastSeq": 0})
	return *m, nil
}

// SyncStatus is the connection state and the cache's cursor.
type SyncStatus struct {
	State   string `json:"state"`
	LastSeq int64  `json:"lastSeq"`
}

// SyncStatus reports whether the app is online and how far it has synced.
func (a *App) SyncStatus() (SyncStatus, error) {
	s, err := a.current()
	if err != nil {
		return SyncStatus{State: cache.StateSignedOut}, nil
	}
	seq, err := s.cache.LastSeq(context.Background())
	return SyncStatus{State: s.syncer.State(), LastSeq: seq}, a.toUI(err)
}

// normalizeServer checks a team server URL typed by a person.
func normalizeServer(raw string) (string, error) {
	raw = strings.TrimRight(strings.TrimSpace(raw), "/")
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", backend.Errorf(backend.EInvalid, "%q is not a server address; use one like https://switchboard.example.com.", raw)
	}
	return raw, nil
}
