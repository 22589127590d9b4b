package app

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"reflect"
	"slices"
	"sync"
	"time"

	"switchboard/backend"
)

// replayed are the events a newly connected page receives at once.
var replayed = []string{"connection", "sync", "progress"}

// tokenCookie remembers the page token across reloads of the same browser.
const tokenCookie = "switchboard_bridge"

// Browser serves the frontend and the bound methods on loopback, so a
// browser (Playwright in tests) drives the same UI against the same Go app
// layer as the window. Every bridge request must carry the random token.
type Browser struct {
	App   *App
	URL   string // with ?token=…
	token string
	srv   *http.Server
	ln    net.Listener

	mu   sync.Mutex
	subs map[chan []byte]struct{}
	// latest holds the newest "connection", "sync" and "progress" events, replayed to
	// a page whose event stream connects after they were sent: each says
	// "this is the state now", so the page re-reads instead of missing it.
	latest map[string][]byte
}

// ServeBrowser starts browser mode on addr (e.g. "127.0.0.1:0") with the
// built frontend in assets.
func ServeBrowser(a *App, assets fs.FS, addr string) (*Browser, error) {
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	b := &Browser{App: a, token: base64.RawURLEncoding.EncodeToString(raw[:]), ln: ln, subs: map[chan []byte]struct{}{}, latest: map[string][]byte{}}
	b.URL = fmt.Sprintf("http://%s/?token=%s", ln.Addr(), b.token)
	a.setEmitter(b.broadcast)

	mux := http.NewServeMux()
	mux.HandleFunc("POST /bridge/call", b.handleCall)
	mux.HandleFunc("GET /bridge/events", b.handleEvents)
	static := http.FileServerFS(assets)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		// The page strips the token from the address bar; a cookie set on
		// the first load lets a reload in the same browser through.
		token := r.URL.Query().Get("token")
		if c, err := r.Cookie(tokenCookie); token == "" && err == nil {
			token = c.Value
		}
		if !b.validToken(token) {
			http.Error(w, "This page needs the token printed when browser mode started.", http.StatusForbidden)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		static.ServeHTTP(w, r)
	})
	mux.Handle("GET /", static)
	b.srv = &http.Server{Handler: securePage(mux, pagePolicy(assets)), ReadHeaderTimeout: 10 * time.Second}
	go b.srv.Serve(ln)
	return b, nil
}

// Close stops serving and shuts the app down.
func (b *Browser) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	b.mu.Lock()
	for ch := range b.subs {
		close(ch)
		delete(b.subs, ch)
	}
	b.mu.Unlock()
	err := b.srv.Shutdown(ctx)
	b.App.shutdown()
	return err
}

func (b *Browser) validToken(t string) bool {
	return t != "" && subtle.ConstantTimeCompare([]byte(t), []byte(b.token)) == 1
}

type bridgeCall struct {
	Method string            `json:"method"`
	Args   []json.RawMessage `json:"args"`
}

func (b *Browser) handleCall(w http.ResponseWriter, r *http.Request) {
	if !b.validToken(r.Header.Get("X-Bridge-Token")) {
		writeBridgeError(w, &uiError{Code: backend.EUnauthorized, Message: "The bridge token is missing or wrong."})
		return
	}
	var call bridgeCall
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&call); err != nil {
		writeBridgeError(w, &uiError{Code: backend.EInvalid, Message: "The call is not valid JSON: " + err.Error() + "."})
		return
	}
	result, err := Call(b.App, call.Method, call.Args)
	if err != nil {
		writeBridgeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"result": result})
}

// Call invokes an exported method of a by name with JSON-encoded arguments,
// exactly as Wails would: the same methods, the same error shape.
func Call(a *App, method string, args []json.RawMessage) (any, error) {
	m := reflect.ValueOf(a).MethodByName(method)
	if !m.IsValid() || method == "" {
		return nil, &uiError{Code: backend.ENotFound, Message: fmt.Sprintf("There is no bound method %q.", method)}
	}
	t := m.Type()
	if len(args) != t.NumIn() {
		return nil, &uiError{Code: backend.EInvalid, Message: fmt.Sprintf("%s takes %d arguments, not %d.", method, t.NumIn(), len(args))}
	}
	in := make([]reflect.Value, len(args))
	for i, raw := range args {
		v := reflect.New(t.In(i))
		if err := json.Unmarshal(raw, v.Interface()); err != nil {
			return nil, &uiError{Code: backend.EInvalid, Message: fmt.Sprintf("Argument %d of %s is not a %s.", i+1, method, t.In(i))}
		}
		in[i] = v.Elem()
	}
	out := m.Call(in)
	errType := reflect.TypeFor[error]()
	var result any
	for i, v := range out {
		if t.Out(i).Implements(errType) {
			if !v.IsNil() {
				return nil, v.Interface().(error)
			}
		} else {
			result = v.Interface()
		}
	}
	return result, nil
}

var bridgeStatus = map[string]int{
	backend.EInvalid: 400, backend.EUnauthorized: 401, backend.EForbidden: 403, backend.ENotFound: 404,
	backend.EConflict: 409, backend.ETooLarge: 413, backend.EUnavailable: 503,
}

func writeBridgeError(w http.ResponseWriter, err error) {
	var ue *uiError
	if !errors.As(err, &ue) {
		ue = &uiError{Code: backend.EInternal, Message: backend.ErrorMessage(err)}
	}
	status, ok := bridgeStatus[ue.Code]
	if !ok {
		status = 500
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": ue})
}

// handleEvents streams UI events as server-sent events.
func (b *Browser) handleEvents(w http.ResponseWriter, r *http.Request) {
	if !b.validToken(r.URL.Query().Get("token")) {
		writeBridgeError(w, &uiError{Code: backend.EUnauthorized, Message: "The bridge token is missing or wrong."})
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ch := make(chan []byte, 64)
	b.mu.Lock()
	b.subs[ch] = struct{}{}
	for _, name := range replayed {
		if msg := b.latest[name]; msg != nil {
			ch <- msg
		}
	}
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		if _, ok := b.subs[ch]; ok {
			delete(b.subs, ch)
			close(ch)
		}
		b.mu.Unlock()
	}()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": connected\n\n")
	flusher.Flush()
	ping := time.NewTicker(20 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case msg, ok := <-ch:
			if !ok {
				return
			}
			w.Write(msg)
			flusher.Flush()
		case <-ping.C:
			fmt.Fprint(w, ": ping\n\n")
			flusher.Flush()
		}
	}
}

// broadcast is browser mode's emitter: one SSE message per subscriber; a
// subscriber that is not reading loses the event rather than blocking.
func (b *Browser) broadcast(name string, data any) {
	payload, err := json.Marshal(data)
	if err != nil {
		return
	}
	msg := []byte(fmt.Sprintf("event: %s\ndata: %s\n\n", name, payload))
	b.mu.Lock()
	defer b.mu.Unlock()
	if slices.Contains(replayed, name) {
		b.latest[name] = msg
	}
	for ch := range b.subs {
		select {
		case ch <- msg:
		default:
		}
	}
}
