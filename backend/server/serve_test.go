package server_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/secret"
	"switchboard/backend/server"
	"switchboard/channels/twilio/twiliotest"

	"github.com/gorilla/websocket"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestParseServe_FlagsAndEnvironment(t *testing.T) {
	key, _ := secret.Generate()
	env := map[string]string{
		"SWITCHBOARD_ADDR":             "127.0.0.1:9000",
		"SWITCHBOARD_DATA":             "/var/lib/switchboard",
		"SWITCHBOARD_PUBLIC_URL":       "https://support.example.com/",
		"SWITCHBOARD_TRUSTED_PROXY":    "10.0.0.0/8, 192.168.1.7",
		"SWITCHBOARD_CHANNEL_BASE_URL": "sms.twilio=https://sandbox.example.com/,telegram=http://127.0.0.1:9",
		"SWITCHBOARD_DEMO":             "true",
		"SWITCHBOARD_SECRET_KEY":       key,
	}
	cfg, err := server.ParseServe([]string{"--addr", ":8443", "--tls-cert", "c.pem", "--tls-key", "k.pem"}, mapEnv(env), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32")}
	if cfg.Addr != ":8443" || cfg.DataDir != "/var/lib/switchboard" || cfg.PublicURL != "https://support.example.com" || !cfg.Demo ||
		cfg.TLSCertFile != "c.pem" || cfg.TLSKeyFile != "k.pem" || len(cfg.TrustedProxies) != 2 ||
		cfg.TrustedProxies[0] != want[0] || cfg.TrustedProxies[1] != want[1] ||
		cfg.ChannelBaseURLs["sms.twilio"] != "https://sandbox.example.com" || cfg.ChannelBaseURLs["telegram"] != "http://127.0.0.1:9" {
		t.Fatalf("config = %+v", cfg)
	}
	if cfg.SecretKey == nil || cfg.SecretKey.Text() != mustParse(t, key).Text() {
		t.Fatal("the key from SWITCHBOARD_SECRET_KEY was not used")
	}

	keyFile := filepath.Join(t.TempDir(), "key")
	os.WriteFile(keyFile, []byte(key+"\n"), 0o600)
	looseFile := filepath.Join(t.TempDir(), "key")
	os.WriteFile(looseFile, []byte(key), 0o644)
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--public-url", "support.example.com"}, nil, "--public-url"},
		{[]string{"--public-url", "https://x.example.com/?a=1"}, nil, "without query"},
		{[]string{"--trusted-proxy", "proxy.example.com"}, nil, "not an IP address or CIDR"},
		{[]string{"--tls-cert", "c.pem"}, nil, "go together"},
		{[]string{"--channel-base-url", "nope=https://x"}, nil, `no connector "nope"`},
		{[]string{"--channel-base-url", "sms.twilio"}, nil, "CONNECTOR=URL"},
		{[]string{"--channel-base-url", "sms.twilio=ftp://x"}, nil, "not an http(s) URL"},
		{nil, map[string]string{"SWITCHBOARD_SECRET_KEY": "too-short"}, "SWITCHBOARD_SECRET_KEY"},
		{[]string{"--secret-key-file", keyFile}, map[string]string{"SWITCHBOARD_SECRET_KEY": key}, "not both"},
		{[]string{"--secret-key-file", looseFile}, nil, "chmod 600"},
		{nil, map[string]string{"SWITCHBOARD_DEMO": "maybe"}, "SWITCHBOARD_DEMO"},
		{[]string{"extra"}, nil, "no arguments"},
	} {
		_, err := server.ParseServe(tc.args, mapEnv(tc.env), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %v: %v, want an error naming %q", tc.args, tc.env, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), key) {
			t.Errorf("the error repeats the key: %v", err)
		}
	}
	cfg, err = server.ParseServe([]string{"--secret-key-file", keyFile}, mapEnv(nil), io.Discard)
	if err != nil || cfg.SecretKey == nil || cfg.Addr != ":8080" {
		t.Fatalf("key file: %+v, %v", cfg, err)
	}
}

