package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/secret"
	"switchboard/backend/sqlite"
)

// This test stays SQLite-only: it is about SQLite's pool of reader
// connections (MaxReaders); PostgreSQL's pool has no such limit to meet.

// A conversation's snapshot reads everything, its flow execution included,
// in its one read transaction: with a single reader connection it still
// answers, where a second connection taken from the pool would wait forever
// (the embedded engine runs with two readers, and the hub and a desktop's
// sync may each hold one).
func TestConversationSnapshot_NeedsOneReader(t *testing.T) {
	ctx := context.Background()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "engine.db"))
	db.PasswordCost, db.Secrets, db.MaxReaders = 4, secret.MustNew(), 1
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	m, _, err := db.StoreInbound(ctx, &backend.InboundMessage{Channel: "telegram", Instance: "bot", ExternalUserID: "maria", ExternalID: "m1", Text: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SaveFlowExecution(ctx, &backend.FlowExecution{ID: "fx1", ConversationID: m.ConversationID, Status: backend.FlowWaiting}, 0); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	snap, err := db.ConversationSnapshot(ctx, m.ConversationID)
	if err != nil {
		t.Fatalf("snapshot with one reader: %v", err)
	}
	if last := snap[len(snap)-1]; last.Type != backend.EventFlowExecutionUpserted {
		t.Fatalf("the snapshot ends with %s, want the flow execution", last.Type)
	}
}
