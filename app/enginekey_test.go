package app

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"switchboard/app/keychain"
	"switchboard/backend"
	"switchboard/backend/secret/secrettest"
	"switchboard/backend/server"
)

// TestEmbeddedEngine_SecretsSealedWithTheKeyringKey runs the desktop's
// embedded engine on a real data directory with a real Secret Service: the
// engine's secret key is in the keyring, a channel secret and the web chat
// signing key are nowhere on disk in clear, every file is private, and a
// new start on the same directory reads the secrets back.
func TestEmbeddedEngine_SecretsSealedWithTheKeyringKey(t *testing.T) {
	requireKeyring(t)
	ctx := context.Background()
	dir := t.TempDir()
	a := newTestApp(t, dir)
	if _, err := a.SignIn(SignInRequest{Email: "admin@example.com", Password: server.DemoPassword}); err != nil {
		t.Fatal(err)
	}
	const token = "desktop-twilio-token-5e1d"
	if err := a.engine.Channels.PutInstance(ctx, &backend.ChannelInstance{Connector: "sms.twilio", Instance: "main", Enabled: true,
		Config: json.RawMessage(`{"accountSid":"AC1","authToken":"` + token + `","from":"+15550001111"}`)}); err != nil {
		t.Fatal(err)
	}
	webchatKey, err := a.engine.DB.WebchatKey(ctx, "visitor-token")
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(dir)
	keyText, err := keychain.New(a.cfg.KeyringService).Get("engine-key|" + abs)
	if err != nil {
		t.Fatalf("the engine key is not in the keyring: %v", err)
	}
	secrets := []string{token, keyText, string(webchatKey)}
	secrettest.AssertNotOnDisk(t, dir, secrets...)
	if n := secrettest.AssertPrivate(t, dir); n < 4 {
		t.Fatalf("only %d files checked; expected the engine's database files, the cache and account.json", n)
	}

	a.shutdown()
	secrettest.AssertNotOnDisk(t, dir, secrets...)
	secrettest.AssertPrivate(t, dir)
	b := newTestApp(t, dir)
	b.cfg.KeyringService, b.keychain = a.cfg.KeyringService, a.keychain
	if _, err := b.SignIn(SignInRequest{Email: "admin@example.com", Password: server.DemoPassword}); err != nil {
		t.Fatal(err)
	}
	ci, err := b.engine.DB.FindChannelInstance(ctx, "sms.twilio", "main")
	if err != nil || !strings.Contains(string(ci.Config), token) {
		t.Fatalf("after a restart the channel reads %s, %v", ci.Config, err)
	}
}
