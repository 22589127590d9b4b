package flow_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/flow"
)

// botServer is a local chatbot: POST /bot with {"text": …} answers
// {"reply": …, "confidence": …}; /slow sleeps; /fail answers 500.
type botServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []map[string]any
	hdrs []http.Header
	form []string
}

func newBotServer(t *testing.T) *botServer {
	b := &botServer{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /bot", func(w http.ResponseWriter, r *http.Request) {
		var in map[string]any
		json.NewDecoder(r.Body).Decode(&in)
		b.mu.Lock()
		b.reqs = append(b.reqs, in)
		b.hdrs = append(b.hdrs, r.Header.Clone())
		b.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"reply": "Bot says: " + in["text"].(string), "confidence": 0.9,
			"meta": map[string]any{"intent": "greet"}})
	})
	mux.HandleFunc("POST /form", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b.mu.Lock()
		b.form = append(b.form, r.Header.Get("Content-Type")+" "+string(body))
		b.mu.Unlock()
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":"down"}`, http.StatusInternalServerError)
	})
	b.Server = httptest.NewServer(mux)
	t.Cleanup(b.Close)
	return b
}

func httpFlow(props flow.HTTPProperties) *backend.Flow {
	return mkflow("bot",
		w("bot", "make-http-request", to("success", "ok", "failed", "failed", "timeout", "slow"), props),
		msg("ok", "{{widgets.bot.parsed.reply}} ({{flow.variables.intent}})", to("sent", "end", "failed", "end")),
		msg("failed", "failed {{widgets.bot.status_code}}", to("sent", "end", "failed", "end")),
		msg("slow", "timeout", to("sent", "end", "failed", "end")),
		endW)
}

func TestWidget_HTTPRequest(t *testing.T) {
	bot := newBotServer(t)
	jsonBody := json.RawMessage(`{"text": "{{message.body}}", "conversation": "{{conversation.id}}", "n": 1}`)
	runWidgetCases(t, []widgetCase{
		{name: "success uses the parsed answer",
			flow: httpFlow(flow.HTTPProperties{URL: bot.URL + "/bot", JSON: jsonBody,
				Headers: map[string]string{"X-Conversation": "{{conversation.id}}"}, Save: map[string]string{"intent": "meta.intent"}}),
			acts: []act{say("hi")}, sent: sends("Bot says: hi (greet)"), status: "ended", vars: vars("intent", "greet"),
			outputs: map[string]any{"bot.status_code": 200}},
		{name: "non-2xx takes failed", flow: httpFlow(flow.HTTPProperties{Method: "POST", URL: bot.URL + "/fail"}),
			acts: []act{say("hi")}, sent: sends("failed 500"), status: "ended"},
		{name: "a slow bot takes timeout", flow: httpFlow(flow.HTTPProperties{URL: bot.URL + "/slow", TimeoutMs: 50}),
			acts: []act{say("hi")}, sent: sends("timeout"), status: "ended", outputs: map[string]any{"bot.error": "timeout"}},
		{name: "a refused connection takes failed", flow: httpFlow(flow.HTTPProperties{URL: "http://127.0.0.1:1/"}),
			acts: []act{say("hi")}, sent: sends("failed "), status: "ended"},
		{name: "a URL that renders bad takes failed", flow: httpFlow(flow.HTTPProperties{URL: "{{message.body}}"}),
			acts: []act{say("not a url")}, sent: sends("failed "), status: "ended"},
	})
	bot.mu.Lock()
	defer bot.mu.Unlock()
	if len(bot.reqs) != 1 || bot.reqs[0]["text"] != "hi" || bot.reqs[0]["conversation"] != "cv_1" || bot.reqs[0]["n"] != 1.0 {
		t.Fatalf("bot got %v", bot.reqs)
	}
	if got := bot.hdrs[0].Get("X-Conversation"); got != "cv_1" {
		t.Fatalf("header X-Conversation = %q", got)
	}
	if ct := bot.hdrs[0].Get("Content-Type"); ct != "application/json" {
		t.Fatalf("content type %q", ct)
	}
}

func TestWidget_HTTPRequestForm(t *testing.T) {
	bot := newBotServer(t)
	f := mkflow("bot",
		w("bot", "make-http-request", to("success", "end", "failed", "end", "timeout", "end"),
			flow.HTTPProperties{URL: bot.URL + "/form", Form: map[string]string{"Body": "{{message.body}}", "From": "{{contact.channel.address}}"}}),
		endW)
	h := newHarness(t, f)
	h.say("a&b=c")
	bot.mu.Lock()
	defer bot.mu.Unlock()
	want := "application/x-www-form-urlencoded Body=a%26b%3Dc&From=%2B15550001111"
	if len(bot.form) != 1 || bot.form[0] != want {
		t.Fatalf("form %q, want %q", bot.form, want)
	}
	if x := h.exec(); x.Outputs["bot"]["body"] != "ok" {
		t.Fatalf("outputs %v", x.Outputs["bot"])
	}
}
