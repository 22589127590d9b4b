// Package app is what the desktop window binds: thin methods that call the
// API client, the local cache and the keyring. It is the only package that
// imports Wails (desktop.go); every UI event leaves through events.go.
package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"switchboard/app/applog"
	"switchboard/app/autostart"
	"switchboard/app/cache"
	"switchboard/app/keychain"
	"switchboard/app/settings"
	"switchboard/backend"
	"switchboard/backend/server"
)

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
	// Audio picks the phone's sound devices: AudioDefault, AudioNull or
	// AudioNone; Microphone and Speaker name devices (empty: defaults).
	Audio, Microphone, Speaker string
	// AutoAnswer answers offered calls as they ring (not consults).
	AutoAnswer bool
	// Voice lets the embedded engine take phone calls (a SIP address).
	Voice server.VoiceConfig
	// EngineClock drives the embedded engine's routing timers (tests).
	EngineClock backend.Clock
	Logger      *slog.Logger
	// DemoUser, with Demo, signs in as this demo account when the page
	// first calls Ready (so a second launch that only hands over to the
	// running window never opens the engine).
	DemoUser string
	// DemoScreen, with DemoUser, is the screen the UI opens on start
	// ("supervisor"), so the desktop test can photograph it.
	DemoScreen string
	// ConfigDir holds settings.json (DataDir when empty).
	ConfigDir string
	// Autostart is the start-at-login entry; nil means this run cannot
	// change it (tests), and saving StartAtLogin is refused.
	Autostart *autostart.Autostart
	// Log is the rotating log file diagnostics read back (nil: none).
	Log *applog.Log
	// AudioDevices lists the microphones and speakers by name for the
	// settings screen (nil: the softphone's sound devices).
	AudioDevices func() (inputs, outputs []string, err error)
	// Icon is the app icon as PNG (window and tray).
	Icon []byte
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

	settings *settings.Store
	// clipboard puts text on the system clipboard (desktop only).
	clipboard func(text string) error
	// tray shows the agent's state beside the clock (desktop only).
	tray func(TrayState)

	mu       sync.Mutex
	engine   *server.Server
	session  *session
	demoOnce sync.Once
	// ended is set when the engine ended the last session.
	ended bool
}

// New returns an App; mode is "desktop" or "browser".
func New(cfg Config, mode string) *App {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ConfigDir == "" {
		cfg.ConfigDir = cfg.DataDir
	}
	a := &App{cfg: cfg, log: cfg.Logger, keychain: keychain.New(cfg.KeyringService), mode: mode}
	var err error
	if a.settings, err = settings.Open(cfg.ConfigDir); err != nil {
		a.log.Warn("settings", "err", err)
	}
	return a
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
	Version      string            `json:"version"`
	Build        BuildInfo         `json:"build"`
	Mode         string            `json:"mode"`
	Demo         bool              `json:"demo"`
	DemoAccounts []DemoAccount     `json:"demoAccounts"`
	Settings     settings.Settings `json:"settings"`
	// StartScreen is the screen to open once signed in (demo only).
	StartScreen string `json:"startScreen,omitempty"`
}

// Ready is the frontend's first call. It also tells a watcher (the desktop
// test) that the page loaded and reached Go.
func (a *App) Ready() (AppInfo, error) {
	a.log.Info("frontend ready", "mode", a.mode)
	if a.cfg.Demo && a.cfg.DemoUser != "" {
		a.demoOnce.Do(func() {
			if _, err := a.SignIn(SignInRequest{Email: a.cfg.DemoUser, Password: server.DemoPassword}); err != nil {
				a.log.Error("sign in as the demo user", "email", a.cfg.DemoUser, "err", err)
			}
		})
	}
	b := Build()
	info := AppInfo{Version: b.Version, Build: b, Mode: a.mode, Demo: a.cfg.Demo, DemoAccounts: []DemoAccount{}, Settings: a.currentSettings()}
	if a.cfg.Demo {
		info.StartScreen = a.cfg.DemoScreen
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

// ChangePasswordRequest is what the change-password form sends.
type ChangePasswordRequest struct {
	Current string `json:"current"`
	New     string `json:"new"`
}

// ChangePassword replaces the signed-in user's password on the engine.
// Their other sessions end; this one goes on.
func (a *App) ChangePassword(req ChangePasswordRequest) error {
	return a.online(func(ctx context.Context, s *session) error {
		return s.client.ChangePassword(ctx, req.Current, req.New)
	})
}

// Conversations lists cached conversations matching the filter. Scope
// "mine" is the conversations assigned to the user (held, or completed and
// not taken since), "queues" every cached conversation with an open task,
// "all" everything (supervisors and admins).
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
		filter.UserID = s.user.ID
		if w, err := s.cache.WorkerByUser(ctx, s.user.ID); err == nil {
			filter.WorkerID = w.ID
		} else if backend.ErrorCode(err) != backend.ENotFound {
			return nil, a.toUI(err)
		}
	}
	list, err := s.cache.Conversations(ctx, filter)
	if err == nil && len(list) > 0 {
		// Tells a watcher (the desktop test) that conversations reached the screen.
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
	resolveMedia(d, s.client.BaseURL)
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

// SyncStatus is the connection state, the cache's cursor and the replies
// waiting in the outbox. It is also the "connection" event's payload.
type SyncStatus struct {
	// State is online, reconnecting, offline or signed_out.
	State   string `json:"state"`
	LastSeq int64  `json:"lastSeq"`
	// Attempt counts failed attempts to reach the engine since it was
	// last online; RetryAt (RFC 3339, "" when not waiting) is the next one.
	Attempt int    `json:"attempt"`
	RetryAt string `json:"retryAt"`
	// LastError says why the engine could not be reached.
	LastError string `json:"lastError"`
	// Pending counts replies and notes waiting in the outbox.
	Pending int `json:"pending"`
}

// SyncStatus reports whether the app is online, how far it has synced and
// what waits in the outbox.
func (a *App) SyncStatus() (SyncStatus, error) {
	s, err := a.current()
	if err != nil {
		return SyncStatus{State: cache.StateSignedOut}, nil
	}
	st, err := a.syncStatus(context.Background(), s, s.syncer.Status())
	return st, a.toUI(err)
}

func (a *App) syncStatus(ctx context.Context, s *session, st cache.Status) (SyncStatus, error) {
	out := SyncStatus{State: st.State, Attempt: st.Attempt, LastError: st.LastError}
	if !st.RetryAt.IsZero() {
		out.RetryAt = st.RetryAt.Format(time.RFC3339Nano)
	}
	var err error
	if out.LastSeq, err = s.cache.LastSeq(ctx); err != nil {
		return out, err
	}
	pending, err := s.cache.Pending(ctx)
	out.Pending = len(pending)
	return out, err
}

// ReconnectNow tries to reach the engine at once instead of waiting for the
// next retry ("Retry now", the network came back).
func (a *App) ReconnectNow() error {
	s, err := a.current()
	if err != nil {
		return a.toUI(err)
	}
	s.syncer.Reconnect()
	return nil
}

// normalizeServer checks a team server URL typed by a person.
func normalizeServer(raw string) (string, error) { return settings.NormalizeServerURL(raw) }
