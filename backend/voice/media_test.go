package voice

import (
	"strings"
	"testing"

	"github.com/pion/rtp"

	"switchboard/backend"
)

// sinkFunc collects what an outStream sends.
type collect struct{ pkts []rtp.Packet }

func (c *collect) writeRTP(p *rtp.Packet) error {
	cp := *p
	cp.Payload = append([]byte(nil), p.Payload...)
	c.pkts = append(c.pkts, cp)
	return nil
}

func pkt(seq uint16, ts uint32, pt uint8) *rtp.Packet {
	return &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: ts}, Payload: []byte{1, 2}}
}

func TestOutStream_KeepsNumberingAcrossSourcesAndPassesLoss(t *testing.T) {
	sink := &collect{}
	o := &outStream{sink: sink, audioPT: 0, dtmfPT: 101}
	a, b := newSourceID(), newSourceID()
	o.setSource(a)
	o.write(a, pkt(100, 1000, 0), 0)
	o.write(a, pkt(101, 1160, 0), 0)
	o.write(a, pkt(103, 1480, 0), 0) // 102 was lost upstream
	o.write(b, pkt(7, 50, 0), 0)     // not the current source: dropped
	o.setSource(b)
	o.write(b, pkt(7, 50, 0), 0)
	o.write(b, pkt(8, 210, 0), 0)
	o.write(b, pkt(9, 370, 96), 96) // b's DTMF, sent as the far end's 101
	var seqs []uint16
	var tss []uint32
	for _, p := range sink.pkts {
		seqs = append(seqs, p.SequenceNumber)
		tss = append(tss, p.Timestamp)
	}
	want := []uint16{100, 101, 103, 104, 105, 106}
	for i := range want {
		if seqs[i] != want[i] {
			t.Fatalf("sequence numbers %v, want %v", seqs, want)
		}
	}
	if tss[3] != 1640 || tss[4] != 1800 || !sink.pkts[3].Marker {
		t.Fatalf("timestamps %v (marker %v): the new source must follow on", tss, sink.pkts[3].Marker)
	}
	if sink.pkts[5].PayloadType != 101 {
		t.Fatalf("DTMF went out as %d", sink.pkts[5].PayloadType)
	}
}

func TestDTMF_PacketsMakeOneDigitEach(t *testing.T) {
	var r dtmfReceiver
	var got strings.Builder
	ts := uint32(0)
	for _, d := range []byte("12#") {
		for _, p := range dtmfPackets(d, 101, 0, ts) {
			if digit, ok := r.feed(p); ok {
				got.WriteByte(digit)
			}
		}
		ts += 800
	}
	if got.String() != "12#" {
		t.Fatalf("digits %q", got.String())
	}
	if len(dtmfPackets('x', 101, 0, 0)) != 0 {
		t.Fatal("x is not a DTMF key")
	}
}

func TestParseSIPOffer(t *testing.T) {
	const base = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
	for _, tc := range []struct {
		name, sdp   string
		pt, dtmf    uint8
		held        bool
		errContains string
	}{
		{"pcmu and dtmf", base + "m=audio 4000 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\n", 0, 101, false, ""},
		{"pcma only", base + "m=audio 4000 RTP/AVP 8\r\n", 8, 0, false, ""},
		{"hold sendonly", base + "m=audio 4000 RTP/AVP 0\r\na=sendonly\r\n", 0, 0, true, ""},
		{"hold old style", "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", 0, 0, true, ""},
		{"no g711", base + "m=audio 4000 RTP/AVP 18\r\n", 0, 0, false, "no G.711"},
		{"no audio", base + "m=video 4000 RTP/AVP 96\r\n", 0, 0, false, "no audio"},
		{"garbage", "hello", 0, 0, false, "not valid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := parseSIPOffer([]byte(tc.sdp))
			if tc.errContains != "" {
				if err == nil || backend.ErrorCode(err) != backend.EInvalid || !strings.Contains(backend.ErrorMessage(err), tc.errContains) {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.pt != tc.pt || m.dtmfPT != tc.dtmf || m.held() != tc.held || m.addr.Port != 4000 {
				t.Fatalf("media = %+v", m)
			}
		})
	}
}

func FuzzParseSIPOffer(f *testing.F) {
	f.Add([]byte("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"))
	f.Add([]byte("v=0\r\nm=audio 0 RTP/AVP 0\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseSIPOffer(b)
		if err == nil && (m.addr == nil || (m.pt != 0 && m.pt != 8)) {
			t.Fatalf("accepted without a usable address or codec: %+v", m)
		}
	})
}

func TestParseTrunkConfig(t *testing.T) {
	for _, tc := range []struct {
		name, cfg, wants string
	}{
		{"ok", `{"allow":["203.0.113.0/24","127.0.0.1"],"numbers":["15550100"]}`, ""},
		{"registrar", `{"registrar":"sip.example.com:5060","username":"u","password":"p"}`, ""},
		{"nothing", `{}`, "needs allow"},
		{"bad allow", `{"allow":["carrier"]}`, "not an IP address"},
		{"bad proxy", `{"allow":["127.0.0.1"],"proxy":"sip.example.com"}`, "host:port"},
		{"half credentials", `{"registrar":"h:5060","username":"u"}`, "both username and password"},
		{"unknown field", `{"allow":["127.0.0.1"],"secret":"x"}`, "unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseTrunkConfig([]byte(tc.cfg))
			if tc.wants == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(c.Numbers) > 0 && c.Numbers[0] != "+15550100" {
					t.Fatalf("numbers = %v", c.Numbers)
				}
				return
			}
			if err == nil || !strings.Contains(backend.ErrorMessage(err), tc.wants) {
				t.Fatalf("err = %v, want %q", err, tc.wants)
			}
		})
	}
}
