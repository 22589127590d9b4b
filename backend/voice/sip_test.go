package voice_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"switchboard/backend"
	"switchboard/backend/secret"
	"switchboard/backend/sqlite"
	"switchboard/backend/voice"
)

func mustEngine(tb testing.TB, allow string) (*voice.Engine, *sqlite.DB) {
	tb.Helper()
	db := sqlite.NewDB(filepath.Join(tb.TempDir(), "engine.db"))
	db.Secrets = secret.MustNew() // trunk configurations are sealed at rest
	if err := db.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	e, err := voice.New(db, voice.Options{DataDir: tb.TempDir(), SIPAddr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		tb.Fatal(err)
	}
	if err := e.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { e.Close() })
	if err := e.PutTrunk(context.Background(), &backend.Trunk{Name: "main", Enabled: true, Config: []byte(`{"allow":["` + allow + `"]}`)}); err != nil {
		tb.Fatal(err)
	}
	return e, db
}

func sipRequest(tb testing.TB, e *voice.Engine, method sip.RequestMethod, body []byte) *sip.Response {
	tb.Helper()
	ua, _ := sipgo.NewUA(sipgo.WithUserAgentHostname("127.0.0.1"))
	defer ua.Close()
	c, _ := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	defer c.Close()
	host, port, _ := net.SplitHostPort(e.SIPAddr())
	p, _ := strconv.Atoi(port)
	req := sip.NewRequest(method, sip.Uri{User: "+15550100", Host: host, Port: p})
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{User: "peer", Host: "127.0.0.1", Port: 5999}})
	if body != nil {
		req.SetBody(body)
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := c.Do(ctx, req)
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// OPTIONS (a carrier's keep-alive) is answered with what the engine allows.
func TestSIP_OptionsKeepAlive(t *testing.T) {
	e, _ := mustEngine(t, "127.0.0.1")
	res := sipRequest(t, e, sip.OPTIONS, nil)
	if res.StatusCode != 200 || res.GetHeader("Allow") == nil {
		t.Fatalf("OPTIONS answered %s", res.StartLine())
	}
}

// An INVITE from an address no trunk allows is refused and stores nothing;
// one without G.711 is refused with 488.
func TestSIP_RefusesUnknownPeersAndCodecs(t *testing.T) {
	sdp := []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n")
	e, db := mustEngine(t, "203.0.113.0/24")
	if res := sipRequest(t, e, sip.INVITE, sdp); res.StatusCode != sip.StatusForbidden {
		t.Fatalf("INVITE from an unknown peer answered %s", res.StartLine())
	}
	if calls, _ := db.FindLiveCalls(context.Background()); len(calls) != 0 {
		t.Fatalf("calls stored: %v", calls)
	}
	if convs, _ := db.FindConversations(context.Background(), backend.ConversationFilter{}); len(convs) != 0 {
		t.Fatalf("conversations stored: %v", convs)
	}
	e2, _ := mustEngine(t, "127.0.0.1")
	g729 := []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18\r\n")
	if res := sipRequest(t, e2, sip.INVITE, g729); res.StatusCode != sip.StatusNotAcceptableHere {
		t.Fatalf("INVITE without G.711 answered %s", res.StartLine())
	}
}
