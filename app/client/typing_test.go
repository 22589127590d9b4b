package client_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/app/client"
	"switchboard/backend"
	"switchboard/backend/secret"
	"switchboard/backend/server"
)

// TestTyping_BothWays: a web chat visitor's typing reaches the live feed
// of those who may read the conversation (here the admin) and no other
// agent's, and the typing of someone who may work on it reaches the
// visitor's widget.
func TestTyping_BothWays(t *testing.T) {
	ctx := context.Background()
	e, err := server.Open(ctx, server.Config{DataDir: t.TempDir(), Demo: true, PasswordCost: 4, SecretKey: secret.MustNew()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	const origin = "https://shop.example"
	if err := e.Channels.PutInstance(ctx, &backend.ChannelInstance{Connector: "webchat", Instance: "shop", Enabled: true,
		Config: json.RawMessage(`{"allowedOrigins":["` + origin + `"],"preChat":false}`)}); err != nil {
		t.Fatal(err)
	}
	// The visitor opens a session and writes, which starts a conversation.
	req, _ := http.NewRequest("POST", e.URL()+"/widget/shop/session", strings.NewReader(`{"name":"Wendy"}`))
	req.Header.Set("Origin", origin)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var sess struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&sess)
	resp.Body.Close()
	visitor, _, err := websocket.DefaultDialer.Dial(strings.Replace(e.URL(), "http", "ws", 1)+"/widget/shop/ws?token="+sess.Token,
		http.Header{"Origin": {origin}})
	if err != nil {
		t.Fatal(err)
	}
	defer visitor.Close()
	visitor.WriteJSON(map[string]string{"type": "message", "nonce": "n1", "text": "hello?"})
	var conv string
	for deadline := time.Now().Add(10 * time.Second); conv == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		e.DB.Reader().QueryRow(`SELECT id FROM conversations WHERE channel = 'webchat' AND instance = 'shop'`).Scan(&conv)
	}
	if conv == "" {
		t.Fatal("the visitor's message opened no conversation")
	}

	// The admin's desktop and ana's (the conversation waits for nobody:
	// it is not hers) follow the live feed.
	follow := func(email string) (*client.Client, chan client.Typing, chan backend.Event) {
		cl := client.New(e.URL(), "")
		if _, err := cl.SignIn(ctx, email, server.DemoPassword); err != nil {
			t.Fatal(err)
		}
		head, _ := e.DB.LastSeq(ctx)
		feed, err := cl.OpenFeed(ctx, head)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { feed.Close() })
		typed, events := make(chan client.Typing, 64), make(chan backend.Event, 64)
		feed.OnTyping = func(ty client.Typing) { typed <- ty }
		go func() {
			for {
				got, _, err := feed.Next()
				if err != nil {
					return
				}
				for _, ev := range got {
					events <- ev
				}
			}
		}()
		return cl, typed, events
	}
	cl, typed, _ := follow("admin@example.com")
	ana, anaTyped, anaEvents := follow("ana@example.com")
	// A label reaches everyone: ana's feed is registered once she has it,
	// and frames reach her in the order the hub sent them.
	labelSeen := func(name string) {
		t.Helper()
		l := &backend.Label{Name: name}
		if err := e.DB.PutLabel(ctx, l); err != nil {
			t.Fatal(err)
		}
		for timeout := time.After(10 * time.Second); ; {
			select {
			case ev := <-anaEvents:
				if ev.Type == backend.EventLabelUpserted && ev.EntityID == l.ID {
					return
				}
			case <-timeout:
				t.Fatalf("ana's feed never carried label %s", name)
			}
		}
	}
	labelSeen("before")
	// Typing frames are not stored: send them until the hub, which may
	// register the feed a moment later, passes one on.
	var got client.Typing
	for deadline := time.Now().Add(10 * time.Second); got.ConversationID == "" && time.Now().Before(deadline); {
		visitor.WriteJSON(map[string]string{"type": "typing"})
		select {
		case got = <-typed:
		case <-time.After(200 * time.Millisecond):
		}
	}
	if got.ConversationID != conv || got.Who != "customer" || got.Name != "Wendy" {
		t.Fatalf("the desk saw %+v, want Wendy typing in %s", got, conv)
	}
	labelSeen("after")
	select {
	case ty := <-anaTyped:
		t.Fatalf("ana, who may not read the conversation, saw %+v", ty)
	default:
	}
	if err := ana.Typing(ctx, conv); backend.ErrorCode(err) != backend.EForbidden {
		t.Fatalf("ana typing in a conversation that is not hers: %v", err)
	}

	// The agent types; the visitor's widget hears it.
	if err := cl.Typing(ctx, conv); err != nil {
		t.Fatal(err)
	}
	visitor.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var f struct{ Type string }
		if err := visitor.ReadJSON(&f); err != nil {
			t.Fatalf("the visitor never saw the agent typing: %v", err)
		}
		if f.Type == "typing" {
			break
		}
	}
	if err := cl.Typing(ctx, "cv_nope"); backend.ErrorCode(err) != backend.ENotFound {
		t.Fatalf("typing in an unknown conversation: %v", err)
	}
}
