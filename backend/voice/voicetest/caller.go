// Package voicetest is a phone on the SIP side of the engine for tests and
// benchmarks: a real SIP user agent (sipgo) that places a call to a trunk,
// sends a tone as RTP, presses keys (RFC 4733) and measures what it hears.
package voicetest

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"switchboard/backend/voice/dsp"
)

// Caller is one phone calling the engine.
type Caller struct {
	// Tone is the frequency the caller speaks in (Hz).
	Tone float64
	// Loss drops that share (0..1) of outgoing packets; Jitter delays each
	// by a random 0..Jitter (a lossy relay between phone and engine).
	Loss   float64
	Jitter time.Duration

	ua     *sipgo.UserAgent
	client *sipgo.Client
	srv    *sipgo.Server
	sipc   net.PacketConn
	dlg    *sipgo.DialogClientSession
	conn   *net.UDPConn
	remote *net.UDPAddr
	stop   chan struct{}
	wg     sync.WaitGroup

	mu     sync.Mutex
	heard  []int16
	keys   []byte // RFC 4733 digits received
	lastEv uint32
	stats  dsp.RecvStats
	spoken int // voice frames sent
	seq    uint16
	ts     uint32
	ssrc   uint32
	dtmf   chan string
}

// Dial calls number at the engine's SIP address from the phone number
// from, and waits for the answer.
func Dial(ctx context.Context, engineAddr, from, number string, tone float64) (*Caller, error) {
	c, err := Invite(ctx, engineAddr, from, number, tone)
	if err != nil {
		return nil, err
	}
	if err := c.Answered(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Invite sends the INVITE and returns; Answered waits for the answer, and
// canceling its context before then sends CANCEL.
func Invite(ctx context.Context, engineAddr, from, number string, tone float64) (*Caller, error) {
	c := &Caller{Tone: tone, stop: make(chan struct{}), ssrc: rand.Uint32(), dtmf: make(chan string, 8)}
	var err error
	if c.conn, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
		return nil, err
	}
	if c.ua, err = sipgo.NewUA(sipgo.WithUserAgentHostname("127.0.0.1")); err != nil {
		return nil, err
	}
	if c.client, err = sipgo.NewClient(c.ua, sipgo.WithClientHostname("127.0.0.1")); err != nil {
		return nil, err
	}
	if c.srv, err = sipgo.NewServer(c.ua); err != nil {
		return nil, err
	}
	if c.sipc, err = net.ListenPacket("udp4", "127.0.0.1:0"); err != nil {
		return nil, err
	}
	host, port, _ := net.SplitHostPort(engineAddr)
	p, _ := strconv.Atoi(port)
	contact := sip.ContactHeader{Address: sip.Uri{User: from, Host: "127.0.0.1", Port: c.sipc.LocalAddr().(*net.UDPAddr).Port}}
	dc := sipgo.NewDialogClientCache(c.client, contact)
	c.srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) { dc.ReadBye(req, tx) })
	go c.srv.ServeUDP(c.sipc)
	lport := c.conn.LocalAddr().(*net.UDPAddr).Port
	sdp := fmt.Sprintf("v=0\r\no=caller 1 1 IN IP4 127.0.0.1\r\ns=call\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=sendrecv\r\n", lport)
	fromHdr := sip.NewHeader("From", fmt.Sprintf("<sip:%s@127.0.0.1>;tag=%s", from, sip.GenerateTagN(8)))
	c.dlg, err = dc.Invite(ctx, sip.Uri{User: number, Host: host, Port: p}, []byte(sdp), fromHdr, sip.NewHeader("Content-Type", "application/sdp"))
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("invite: %w", err)
	}
	return c, nil
}

// Answered waits for the engine to answer, acknowledges and starts the
// audio. Canceling ctx first cancels the call (CANCEL).
func (c *Caller) Answered(ctx context.Context) error {
	if err := c.dlg.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		return fmt.Errorf("wait answer: %w", err)
	}
	if err := c.dlg.Ack(ctx); err != nil {
		return fmt.Errorf("ack: %w", err)
	}
	var err error
	if c.remote, err = remoteMedia(string(c.dlg.InviteResponse.Body())); err != nil {
		return err
	}
	c.wg.Add(2)
	go c.send()
	go c.receive()
	return nil
}

// remoteMedia reads the engine's audio address from its SDP answer.
func remoteMedia(sdp string) (*net.UDPAddr, error) {
	var ip string
	var port int
	for _, l := range strings.Split(sdp, "\n") {
		l = strings.TrimSpace(l)
		if v, ok := strings.CutPrefix(l, "c=IN IP4 "); ok {
			ip = v
		}
		if v, ok := strings.CutPrefix(l, "m=audio "); ok {
			port, _ = strconv.Atoi(strings.Fields(v)[0])
		}
	}
	if ip == "" || port == 0 {
		return nil, fmt.Errorf("no audio in the answer: %q", sdp)
	}
	return &net.UDPAddr{IP: net.ParseIP(ip), Port: port}, nil
}

// Press sends keys as RFC 4733 telephone events.
func (c *Caller) Press(digits string) { c.dtmf <- digits }