func mapEnv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func mustParse(t *testing.T, text string) *secret.Key {
	t.Helper()
	k, err := secret.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// openEngine starts an engine on a free loopback port with cfg's other
// settings and closes it at cleanup.
func openEngine(t testing.TB, cfg server.Config) *server.Server {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	cfg.PasswordCost, cfg.Logger = 4, discard()
	e, err := server.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func putTwilio(t *testing.T, e *server.Server, fake *twiliotest.Server) {
	t.Helper()
	cfg := `{"accountSid":"` + accountSID + `","authToken":"` + authToken + `","from":"` + ourNumber + `"}`
	if err := e.Channels.PutInstance(context.Background(), &backend.ChannelInstance{Connector: "sms.twilio", Instance: "main", Config: json.RawMessage(cfg), Enabled: true}); err != nil {
		t.Fatal(err)
	}
}

// postFrom posts req from the local address ip (127.0.0.x), as a proxy
// or a client on another machine would.
func postFrom(t *testing.T, ip string, req *http.Request) int {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}).DialContext}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestServe_OnlyTrustedProxiesForward: Twilio signs the URL it called; the
// engine rebuilds it from X-Forwarded-Proto/Host only when a trusted proxy
// sent them.
func TestServe_OnlyTrustedProxiesForward(t *testing.T) {
	fake := twiliotest.NewServer(accountSID, authToken)
	defer fake.Close()
	e := openEngine(t, server.Config{SecretKey: secret.MustNew(), TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")},
		ChannelBaseURLs: map[string]string{"sms.twilio": fake.URL}})
	putTwilio(t, e, fake)
	public := "https://support.example.com/hooks/sms.twilio/main"
	forwarded := func() *http.Request {
		req := fake.WebhookRequest(public, fake.InboundParams("+15557654321", ourNumber, "via the proxy"))
		req.URL, _ = url.Parse(e.URL() + "/hooks/sms.twilio/main")
		req.Host = req.URL.Host
		req.Header.Set("X-Forwarded-Proto", "https")
		req.Header.Set("X-Forwarded-Host", "support.example.com")
		req.Header.Set("X-Forwarded-For", "203.0.113.9")
		return req
	}
	if st := postFrom(t, "127.0.0.1", forwarded()); st != http.StatusForbidden {
		t.Fatalf("X-Forwarded-* from an untrusted peer: %d, want 403", st)
	}
	if st := postFrom(t, "127.0.0.2", forwarded()); st != http.StatusOK {
		t.Fatalf("X-Forwarded-* from the trusted proxy: %d, want 200", st)
	}
}

