package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"switchboard/app/cache"
	"switchboard/app/client"
	"switchboard/app/wake"
	"switchboard/backend"
	"switchboard/backend/server"
	"switchboard/backend/sqlite"
)

// embeddedServer is how account.json and the keyring name the engine
// inside this app; its port changes on every start.
const embeddedServer = "embedded"

// account is the last signed-in account, kept in account.json. It holds
// nothing secret: the token is in the keyring.
type account struct {
	Server string `json:"server"`
	Email  string `json:"email"`
}

func (ac account) keyringKey() string { return ac.Server + "|" + ac.Email }

// session is a signed-in user with a cache being synced.
type session struct {
	server   string
	embedded bool
	user     backend.User
	client   *client.Client
	cache    *cache.Cache
	syncer   *cache.Syncer
	stop     context.CancelFunc
	done     chan struct{}

	phone *phoneLink

	mu        sync.Mutex
	announced map[string]bool // offers already announced
	alerted   map[string]bool // queues red on the last live view
	inboxOnce sync.Once
}

func (s *session) public() Session {
	return Session{Server: s.server, User: s.user, Embedded: s.embedded}
}

func (s *session) close() {
	s.stop()
	<-s.done
	if s.phone != nil {
		<-s.phone.done
	}
	s.cache.Close()
}

func (a *App) current() (*session, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.session == nil {
		return nil, backend.Errorf(backend.EUnauthorized, "Sign in first.")
	}
	return a.session, nil
}

