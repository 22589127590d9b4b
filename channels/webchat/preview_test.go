package webchat_test

import (
	"net/http"
	"strings"
	"testing"

	"switchboard/channels/internal/hubtest"
	"switchboard/channels/webchat"
)

// TestPreview_OwnOriginWorks serves the admin console's live preview: a
// page on the engine's own origin with the widget's script, where the
// widget may open a session although the origin is not among the allowed
// sites; another site still may not.
func TestPreview_OwnOriginWorks(t *testing.T) {
	e := setup(t, webchat.Options{})
	st, page := hubtest.Do(t, mustReq("GET", e.srv.URL+"/widget/site/preview"))
	if st != 200 || !strings.Contains(page, `<script src="/widget/site/widget.js"`) {
		t.Fatalf("preview %d: %s", st, page)
	}
	if st, _ := hubtest.Do(t, mustReq("GET", e.srv.URL+"/widget/nope/preview")); st != 404 {
		t.Fatalf("preview of an unknown widget: %d", st)
	}
	for _, tc := range []struct {
		origin string
		want   int
	}{{e.srv.URL, 200}, {"https://evil.example", 403}} {
		r, _ := http.NewRequest("POST", e.srv.URL+"/widget/site/session", strings.NewReader(`{}`))
		r.Header.Set("Origin", tc.origin)
		r.Header.Set("Content-Type", "application/json")
		if st, body := hubtest.Do(t, r); st != tc.want {
			t.Errorf("session from %s: %d %s, want %d", tc.origin, st, body, tc.want)
		}
	}
}