// TestServe_PublicURLSignsAndCallsBack: with --public-url, Twilio's
// signature is checked against it (whatever Host says) and sends ask for
// status callbacks at it.
func TestServe_PublicURLSignsAndCallsBack(t *testing.T) {
	fake := twiliotest.NewServer(accountSID, authToken)
	defer fake.Close()
	const public = "https://support.example.com"
	e := openEngine(t, server.Config{SecretKey: secret.MustNew(), PublicURL: public, ChannelBaseURLs: map[string]string{"sms.twilio": fake.URL}})
	putTwilio(t, e, fake)
	signedFor := func(u string) *http.Request {
		req := fake.WebhookRequest(u+"/hooks/sms.twilio/main", fake.InboundParams("+15557654321", ourNumber, "hello"))
		req.URL, _ = url.Parse(e.URL() + "/hooks/sms.twilio/main")
		req.Host = req.URL.Host
		return req
	}
	if st := postFrom(t, "127.0.0.1", signedFor(e.URL())); st != http.StatusForbidden {
		t.Fatalf("signed for the listening address: %d, want 403", st)
	}
	if st := postFrom(t, "127.0.0.1", signedFor(public)); st != http.StatusOK {
		t.Fatalf("signed for the public URL: %d, want 200", st)
	}
	// The default flow answers "hello": that send carries the callback.
	deadline := time.Now().Add(15 * time.Second)
	for {
		if reqs := fake.Requests(); len(reqs) > 0 {
			if cb := reqs[0].Form.Get("StatusCallback"); cb != public+"/hooks/sms.twilio/main" {
				t.Fatalf("StatusCallback = %q", cb)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("nothing was sent")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestServe_TLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	e := openEngine(t, server.Config{TLSCertFile: certFile, TLSKeyFile: keyFile})
	if !strings.HasPrefix(e.URL(), "https://") {
		t.Fatalf("URL() = %s", e.URL())
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(e.URL() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.TLS == nil {
		t.Fatalf("healthz over TLS: %d", resp.StatusCode)
	}
	if resp, err := http.Get("http://" + strings.TrimPrefix(e.URL(), "https://") + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("plain HTTP was served")
		}
	}
	if _, err := server.Open(context.Background(), server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), TLSCertFile: keyFile, TLSKeyFile: certFile, Logger: discard()}); err == nil {
		t.Fatal("a swapped certificate and key were accepted")
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns a
// pool that trusts it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "switchboard test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(priv)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestServe_RefusesWithoutKeyOnceSecretsExist(t *testing.T) {
	dir := t.TempDir()
	fresh := openEngine(t, server.Config{DataDir: dir})
	token := signInAdmin(t, fresh)
	st, body := apiCall(t, fresh, token, "PUT", "/api/channels/telegram/bot", `{"config":{"botToken":"1:x","secretToken":"s"}}`)
	if st != http.StatusServiceUnavailable || !strings.Contains(body, "secret key") {
		t.Fatalf("channel without a key: %d %s", st, body)
	}
	fresh.Close()

	key := secret.MustNew()
	keyed := openEngine(t, server.Config{DataDir: dir, SecretKey: key})
	if st, body := apiCall(t, keyed, signInAdmin(t, keyed), "PUT", "/api/channels/telegram/bot", `{"config":{"botToken":"1:x","secretToken":"s"}}`); st != http.StatusOK {
		t.Fatalf("channel with a key: %d %s", st, body)
	}
	keyed.Close()
	_, err := server.Open(context.Background(), server.Config{Addr: "127.0.0.1:0", DataDir: dir, Logger: discard()})
	if !errors.Is(err, server.ErrNoSecretKey) {
		t.Fatalf("open without the key: %v", err)
	}
	_, err = server.Open(context.Background(), server.Config{Addr: "127.0.0.1:0", DataDir: dir, SecretKey: secret.MustNew(), Logger: discard()})
	if err == nil || !strings.Contains(err.Error(), "not the one") {
		t.Fatalf("open with another key: %v", err)
	}
}

// signInAdmin creates an admin (once per engine) and returns a token.
func signInAdmin(t *testing.T, e *server.Server) string {
	t.Helper()
	u := &backend.User{Name: "Admin", Email: "admin@example.com", Role: backend.RoleAdmin}
	if err := e.DB.CreateUser(context.Background(), u, "admin-password"); err != nil && backend.ErrorCode(err) != backend.EConflict {
		t.Fatal(err)
	}
	st, body := apiCall(t, e, "", "POST", "/api/auth/signin", `{"email":"admin@example.com","password":"admin-password"}`)
	var res struct{ Token string }
	if st != http.StatusOK || json.Unmarshal([]byte(body), &res) != nil || res.Token == "" {
		t.Fatalf("sign in: %d %s", st, body)
	}
	return res.Token
}

func apiCall(t *testing.T, e *server.Server, token, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, e.URL()+path, bytes.NewBufferString(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServe_TimeoutsCutSlowClientsNotSockets: a request whose body stalls
// and an idle keep-alive connection are closed after the server's
// timeouts, while an upgraded WebSocket outlives them and still delivers.
func TestServe_TimeoutsCutSlowClientsNotSockets(t *testing.T) {
	const timeout = 300 * time.Millisecond
	e := openEngine(t, server.Config{ReadTimeout: timeout, WriteTimeout: timeout, IdleTimeout: timeout})
	// The session comes from the store: a sign-in over HTTP could itself
	// outlast the short write timeout on a loaded machine.
	ctx := context.Background()
	if err := e.DB.CreateUser(ctx, &backend.User{Name: "Admin", Email: "admin@example.com", Role: backend.RoleAdmin}, "admin-password"); err != nil {
		t.Fatal(err)
	}
	token, _, err := e.DB.Authenticate(ctx, "admin@example.com", "admin-password")
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(e.URL(), "http://")
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/api/ws?since=0", http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()

	slow := dialRaw(t, addr)
	io.WriteString(slow, "POST /api/auth/signin HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\":")
	waitClosed(t, slow, "a request whose body stalls")

	idle := dialRaw(t, addr)
	io.WriteString(idle, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	waitClosed(t, idle, "an idle keep-alive connection") // reads the answer, then EOF

	// Both cuts took longer than the timeouts; the socket still works.
	if _, _, err := e.DB.StoreInbound(context.Background(), &backend.InboundMessage{Channel: "sms.twilio", Instance: "main",
		ExternalUserID: "+15557654321", ExternalID: "SM-after-timeouts", Text: "still there?"}); err != nil {
		t.Fatal(err)
	}
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("the WebSocket was cut: %v", err)
		}
		if strings.Contains(string(msg), "still there?") {
			return
		}
	}
}

func dialRaw(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitClosed reads until the server closes c; a safety deadline far above
// the server's timeouts fails the test instead of hanging.
func waitClosed(t *testing.T, c net.Conn, what string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(15 * time.Second))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("%s was never closed by the server", what)
	}
}
