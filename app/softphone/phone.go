// Package softphone is the agent's phone: a pion WebRTC peer in Go (the
// desktop's WebKitGTK has no RTCPeerConnection), signaled over the
// engine's WebSocket. Audio comes from a Source and goes to a Sink, so the
// same phone runs on real devices (app/softphone/audio) and, in tests, on
// a generated tone and a capturing sink.
package softphone

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v3"

	"switchboard/backend"
	"switchboard/backend/voice/dsp"
)

// Options configure a Phone.
type Options struct {
	// URL is the engine's base URL and Token the signed-in user's token.
	URL, Token string
	// Mic and Speaker default to Null.
	Mic     Source
	Speaker Sink
	// Settings are pion settings (network, ports); default: every
	// interface, any port.
	Settings *webrtc.SettingEngine
	// OnEvent sees every change (incoming call, state, quality, end). It
	// must not block.
	OnEvent func(Event)
	Logger  *slog.Logger
}

// Event is what the phone tells the UI.
type Event struct {
	// Type is incoming, state, dtmf, quality, ended or error.
	Type string   `json:"type"`
	Call CallInfo `json:"call"`
	// Digits are keys the caller pressed (dtmf); Error a sentence (error).
	Digits string `json:"digits,omitempty"`
	Error  string `json:"error,omitempty"`
}

// CallInfo is a call as the softphone shows it.
type CallInfo struct {
	backend.Call
	// ReservationID and ExpiresAt describe a ringing offer.
	ReservationID string    `json:"reservationId,omitempty"`
	ExpiresAt     time.Time `json:"expiresAt,omitzero"`
	QueueID       string    `json:"queueId,omitempty"`
	QueueName     string    `json:"queueName,omitempty"`
	ContactName   string    `json:"contactName,omitempty"`
	// Consult is a colleague's call (From) asking before a transfer.
	Consult   bool   `json:"consult,omitempty"`
	FromAgent string `json:"fromAgent,omitempty"`
	// Monitor is how a supervisor is on another agent's call: listen,
	// whisper or barge (backend.Monitor*); empty on the agent's own calls.
	Monitor string `json:"monitor,omitempty"`
	// Ringing is true until answered; Muted mutes the microphone.
	Ringing bool        `json:"ringing"`
	Muted   bool        `json:"muted"`
	Quality dsp.Quality `json:"quality"`
}

// Phone is one agent's softphone. Its methods are safe for concurrent use.
type Phone struct {
	opts Options
	api  *webrtc.API
	conn *websocket.Conn
	log  *slog.Logger

	wmu sync.Mutex // one writer on conn

	mu    sync.Mutex
	calls map[string]*Call

	done chan struct{}
}

// Dial connects the phone to the engine's WebSocket.
func Dial(ctx context.Context, opts Options) (*Phone, error) {
	if opts.Mic == nil {
		opts.Mic = Null{}
	}
	if opts.Speaker == nil {
		opts.Speaker = Null{}
	}
	if opts.OnEvent == nil {
		opts.OnEvent = func(Event) {}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	api, err := newAPI(opts.Settings)
	if err != nil {
		return nil, err
	}
	u := strings.Replace(strings.Replace(strings.TrimRight(opts.URL, "/"), "https://", "wss://", 1), "http://", "ws://", 1)
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	// The phone needs no change feed: it starts past the end, so nothing
	// is replayed, and ignores the event frames it is sent.
	conn, resp, err := d.DialContext(ctx, u+"/api/ws?since=9223372036854775807", http.Header{"Authorization": {"Bearer " + opts.Token}})
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusUnauthorized {
			return nil, backend.Errorf(backend.EUnauthorized, "Your session is not valid; please sign in again.")
		}
		return nil, backend.Errorf(backend.EUnavailable, "The phone cannot reach the engine at %s.", opts.URL)
	}
	p := &Phone{opts: opts, api: api, conn: conn, log: opts.Logger.With("component", "softphone"),
		calls: map[string]*Call{}, done: make(chan struct{})}
	conn.SetPingHandler(func(data string) error {
		p.wmu.Lock()
		defer p.wmu.Unlock()
		return conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(10*time.Second))
	})
	go p.read()
	return p, nil
}

// Done is closed when the phone's connection ends.
func (p *Phone) Done() <-chan struct{} { return p.done }

// Close hangs up every call and disconnects.
func (p *Phone) Close() error {
	p.mu.Lock()
	calls := make([]*Call, 0, len(p.calls))
	for _, c := range p.calls {
		calls = append(calls, c)
	}
	p.mu.Unlock()
	for _, c := range calls {
		c.stopMedia()
	}
	err := p.conn.Close()
	<-p.done
	return err
}

