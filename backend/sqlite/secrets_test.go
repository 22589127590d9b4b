package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"switchboard/backend"
	"switchboard/backend/secret"
	"switchboard/backend/secret/secrettest"
	"switchboard/backend/storetest"
)

// The tests of this file stay SQLite-only: they read the store's own files
// (the database, its WAL and free pages, their modes), which on PostgreSQL
// are the server's; the sealing itself runs on both stores in the
// conformance suite (Secrets_SealedAndRedacted, Secrets_WithoutKey).

func TestSecrets_NeverInClearOnDisk(t *testing.T) {
	dir := t.TempDir()
	key, _ := secret.New()
	db := MustOpenDBWith(t, filepath.Join(dir, "engine.db"), key)
	webchatKey := storetest.PutSecrets(t, db)
	storetest.CheckSecretsRead(t, db, webchatKey)
	// While open (WAL and shared memory files present) and after closing.
	secrettest.AssertNotOnDisk(t, dir, storetest.TwilioToken, storetest.BotToken, storetest.Bearer, string(webchatKey))
	db.Close()
	secrettest.AssertNotOnDisk(t, dir, storetest.TwilioToken, storetest.BotToken, storetest.Bearer, string(webchatKey))
	db2 := MustOpenDBWith(t, filepath.Join(dir, "engine.db"), key)
	storetest.CheckSecretsRead(t, db2, webchatKey)
}

// TestSecrets_ClearRowsSealedOnFirstOpenWithKey writes secrets the way an
// engine without encryption did (changing one twice, so an old copy sits in
// free space), takes the files as a crash would leave them (WAL not yet
// checkpointed), then opens them with a key.
func TestSecrets_ClearRowsSealedOnFirstOpenWithKey(t *testing.T) {
	written := t.TempDir()
	MustOpenDBWith(t, filepath.Join(written, "engine.db"), nil).Close() // the schema
	webchatKey := []byte("0123456789abcdef0123456789ABCDEF")
	flowDef, _ := json.Marshal(storetest.HTTPFlow())
	rev, _ := json.Marshal(backend.FlowRevision{Key: "sms.twilio/main", Revision: 1, Flow: storetest.HTTPFlow()})
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(written, "engine.db")+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO channel_instances (connector, instance, config, created_at, updated_at) VALUES ('sms.twilio', 'main', ?, '', '')`,
			[]any{`{"accountSid":"AC1","authToken":"old-` + storetest.TwilioToken + `"}`}},
		{`UPDATE channel_instances SET config = ? WHERE instance = 'main'`, []any{`{"accountSid":"AC1","authToken":"` + storetest.TwilioToken + `"}`}},
		{`INSERT INTO channel_instances (connector, instance, config, created_at, updated_at) VALUES ('telegram', 'bot', ?, '', '')`,
			[]any{`{"storetest.BotToken":"` + storetest.BotToken + `"}`}},
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
	for _, s := range []string{storetest.TwilioToken, "old-" + storetest.TwilioToken, storetest.Bearer} {
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
	secrettest.AssertNotOnDisk(t, dir, storetest.TwilioToken, "old-"+storetest.TwilioToken, storetest.BotToken, storetest.Bearer, string(webchatKey))
	storetest.CheckSecretsRead(t, db, webchatKey)
	db.Close()
	secrettest.AssertNotOnDisk(t, dir, storetest.TwilioToken, "old-"+storetest.TwilioToken, storetest.BotToken, storetest.Bearer, string(webchatKey))
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
	storetest.PutSecrets(t, db)
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if _, err := os.Stat(path + suffix); err != nil {
			t.Fatalf("expected %s while open: %v", path+suffix, err)
		}
	}
	if n := secrettest.AssertPrivate(t, dir); n < 3 {
		t.Fatalf("checked %d files", n)
	}
}