func (c *Caller) send() {
	defer c.wg.Done()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	tone := dsp.Tone{Freq: c.Tone}
	frame := make([]int16, dsp.FrameSamples)
	buf := make([]byte, 1500)
	for {
		select {
		case <-c.stop:
			return
		case d := <-c.dtmf:
			for i := 0; i < len(d); i++ {
				c.sendDigit(d[i], buf)
			}
			continue
		case <-tick.C:
		}
		tone.Fill(frame)
		c.mu.Lock()
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: c.seq, Timestamp: c.ts, SSRC: c.ssrc},
			Payload: dsp.Encode(nil, 0, frame)}
		c.seq++
		c.ts += dsp.FrameSamples
		c.spoken++
		c.mu.Unlock()
		n, _ := pkt.MarshalTo(buf)
		c.write(append([]byte(nil), buf[:n]...))
	}
}

// write sends one packet through the lossy, jittery path when set.
func (c *Caller) write(b []byte) {
	if c.Loss > 0 && rand.Float64() < c.Loss {
		return
	}
	if c.Jitter > 0 {
		d := time.Duration(rand.Int64N(int64(c.Jitter)))
		time.AfterFunc(d, func() { c.conn.WriteToUDP(b, c.remote) })
		return
	}
	c.conn.WriteToUDP(b, c.remote)
}

func (c *Caller) sendDigit(d byte, buf []byte) {
	ev := strings.IndexByte("0123456789*#", d)
	if ev < 0 {
		return
	}
	c.mu.Lock()
	ts := c.ts
	c.mu.Unlock()
	for i := 1; i <= 8; i++ {
		payload := make([]byte, 4)
		payload[0], payload[1] = byte(ev), 10
		if i >= 5 {
			payload[1] |= 0x80
		}
		binary.BigEndian.PutUint16(payload[2:], uint16(min(i, 5)*160))
		c.mu.Lock()
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, Marker: i == 1, SequenceNumber: c.seq, Timestamp: ts, SSRC: c.ssrc}, Payload: payload}
		c.seq++
		c.mu.Unlock()
		n, _ := pkt.MarshalTo(buf)
		c.conn.WriteToUDP(buf[:n], c.remote)
		time.Sleep(20 * time.Millisecond)
	}
	c.mu.Lock()
	c.ts += 8 * 160
	c.mu.Unlock()
}

func (c *Caller) receive() {
	defer c.wg.Done()
	buf := make([]byte, 1500)
	var p rtp.Packet
	for {
		n, _, err := c.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		if p.Unmarshal(buf[:n]) != nil {
			continue
		}
		if p.PayloadType == 101 && len(p.Payload) >= 4 && int(p.Payload[0]) < 12 {
			c.mu.Lock()
			if len(c.keys) == 0 || p.Timestamp != c.lastEv {
				c.keys, c.lastEv = append(c.keys, "0123456789*#"[p.Payload[0]]), p.Timestamp
			}
			c.mu.Unlock()
			continue
		}
		if p.PayloadType != 0 {
			continue
		}
		c.mu.Lock()
		c.stats.Add(p.SequenceNumber, p.Timestamp, time.Now())
		c.heard = dsp.Decode(c.heard, 0, p.Payload)
		if keep := 30 * dsp.SampleRate; len(c.heard) > keep {
			c.heard = append(c.heard[:0], c.heard[len(c.heard)-keep:]...)
		}
		c.mu.Unlock()
	}
}

// Keys returns the DTMF digits the caller received (RFC 4733).
func (c *Caller) Keys() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.keys)
}

// ResetHeard forgets what the caller heard so far.
func (c *Caller) ResetHeard() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.heard = c.heard[:0]
}

// ToneShare returns how many 20 ms frames the caller heard and the share in
// which freq stands out.
func (c *Caller) ToneShare(freq float64) (int, float64) { return c.ToneShareAt(freq, 0) }

// ToneShareAt is ToneShare with the share of a frame's power that counts as
// the tone being there (dsp.ToneDetector's Threshold).
func (c *Caller) ToneShareAt(freq, threshold float64) (int, float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return ToneShareAt(c.heard, freq, threshold)
}

// ToneShare splits pcm into 20 ms frames and returns how many there are and
// the share in which freq stands out (Goertzel).
func ToneShare(pcm []int16, freq float64) (int, float64) { return ToneShareAt(pcm, freq, 0) }

// ToneShareAt is ToneShare with its detection threshold.
func ToneShareAt(pcm []int16, freq, threshold float64) (int, float64) {
	d := dsp.ToneDetector{Freq: freq, Threshold: threshold}
	for i := 0; i+dsp.FrameSamples <= len(pcm); i += dsp.FrameSamples {
		d.Feed(pcm[i : i+dsp.FrameSamples])
	}
	if d.Frames == 0 {
		return 0, 0
	}
	return d.Frames, float64(d.Hits) / float64(d.Frames)
}

// Spoken returns how many 20 ms frames of its tone the caller has sent.
func (c *Caller) Spoken() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.spoken
}

// Received returns the packets the caller received and its loss figure.
func (c *Caller) Received() (uint64, float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats.Received(), c.stats.LossPercent()
}

// Hangup sends BYE.
func (c *Caller) Hangup(ctx context.Context) error { return c.dlg.Bye(ctx) }

// Ended is closed when the call ends (the engine hung up).
func (c *Caller) Ended() <-chan struct{} { return c.dlg.Context().Done() }

// Close stops the media and the user agent.
func (c *Caller) Close() {
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	if c.conn != nil {
		c.conn.Close()
	}
	c.wg.Wait()
	if c.dlg != nil {
		c.dlg.Close()
	}
	if c.client != nil {
		c.client.Close()
	}
	if c.srv != nil {
		c.srv.Close()
	}
	if c.sipc != nil {
		c.sipc.Close()
	}
	if c.ua != nil {
		c.ua.Close()
	}
}
