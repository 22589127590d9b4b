package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"switchboard/backend"
	"switchboard/backend/secret"
	"switchboard/backend/secret/secrettest"
	"switchboard/backend/sqlite"
)

const (
	twilioToken = "tw-auth-token-7f3a9c"
	botToken    = "123456:bot-token-b81e"
	bearer      = "Bearer flow-api-key-c42d"
)

// httpFlow is a flow whose HTTP widget sends an Authorization header.
func httpFlow() *backend.Flow {
	return &backend.Flow{Name: "bot", Widgets: []backend.FlowWidget{
		{Name: "trigger", Type: "trigger", Transitions: map[string]string{"incomingMessage": "ask"}},
		{Name: "ask", Type: "make-http-request", Properties: json.RawMessage(
			`{"url":"https://bot.example.com/answer","headers":{"Authorization":"` + bearer + `","X-Plain":""}}`)},
	}}
}

// putSecrets stores one secret of each kind and returns the web chat key.
func putSecrets(t *testing.T, db *sqlite.DB) []byte {
	t.Helper()
	ctx := context.Background()
	for _, ci := range []*backend.ChannelInstance{
		{Connector: "sms.twilio", Instance: "main", Enabled: true, Config: json.RawMessage(`{"accountSid":"AC1","authToken":"` + twilioToken + `"}`)},
		{Connector: "telegram", Instance: "bot", Enabled: true, Config: json.RawMessage(`{"botToken":"` + botToken + `"}`)},
	} {
		if err := db.PutChannelInstance(ctx, ci); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.PutFlow(ctx, "sms.twilio/main", httpFlow()); err != nil {
		t.Fatal(err)
	}
	key, err := db.WebchatKey(ctx, "visitor-token")
	if err != nil || len(key) != 32 {
		t.Fatalf("webchat key %d bytes, %v", len(key), err)
	}
	return key
}

// checkSecretsRead checks that every secret reads back in clear and that the
// change feed carries the flow's headers redacted.
func checkSecretsRead(t *testing.T, db *sqlite.DB, webchatKey []byte) {
	t.Helper()
	ctx := context.Background()
	ci, err := db.FindChannelInstance(ctx, "sms.twilio", "main")
	if err != nil || !strings.Contains(string(ci.Config), twilioToken) {
		t.Fatalf("channel config reads back as %s, %v", ci.Config, err)
	}
	rev, err := db.FindFlow(ctx, "sms.twilio/main")
	if err != nil || !strings.Contains(string(rev.Flow.Widgets[1].Properties), bearer) {
		t.Fatalf("flow reads back as %+v, %v", rev, err)
	}
	if got, err := db.WebchatKey(ctx, "visitor-token"); err != nil || string(got) != string(webchatKey) {
		t.Fatalf("web chat key changed: %v", err)
	}
	evs, err := db.EventsSince(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Type == backend.EventFlowUpserted && (strings.Contains(string(e.Data), bearer) || !strings.Contains(string(e.Data), backend.Redacted)) {
			t.Fatalf("flow event carries %s", e.Data)
		}
	}
}

func TestSecrets_NeverInClearOnDisk(t *testing.T) {
	dir := t.TempDir()
	key, _ := secret.New()
	db := MustOpenDBWith(t, filepath.Join(dir, "engine.db"), key)
	webchatKey := putSecrets(t, db)
	checkSecretsRead(t, db, webchatKey)
	// While open (WAL and shared memory files present) and after closing.
	secrettest.AssertNotOnDisk(t, dir, twilioToken, botToken, bearer, string(webchatKey))
	db.Close()
	secrettest.AssertNotOnDisk(t, dir, twilioToken, botToken, bearer, string(webchatKey))
	db2 := MustOpenDBWith(t, filepath.Join(dir, "engine.db"), key)
	checkSecretsRead(t, db2, webchatKey)
}

// TestSecrets_ClearRowsSealedOnFirstOpenWithKey writes secrets the way an
// engine without encryption did (changing one twice, so an old copy sits in
// free space), takes the files as a crash would leave them (WAL not yet
// checkpointed), then opens them with a key.
func TestSecrets_ClearRowsSealedOnFirstOpenWithKey(t *testing.T) {
	written := t.TempDir()
	MustOpenDBWith(t, filepath.Join(written, "engine.db"), nil).Close() // the schema
	webchatKey := []byte("0123456789abcdef0123456789ABCDEF")
	flowDef, _ := json.Marshal(httpFlow())
	rev, _ := json.Marshal(backend.FlowRevision{Key: "sms.twilio/main", Revision: 1, Flow: httpFlow()})
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(written, "engine.db")+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO channel_instances (connector, instance, config, created_at, updated_at) VALUES ('sms.twilio', 'main', ?, '', '')`,
			[]any{`{"accountSid":"AC1","authToken":"old-` + twilioToken + `"}`}},
		{`UPDATE channel_instances SET config = ? WHERE instance = 'main'`, []any{`{"accountSid":"AC1","authToken":"` + twilioToken + `"}`}},
		{`INSERT INTO channel_instances (connector, instance, config, created_at, updated_at) VALUES ('telegram', 'bot', ?, '', '')`,
			[]any{`{"botToken":"` + botToken + `"}`}},
		{`INSERT INTO webchat_keys (name, key, created_at) VALUES ('visitor-token', ?, '')`, []any{webchatKey}},
		{`INSERT INTO flow_revisions (flow_key, revision, definition, created_at) VALUES ('sms.twilio/main', 1, ?, '')`, []any{string(flowDef)}},
		{`INSERT INTO flows (flow_key, revision, updated_at) VALUES ('sms.twilio/main', 1, '')`, nil},
		{`INSERT INTO events (type, entity_id, data, created_at) VALUES ('flow.upserted', 'sms.twilio/main', ?, '')`, []any{string(rev)}},
	} {
		if _, err := raw.Exec(q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "engine.db")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(filepath.Join(written, "engine.db"+suffix))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path+suffix, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()
	for _, s := range []string{twilioToken, "old-" + twilioToken, bearer} {
		if found := secrettest.Found(t, dir, []byte(s)); len(found) == 0 {
			t.Fatalf("the clear-text set-up left no %q on disk: the test would prove nothing", s)
		}
	}

	noKey := MustOpenDBWith(t, path, nil)
	if has, err := noKey.HasSecrets(context.Background()); err != nil || !has {
		t.Fatalf("HasSecrets on clear rows = %v, %v", has, err)
	}
	noKey.Close()

	key, _ := secret.New()
	db := MustOpenDBWith(t, path, key)
	secrettest.AssertNotOnDisk(t, dir, twilioToken, "old-"+twilioToken, botToken, bearer, string(webchatKey))
	checkSecretsRead(t, db, webchatKey)
	db.Close()
	secrettest.AssertNotOnDisk(t, dir, twilioToken, "old-"+twilioToken, botToken, bearer, string(webchatKey))
}

func TestSecrets_WithoutKey(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "engine.db")
	db := MustOpenDBWith(t, path, nil)
	if has, err := db.HasSecrets(ctx); err != nil || has {
		t.Fatalf("HasSecrets on a new store = %v, %v", has, err)
	}
	err := db.PutChannelInstance(ctx, &backend.ChannelInstance{Connector: "telegram", Instance: "bot", Config: json.RawMessage(`{"botToken":"x"}`)})
	if backend.ErrorCode(err) != backend.EUnavailable || !strings.Contains(backend.ErrorMessage(err), "--secret-key-file") {
		t.Fatalf("put channel without a key: %v", err)
	}
	if _, err := db.WebchatKey(ctx, "visitor-token"); backend.ErrorCode(err) != backend.EUnavailable {
		t.Fatalf("web chat key without a key: %v", err)
	}
	if _, err := db.PutFlow(ctx, "sms.twilio/main", httpFlow()); backend.ErrorCode(err) != backend.EUnavailable {
		t.Fatalf("flow with headers without a key: %v", err)
	}
	plain := &backend.Flow{Name: "plain", Widgets: []backend.FlowWidget{{Name: "trigger", Type: "trigger"}}}
	if _, err := db.PutFlow(ctx, "sms.twilio/main", plain); err != nil {
		t.Fatalf("a flow without secrets needs no key: %v", err)
	}
	if has, err := db.HasSecrets(ctx); err != nil || has {
		t.Fatalf("HasSecrets after refused writes = %v, %v", has, err)
	}
	db.Close()

	key, _ := secret.New()
	withKey := MustOpenDBWith(t, path, key)
	putSecrets(t, withKey)
	withKey.Close()
	other, _ := secret.New()
	wrong := sqlite.NewDB(path)
	wrong.Secrets = other
	if err := wrong.Open(ctx); err == nil || !strings.Contains(err.Error(), "not the one") {
		wrong.Close()
		t.Fatalf("open with another key: %v", err)
	}
	again := MustOpenDBWith(t, path, nil)
	if has, err := again.HasSecrets(ctx); err != nil || !has {
		t.Fatalf("HasSecrets after sealing = %v, %v", has, err)
	}
	if _, err := again.FindChannelInstance(ctx, "sms.twilio", "main"); backend.ErrorCode(err) != backend.EUnavailable {
		t.Fatalf("read a sealed config without the key: %v", err)
	}
}

func TestFiles_ReadableByOwnerOnly(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "engine.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil { // an older engine's file
		t.Fatal(err)
	}
	db := MustOpenDBAt(t, path)
	putSecrets(t, db)
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if _, err := os.Stat(path + suffix); err != nil {
			t.Fatalf("expected %s while open: %v", path+suffix, err)
		}
	}
	if n := secrettest.AssertPrivate(t, dir); n < 3 {
		t.Fatalf("checked %d files", n)
	}
}
