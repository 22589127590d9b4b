package flow_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"

	"switchboard/backend"
	"switchboard/backend/flow"
)

// TestEndToEnd runs the default flow on the real store: messages are
// stored the way connectors store them, handed to the engine the way the
// channel hub hands them over (HandleMessage), and replies are queued with
// StoreOutbound for the outbox to deliver.
func TestEndToEnd(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, filepath.Join(t.TempDir(), "engine.db"))
	e := newSQLEngine(t, db, flow.NewFakeClock(t0), nil, nil)
	deliver := func(from, extID, text string) *backend.Conversation {
		t.Helper()
		m, conv := inbound(t, db, "sms.twilio", "main", from, extID, text)
		if err := e.HandleMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		return conv
	}

	t.Run("hi gets the FAQ answer", func(t *testing.T) {
		conv := deliver("+15550000001", "SM1", "hi")
		got := outbound(t, db, conv.ID)
		if len(got) != 1 || got[0] != flow.DefaultFAQ[0].Answer {
			t.Fatalf("outbound %q, want the greeting answer", got)
		}
		ms, _ := db.FindMessages(ctx, conv.ID)
		if last := ms[len(ms)-1]; last.Status != backend.DeliveryQueued || last.AuthorName != "Bot" || last.ClientID == "" {
			t.Fatalf("bot reply %+v, want queued with a client id", last)
		}
	})

	t.Run("I want a live agent creates a routing task", func(t *testing.T) {
		conv := deliver("+15550000002", "SM2", "I want a live agent")
		want := []taskCall{{conv.ID, "chat", map[string]any{"language": "en", "department": "support"}, 0}}
		if !reflect.DeepEqual(*e.tasks, want) {
			t.Fatalf("tasks %+v, want %+v", *e.tasks, want)
		}
		if got := outbound(t, db, conv.ID); len(got) != 1 || got[0] != "Connecting you with a live agent. Please hold on." {
			t.Fatalf("outbound %q", got)
		}
		x, _ := e.Execution(ctx, conv.ID)
		if x.Status != backend.FlowAgent || x.TaskID != "tk_1" {
			t.Fatalf("execution %s task %q", x.Status, x.TaskID)
		}
		// The agent has it now: the bot stays quiet.
		deliver("+15550000002", "SM3", "hello?")
		if got := outbound(t, db, conv.ID); len(got) != 1 {
			t.Fatalf("the bot answered in an agent's conversation: %q", got)
		}
	})

	t.Run("Spanish keywords hand over in Spanish", func(t *testing.T) {
		*e.tasks = nil
		conv := deliver("+15550000003", "SM4", "Quiero hablar con un agente, por favor")
		if len(*e.tasks) != 1 || (*e.tasks)[0].Attrs["language"] != "es" {
			t.Fatalf("tasks %+v, want language es", *e.tasks)
		}
		if got := outbound(t, db, conv.ID); len(got) != 1 || got[0] != "Le estamos conectando con un agente. Un momento, por favor." {
			t.Fatalf("outbound %q", got)
		}
	})

	t.Run("two unanswered questions hand over", func(t *testing.T) {
		*e.tasks = nil
		deliver("+15550000004", "SM5", "hi")
		deliver("+15550000004", "SM6", "what about the zorblax?")
		conv := deliver("+15550000004", "SM7", "the quux thing")
		want := []string{flow.DefaultFAQ[0].Answer, flow.DefaultFallback, "Connecting you with a live agent. Please hold on."}
		if got := outbound(t, db, conv.ID); !equalStrings(got, want) {
			t.Fatalf("outbound %q, want %q", got, want)
		}
		if len(*e.tasks) != 1 {
			t.Fatalf("tasks %+v", *e.tasks)
		}
	})

	t.Run("the HTTP widget calls a local bot and uses its answer", func(t *testing.T) {
		bot := newBotServer(t)
		f := mkflow("bot",
			w("bot", "make-http-request", to("success", "reply", "failed", "end", "timeout", "end"), map[string]any{
				"method": "POST", "url": bot.URL + "/bot", "json": json.RawMessage(`{"text": "{{message.body}}"}`)}),
			msg("reply", "{{widgets.bot.parsed.reply}}", to("sent", "end", "failed", "end")), endW)
		if _, err := e.SetFlow(ctx, backend.FlowKey("telegram", "support_bot"), f); err != nil {
			t.Fatal(err)
		}
		m, conv := inbound(t, db, "telegram", "support_bot", "4242", "1", "where is my parcel")
		if err := e.HandleMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		if got := outbound(t, db, conv.ID); !equalStrings(got, []string{"Bot says: where is my parcel"}) {
			t.Fatalf("outbound %q", got)
		}
	})
}
