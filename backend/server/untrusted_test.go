package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/secret"
	"switchboard/backend/server"
	"switchboard/channels/custom/customtest"
)

const customSecret = "custom-channel-secret-0123456789"

// postCustom posts a signed custom-channel event to the engine.
func postCustom(t *testing.T, e *server.Server, event string) int {
	t.Helper()
	ts := time.Now().Unix()
	req, _ := http.NewRequest("POST", e.URL()+"/hooks/custom/shop", strings.NewReader(event))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Switchboard-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("X-Switchboard-Signature", customtest.Sign(customSecret, ts, []byte(event)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestUntrusted_AttachmentURLsAtTheBoundary: a platform's webhook with a
// javascript: or data:text/html attachment is stored with the file named
// but not linked; a file inside the message is served by the engine from
// its own path, never as a page; an agent's reply with such a URL is a 400.
func TestUntrusted_AttachmentURLsAtTheBoundary(t *testing.T) {
	ctx := context.Background()
	e := openEngine(t, server.Config{SecretKey: secret.MustNew()})
	token := signInAdmin(t, e)
	if st, body := apiCall(t, e, token, "PUT", "/api/channels/custom/shop",
		`{"config":{"secret":"`+customSecret+`","url":"https://shop.example.com/replies"}}`); st != http.StatusOK {
		t.Fatalf("PUT channel: %d %s", st, body)
	}
	event := `{"type":"message","id":"ev-1","from":{"id":"cust-1","name":"Mallory"},"text":"see attached","attachments":[
		{"url":"javascript:alert(document.domain)","type":"image/png","name":"evil.png"},
		{"url":"data:text/html,<script>alert(1)</script>","type":"text/html","name":"page.html"},
		{"url":"data:image/png;base64,iVBORw0KGgo=","type":"image/png","name":"inline.png"},
		{"url":"https://cdn.example.com/ok.png","type":"image/png","name":"ok.png"}]}`
	if st := postCustom(t, e, event); st != http.StatusOK {
		t.Fatalf("webhook: %d", st)
	}
	m, err := e.DB.FindMessageByExternalID(ctx, "custom", "shop", "ev-1")
	if err != nil {
		t.Fatal(err)
	}
	st, body := apiCall(t, e, token, "GET", "/api/conversations/"+m.ConversationID+"/messages", "")
	var msgs []backend.Message
	if st != http.StatusOK || json.Unmarshal([]byte(body), &msgs) != nil || len(msgs) == 0 {
		t.Fatalf("messages: %d %s", st, body)
	}
	a := msgs[0].Attachments
	if len(a) != 4 || a[0].URL != "" || a[0].Name != "evil.png" || a[1].URL != "" || !strings.HasPrefix(a[2].URL, "/media/") ||
		a[3].URL != "https://cdn.example.com/ok.png" || strings.Contains(body, "javascript:") || strings.Contains(body, "data:") {
		t.Fatalf("attachments as the API shows them: %s", body)
	}

	if st, _ := apiCall(t, e, "", "GET", a[2].URL, ""); st != http.StatusUnauthorized {
		t.Fatalf("a kept file without signing in: %d", st)
	}
	req, _ := http.NewRequest("GET", e.URL()+a[2].URL, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	h := resp.Header
	if resp.StatusCode != http.StatusOK || string(b) != "\x89PNG\r\n\x1a\n" || h.Get("Content-Type") != "image/png" ||
		!strings.Contains(h.Get("Content-Security-Policy"), "sandbox") || h.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("GET %s: %d %q %v", a[2].URL, resp.StatusCode, b, h)
	}
	if st, body := apiCall(t, e, token, "GET", "/media/me_unknown", ""); st != http.StatusNotFound || !strings.Contains(body, `"code":"not_found"`) {
		t.Fatalf("unknown file: %d %s", st, body)
	}

	for i, bad := range []string{"javascript:alert(1)", "data:text/html,x", "file:///etc/passwd", "//evil.example/x"} {
		reply := fmt.Sprintf(`{"text":"here","clientId":"r%d","attachments":[{"url":%q,"type":"image/png"}]}`, i, bad)
		st, body := apiCall(t, e, token, "POST", "/api/conversations/"+m.ConversationID+"/messages", reply)
		if st != http.StatusBadRequest || !strings.Contains(body, `"code":"invalid"`) || !strings.Contains(body, "https://") {
			t.Errorf("reply with %s: %d %s", bad, st, body)
		}
	}
	reply := `{"text":"here","clientId":"ok","attachments":[{"url":"https://cdn.example.com/ok.pdf","type":"application/pdf"}]}`
	if st, body := apiCall(t, e, token, "POST", "/api/conversations/"+m.ConversationID+"/messages", reply); st != http.StatusCreated {
		t.Fatalf("reply with a web URL: %d %s", st, body)
	}
}
