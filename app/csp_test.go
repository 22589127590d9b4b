package app

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBrowserPage_SendsThePagePolicy: browser mode sends the built page's
// own Content-Security-Policy as a header (plus frame-ancestors), and the
// real page's policy is strict.
func TestBrowserPage_SendsThePagePolicy(t *testing.T) {
	dist := filepath.Join("..", "frontend", "dist")
	page, err := os.ReadFile(filepath.Join(dist, "index.html"))
	if err != nil {
		t.Fatalf("build the frontend first (npm run build): %v", err)
	}
	m := cspMeta.FindSubmatch(page)
	if m == nil {
		t.Fatal("frontend/dist/index.html has no Content-Security-Policy meta tag")
	}
	meta := string(m[1])
	for _, want := range []string{"default-src 'self'", "script-src 'self';", "object-src 'none'", "base-uri 'none'", "connect-src 'self'"} {
		if !strings.Contains(meta+";", want) {
			t.Errorf("the page policy lacks %q: %s", want, meta)
		}
	}
	for _, bad := range []string{"unsafe-eval", "script-src 'self' 'unsafe-inline'", "*"} {
		if strings.Contains(meta, bad) {
			t.Errorf("the page policy allows %q: %s", bad, meta)
		}
	}

	b, err := ServeBrowser(newTestApp(t, t.TempDir()), os.DirFS(dist), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, path := range []string{strings.TrimPrefix(b.URL, "http://"+b.ln.Addr().String()), "/", "/index.html"} {
		resp, err := http.Get("http://" + b.ln.Addr().String() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Content-Security-Policy"); got != meta+"; frame-ancestors 'none'" {
			t.Errorf("GET %s (%d): policy %q", path, resp.StatusCode, got)
		}
	}
}
