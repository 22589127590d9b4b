package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"switchboard/backend/secret"
	"switchboard/backend/server"
	"switchboard/channels/twilio/twiliotest"
)

// /metrics answers a scraper on the engine's machine in the Prometheus
// text format with every stage's backlog and lag and the writer's
// counters; a request a proxy on the same machine forwarded from elsewhere
// needs an admin's token.
func TestMetrics_StagesInPrometheusFormat(t *testing.T) {
	fake := twiliotest.NewServer(accountSID, authToken)
	defer fake.Close()
	e := startEngine(t, fake)
	text(t, e, fake, "+15550001111", "Hello there")

	resp, err := http.Get(e.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("GET /metrics from loopback: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	for _, want := range []string{
		"# TYPE switchboard_stage_backlog gauge\n",
		`switchboard_stage_backlog{stage="inbound"} `,
		`switchboard_stage_lag_seconds{stage="inbound"} `,
		`switchboard_stage_backlog{stage="outbox"} `,
		`switchboard_stage_backlog{stage="routing"} `,
		`switchboard_stage_backlog{stage="store_writer"} `,
		"# TYPE switchboard_store_commits_total counter\n",
		"# TYPE switchboard_store_checkpoints_total counter\n",
		"# TYPE switchboard_store_wal_pages gauge\n",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(string(body), "switchboard_store_transactions_total 0\n") || strings.Contains(string(body), "switchboard_feed_sequence 0\n") {
		t.Errorf("/metrics does not count the stored webhook:\n%s", body)
	}

	// Behind a reverse proxy on this machine, the client's address counts.
	proxied, err := server.Open(context.Background(), server.Config{DataDir: t.TempDir(), PasswordCost: 4, SecretKey: secret.MustNew(),
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer proxied.Close()
	req, _ := http.NewRequest("GET", proxied.URL()+"/metrics", nil)
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a request forwarded from 203.0.113.7 without a token got %d, want 401", resp.StatusCode)
	}
	req.Header.Del("X-Forwarded-For")
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("a local request without a token got %d from the engine behind a proxy, want 200", resp.StatusCode)
	}
}