// engineURL returns the base URL for a server name, starting the embedded
// engine when that is the one asked for.
func (a *App) engineURL(ctx context.Context, name string) (string, error) {
	if name != embeddedServer {
		return name, nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.engine == nil {
		key, err := a.engineKey()
		if err != nil {
			return "", err
		}
		if err := server.PrivateDir(a.cfg.DataDir); err != nil {
			return "", err
		}
		e, err := server.Open(ctx, server.Config{
			DataDir: filepath.Join(a.cfg.DataDir, "engine"), Demo: a.cfg.Demo, PasswordCost: a.cfg.PasswordCost, Logger: a.log,
			SecretKey:    key,
			Voice:        a.cfg.Voice,
			RoutingClock: a.cfg.EngineClock, LowMemory: true,
		})
		if err != nil {
			return "", fmt.Errorf("start embedded engine: %w", err)
		}
		a.engine = e
		a.log.Info("embedded engine started", "url", e.URL())
	}
	return a.engine.URL(), nil
}

func (a *App) signIn(ctx context.Context, req SignInRequest) (Session, error) {
	ac := account{Server: embeddedServer, Email: req.Email}
	if req.Server != "" {
		var err error
		if ac.Server, err = normalizeServer(req.Server); err != nil {
			return Session{}, err
		}
	}
	if req.Email == "" || req.Password == "" {
		return Session{}, backend.Errorf(backend.EInvalid, "Enter your email and password.")
	}
	base, err := a.engineURL(ctx, ac.Server)
	if err != nil {
		return Session{}, err
	}
	cl := client.New(base, "")
	res, err := cl.SignIn(ctx, req.Email, req.Password)
	if err != nil {
		return Session{}, err
	}
	if err := a.keychain.Set(ac.keyringKey(), res.Token); err != nil {
		return Session{}, err
	}
	if err := a.saveAccount(ac); err != nil {
		return Session{}, err
	}
	s, err := a.startSession(ctx, ac, cl, res.User)
	if err != nil {
		return Session{}, err
	}
	a.rememberServer(ac.Server)
	return s.public(), nil
}

// ReasonSessionEnded marks the error RestoreSession returns when the
// engine ended the last session: the UI shows why it asks to sign in.
const ReasonSessionEnded = "session_ended"

func sessionEnded() error {
	return backend.ReasonErrorf(backend.ENotFound, ReasonSessionEnded, "Your session has ended (it expired or was signed out on the server). Sign in again; replies you wrote are kept.")
}

// rememberServer makes a team server the one the sign-in screen offers
// next time.
func (a *App) rememberServer(server string) {
	prefs := a.settings.Get()
	if server == embeddedServer || server == prefs.ServerURL {
		return
	}
	prefs.ServerURL = server
	if _, err := a.settings.Save(prefs); err != nil {
		a.log.Warn("remember the server", "err", err)
	}
}

func (a *App) restore(ctx context.Context) (Session, error) {
	if s, err := a.current(); err == nil {
		return s.public(), nil
	}
	a.mu.Lock()
	ended := a.ended
	a.mu.Unlock()
	if ended {
		return Session{}, sessionEnded()
	}
	ac, err := a.loadAccount()
	if err != nil {
		return Session{}, err
	}
	token, err := a.keychain.Get(ac.keyringKey())
	if err != nil {
		return Session{}, err
	}
	base, err := a.engineURL(ctx, ac.Server)
	if err != nil {
		return Session{}, err
	}
	cl := client.New(base, token)
	u, err := cl.Me(ctx)
	switch backend.ErrorCode(err) {
	case "":
	case backend.EUnavailable:
		// Offline: open the cache with what we know and sync when back.
		u = &backend.User{Email: ac.Email}
		if cached, ok := a.cachedUser(ac); ok {
			u = &cached
		}
	case backend.EUnauthorized:
		a.keychain.Delete(ac.keyringKey())
		return Session{}, sessionEnded()
	default:
		return Session{}, err
	}
	s, err := a.startSession(ctx, ac, cl, *u)
	if err != nil {
		return Session{}, err
	}
	return s.public(), nil
}

func (a *App) startSession(ctx context.Context, ac account, cl *client.Client, u backend.User) (*session, error) {
	for _, dir := range []string{a.cfg.DataDir, filepath.Join(a.cfg.DataDir, "cache")} {
		if err := server.PrivateDir(dir); err != nil {
			return nil, err
		}
	}
	if err := sqlite.PrivateFiles(a.cachePath(ac)); err != nil {
		return nil, err
	}
	c, err := cache.Open(ctx, a.cachePath(ac))
	if err != nil {
		return nil, err
	}
	runCtx, stop := context.WithCancel(context.Background())
	s := &session{server: ac.Server, embedded: ac.Server == embeddedServer, user: u, client: cl, cache: c, stop: stop,
		done: make(chan struct{}), announced: map[string]bool{}}
	s.syncer = &cache.Syncer{
		Cache: c, Client: cl, Logger: a.log,
		OnChange: func(seq int64) {
			a.emit("sync", map[string]int64{"lastSeq": seq})
			a.announceOffers(runCtx, s)
			a.announceMissed(runCtx, s)
			a.refreshTray(runCtx)
		},
		OnStatus: func(st cache.Status) { a.connectionChanged(runCtx, s, st) },
		OnState: func(state string) {
			if state == cache.StateSignedOut {
				// The engine no longer knows the session: back to the
				// sign-in screen. The outbox stays for the next session.
				a.endSession(s, ac)
			}
		},
		OnProgress: func(done, total int64) {
			a.emit("progress", map[string]int64{"done": done, "total": total})
			if done == total {
				a.releaseMemory(runCtx, s)
			}
		},
		OnReset:   func(held int) { a.emit("reset", map[string]int{"held": held}) },
		OnTyping:  func(t client.Typing) { a.emit("typing", t) },
		OnRemoved: func(ids []string) { a.emit("removed", map[string][]string{"conversationIds": ids}) },
		OnFrame:   func(typ string, frame []byte) { a.liveFrame(s, typ, frame) },
	}
	// After sleep the connection may be dead without either side knowing:
	// reconnect at once rather than wait for it to time out.
	woke := &wake.Detector{OnWake: func(slept time.Duration) {
		a.log.Info("woke from sleep; reconnecting", "slept", slept.Round(time.Second))
		s.syncer.Reconnect()
	}}
	// A page that listens only after sign-in hears the newest connection and
	// progress events again: make them this session's before its syncer
	// reports, not the last session's (whose "signed out" would send the agent
	// straight back to the sign-in screen).
	a.emit("progress", map[string]int64{"done": 0, "total": 0})
	if st, err := a.syncStatus(ctx, s, cache.Status{State: cache.StateReconnecting}); err == nil {
		a.emit("connection", st)
	}
	go func() {
		defer close(s.done)
		var wg sync.WaitGroup
		wg.Go(func() { woke.Run(runCtx) })
		s.syncer.Run(runCtx)
		wg.Wait() // the session ends by stop(), which ends both
	}()
	s.phone = a.startPhone(runCtx, s)
	a.mu.Lock()
	old := a.session
	a.session, a.ended = s, false
	a.mu.Unlock()
	if old != nil {
		old.close()
	}
	a.rememberUser(ac, u)
	a.refreshTray(ctx)
	return s, nil
}

// endSession ends a session the engine refused (expired or signed out
// elsewhere) and forgets its token, so the next start asks for the
// password; RestoreSession then says why. Its syncer calls it.
func (a *App) endSession(s *session, ac account) {
	a.mu.Lock()
	if a.session != s {
		a.mu.Unlock()
		return
	}
	a.session = nil
	a.ended = true
	a.mu.Unlock()
	if err := a.keychain.Delete(ac.keyringKey()); err != nil {
		a.log.Warn("forget the refused session", "err", err)
	}
	a.log.Info("session ended by the engine", "server", ac.Server)
	go s.close() // its syncer calls this, so it cannot wait for itself
}

// releaseMemory gives back what a long catch-up left behind: SQLite's
// page cache of the local cache beyond what it needs, and the Go heap's
// free pages.
func (a *App) releaseMemory(ctx context.Context, s *session) {
	if err := s.cache.ShrinkMemory(ctx); err != nil {
		a.log.Debug("shrink the cache's memory", "err", err)
	}
	debug.FreeOSMemory()
}

// connectionChanged tells the page and the tray how the connection stands,
// with the replies waiting in the outbox.
func (a *App) connectionChanged(ctx context.Context, s *session, st cache.Status) {
	if st.State == cache.StateOnline || st.Attempt <= 1 {
		a.log.Info("connection", "state", st.State, "attempt", st.Attempt, "err", st.LastError)
	}
	status, err := a.syncStatus(ctx, s, st)
	if err != nil && ctx.Err() == nil {
		a.log.Warn("read the outbox", "err", err)
	}
	a.emit("connection", status)
	a.refreshTray(ctx)
}

func (a *App) signOut(ctx context.Context) error {
	a.mu.Lock()
	s := a.session
	a.session = nil
	a.mu.Unlock()
	if s != nil {
		if err := s.client.SignOut(ctx); err != nil && backend.ErrorCode(err) != backend.EUnavailable {
			a.log.Warn("sign out on engine", "err", err)
		}
		s.close()
	}
	if ac, err := a.loadAccount(); err == nil {
		if err := a.keychain.Delete(ac.keyringKey()); err != nil {
			return err
		}
	}
	if err := os.Remove(a.accountPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	a.refreshTray(ctx)
	return nil
}

// shutdown stops syncing and the embedded engine. The runners call it when
// the window closes; it is not bound, so the page cannot call it.
func (a *App) shutdown() {
	a.mu.Lock()
	s, e := a.session, a.engine
	a.session, a.engine = nil, nil
	a.mu.Unlock()
	if s != nil {
		s.close()
	}
	if e != nil {
		e.Close()
	}
}

func (a *App) accountPath() string { return filepath.Join(a.cfg.DataDir, "account.json") }

func (a *App) cachePath(ac account) string {
	sum := sha256.Sum256([]byte(ac.keyringKey()))
	return filepath.Join(a.cfg.DataDir, "cache", hex.EncodeToString(sum[:8])+".db")
}

func (a *App) saveAccount(ac account) error {
	b, _ := json.Marshal(ac)
	if err := os.MkdirAll(a.cfg.DataDir, 0o700); err != nil {
		return err
	}
	return os.WriteFile(a.accountPath(), b, 0o600)
}

func (a *App) loadAccount() (account, error) {
	var ac account
	b, err := os.ReadFile(a.accountPath())
	if errors.Is(err, fs.ErrNotExist) {
		return ac, backend.Errorf(backend.ENotFound, "Nobody is signed in on this computer.")
	} else if err != nil {
		return ac, err
	}
	if err := json.Unmarshal(b, &ac); err != nil || ac.Email == "" {
		return ac, backend.Errorf(backend.ENotFound, "Nobody is signed in on this computer.")
	}
	return ac, nil
}

// rememberUser and cachedUser keep the user's profile (not secret) beside
// the cache, so an offline start still shows the right name and role.
func (a *App) rememberUser(ac account, u backend.User) {
	if u.ID == "" {
		return
	}
	b, _ := json.Marshal(u)
	os.WriteFile(a.cachePath(ac)+".user.json", b, 0o600)
}

func (a *App) cachedUser(ac account) (backend.User, bool) {
	var u backend.User
	b, err := os.ReadFile(a.cachePath(ac) + ".user.json")
	return u, err == nil && json.Unmarshal(b, &u) == nil
}