// newAPI builds the pion API: G.711 both ways, telephone-event, RTCP
// reports (for the round-trip time).
func newAPI(settings *webrtc.SettingEngine) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	for _, c := range []webrtc.RTPCodecParameters{
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000, Channels: 1}, PayloadType: 0},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMA, ClockRate: 8000, Channels: 1}, PayloadType: 8},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: "audio/telephone-event", ClockRate: 8000, SDPFmtpLine: "0-16"}, PayloadType: 101},
	} {
		if err := m.RegisterCodec(c, webrtc.RTPCodecTypeAudio); err != nil {
			return nil, err
		}
	}
	opts := []func(*webrtc.API){webrtc.WithMediaEngine(m)}
	ir, err := rtcpRegistry()
	if err != nil {
		return nil, err
	}
	opts = append(opts, webrtc.WithInterceptorRegistry(ir))
	if settings != nil {
		opts = append(opts, webrtc.WithSettingEngine(*settings))
	}
	return webrtc.NewAPI(opts...), nil
}

// serverFrame is any frame the engine sends the phone.
type serverFrame struct {
	Type          string       `json:"type"`
	Call          backend.Call `json:"call"`
	CallID        string       `json:"callId"`
	ReservationID string       `json:"reservationId"`
	ExpiresAt     time.Time    `json:"expiresAt"`
	QueueID       string       `json:"queueId"`
	QueueName     string       `json:"queueName"`
	ContactName   string       `json:"contactName"`
	Consult       bool         `json:"consult"`
	From          string       `json:"from"`
	SDP           string       `json:"sdp"`
	Monitor       string       `json:"monitor"`
	Digits        string       `json:"digits"`
	Reason        string       `json:"reason"`
	Error         string       `json:"error"`
}

func (p *Phone) read() {
	defer close(p.done)
	for {
		p.conn.SetReadDeadline(time.Now().Add(90 * time.Second))
		_, msg, err := p.conn.ReadMessage()
		if err != nil {
			return
		}
		var f serverFrame
		if json.Unmarshal(msg, &f) != nil || !strings.HasPrefix(f.Type, "voice.") {
			continue
		}
		p.handle(&f)
	}
}

func (p *Phone) handle(f *serverFrame) {
	id := f.CallID
	if id == "" {
		id = f.Call.ID
	}
	switch f.Type {
	case "voice.incoming":
		c := &Call{p: p, info: CallInfo{Call: f.Call, ReservationID: f.ReservationID, ExpiresAt: f.ExpiresAt,
			QueueID: f.QueueID, QueueName: f.QueueName, ContactName: f.ContactName, Consult: f.Consult, FromAgent: f.From, Ringing: true}}
		p.mu.Lock()
		p.calls[id] = c
		p.mu.Unlock()
		p.opts.OnEvent(Event{Type: "incoming", Call: c.Info()})
	case "voice.offer":
		c := p.call(id)
		if c == nil {
			c = &Call{p: p, info: CallInfo{Call: backend.Call{ID: id}, Monitor: f.Monitor}}
			p.mu.Lock()
			p.calls[id] = c
			p.mu.Unlock()
		}
		go func() {
			if err := c.answerOffer(f.SDP); err != nil {
				p.log.Warn("softphone: answer offer", "call", id, "error", err)
				p.opts.OnEvent(Event{Type: "error", Call: c.Info(), Error: "The call's audio could not be set up."})
			}
		}()
	case "voice.state", "voice.monitor":
		if c := p.call(id); c != nil {
			c.setRecord(f.Call, f.Monitor)
			p.opts.OnEvent(Event{Type: "state", Call: c.Info()})
		}
	case "voice.dtmf":
		if c := p.call(id); c != nil {
			p.opts.OnEvent(Event{Type: "dtmf", Call: c.Info(), Digits: f.Digits})
		}
	case "voice.cancel", "voice.ended":
		p.mu.Lock()
		c := p.calls[id]
		delete(p.calls, id)
		p.mu.Unlock()
		if c != nil {
			c.stopMedia()
			info := c.Info()
			info.State, info.EndReason, info.Ringing = backend.CallEnded, f.Reason, false
			p.opts.OnEvent(Event{Type: "ended", Call: info})
		}
	case "voice.error":
		info := CallInfo{Call: backend.Call{ID: id}}
		if c := p.call(id); c != nil {
			info = c.Info()
		}
		p.opts.OnEvent(Event{Type: "error", Call: info, Error: f.Error})
	}
}

func (p *Phone) call(id string) *Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[id]
}

// send writes a frame to the engine.
func (p *Phone) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	p.wmu.Lock()
	defer p.wmu.Unlock()
	p.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := p.conn.WriteMessage(websocket.TextMessage, b); err != nil {
		return backend.Errorf(backend.EUnavailable, "The phone lost its connection to the engine.")
	}
	return nil
}

// Calls lists the phone's calls, ringing or connected.
func (p *Phone) Calls() []CallInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]CallInfo, 0, len(p.calls))
	for _, c := range p.calls {
		out = append(out, c.Info())
	}
	return out
}

// Call returns one of the phone's calls. Returns ENotFound.
func (p *Phone) Call(id string) (*Call, error) {
	if c := p.call(id); c != nil {
		return c, nil
	}
	return nil, backend.Errorf(backend.ENotFound, "Call %s is not on this phone.", id)
}
