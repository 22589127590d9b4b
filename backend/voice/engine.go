// Package voice is Switchboard's call engine: phone calls through SIP trunks
// (sipgo), calls from the website, and every agent's leg over WebRTC
// (pion), with RTP relayed between them untouched (G.711 pass-through),
// RFC 4733 DTMF, hold with music, warm and blind transfer and a recording
// of both sides.
//
// A call is a conversation (the caller's number finds the same contact as
// their SMS) and, once its voice flow enqueues it, a voice task that the
// router offers to agents like any other. The engine follows the change
// feed for the router's reservations: an offer rings the agent's softphone,
// an accepted offer connects it.
package voice

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/pion/webrtc/v3"

	"switchboard/backend"
)

// Store is what the engine needs from storage.
type Store interface {
	backend.CallService
	backend.EventService
	FindConversationByID(ctx context.Context, id string) (*backend.Conversation, error)
	FindContactByID(ctx context.Context, id string) (*backend.Contact, error)
}

// Router is what the engine needs from the routing engine.
type Router interface {
	CreateTask(ctx context.Context, in backend.TaskInput) (*backend.Task, error)
	AcceptReservation(ctx context.Context, id string) (*backend.Reservation, error)
	AssignTask(ctx context.Context, taskID, workerID string) (*backend.Reservation, error)
	RejectReservation(ctx context.Context, id string) (*backend.Reservation, error)
	TransferTask(ctx context.Context, taskID string, to backend.TransferTarget) (*backend.Task, error)
	WrapUp(ctx context.Context, taskID, disposition string) (*backend.Task, error)
	CancelTask(ctx context.Context, taskID, reason string) (*backend.Task, error)
	Task(ctx context.Context, id string) (*backend.Task, error)
	Worker(ctx context.Context, id string) (*backend.Worker, error)
	WorkerByUserID(ctx context.Context, userID string) (*backend.Worker, error)
	Reservations(ctx context.Context, workerID string) ([]*backend.Reservation, error)
	Queues(ctx context.Context) ([]*backend.Queue, error)
}

// Flows runs a call's voice flow; the flow engine implements it.
type Flows interface {
	Deliver(ctx context.Context, conv *backend.Conversation, in *backend.FlowInput) error
}

// Options configure an Engine.
type Options struct {
	// DataDir keeps recordings and voicemails (under voice/) and the
	// admin's prompts (voice/prompts/*.wav).
	DataDir string
	// SIPAddr is where trunks send SIP over UDP, such as ":5060"; empty
	// starts no SIP listener.
	SIPAddr string
	// BindIP is the address media binds and gathers on (default: SIPAddr's
	// host, or every interface).
	BindIP net.IP
	// PublicIP is announced in SDP and ICE when the engine sits behind a
	// 1:1 NAT.
	PublicIP string
	// RTPPortMin and RTPPortMax bound the UDP ports of SIP and WebRTC media
	// (both 0: any port).
	RTPPortMin, RTPPortMax int
	// ConnectTimeout bounds how long an agent's softphone has to set up
	// audio after answering (default 15 s).
	ConnectTimeout time.Duration
	// HoldMusic replaces the default music on hold (8 kHz samples).
	HoldMusic []int16
	Logger    *slog.Logger
	Now       func() time.Time
}

// Engine runs calls. Create it with New, wire it with SetRouter, SetFlows and
// SetSignal, then Start.
type Engine struct {
	store  Store
	opts   Options
	log    *slog.Logger
	router Router
	flows  Flows
	signal func(userID string, frame []byte)
	apis   map[uint8]*webrtc.API
	music  []int16

	sip *sipServer

	mu     sync.Mutex
	calls  map[string]*call // live calls by id
	byConv map[string]*call
	byTask map[string]*call

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns an engine on store.
func New(store Store, opts Options) (*Engine, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = 15 * time.Second
	}
	if opts.BindIP == nil && opts.SIPAddr != "" {
		if host, _, err := net.SplitHostPort(opts.SIPAddr); err == nil {
			opts.BindIP = net.ParseIP(host)
		}
	}
	if opts.PublicIP != "" && net.ParseIP(opts.PublicIP) == nil {
		return nil, fmt.Errorf("voice: public IP %q is not an IP address", opts.PublicIP)
	}
	if opts.RTPPortMin < 0 || opts.RTPPortMax < opts.RTPPortMin || opts.RTPPortMax > 65535 {
		return nil, fmt.Errorf("voice: RTP port range %d-%d is not valid", opts.RTPPortMin, opts.RTPPortMax)
	}
	apis, err := peerAPIs(opts)
	if err != nil {
		return nil, fmt.Errorf("voice: %w", err)
	}
	e := &Engine{store: store, opts: opts, log: opts.Logger.With("component", "voice"), apis: apis, music: opts.HoldMusic,
		calls: map[string]*call{}, byConv: map[string]*call{}, byTask: map[string]*call{}, signal: func(string, []byte) {}}
	if e.music == nil {
		e.music = holdMusic()
	}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	return e, nil
}

// SetRouter sets the router voice tasks go to.
func (e *Engine) SetRouter(r Router) { e.router = r }

// SetFlows sets the flow engine that runs voice flows.
func (e *Engine) SetFlows(f Flows) { e.flows = f }

// SetSignal sets how frames reach one user's WebSocket connections.
func (e *Engine) SetSignal(f func(userID string, frame []byte)) { e.signal = f }

// Start ends calls a crash left open, follows the change feed for voice
// reservations and, when configured, listens for SIP.
func (e *Engine) Start(ctx context.Context) error {
	if err := os.MkdirAll(e.dir(), 0o700); err != nil {
		return fmt.Errorf("voice: %w", err)
	}
	live, err := e.store.FindLiveCalls(ctx)
	if err != nil {
		return err
	}
	for _, c := range live {
		c.State, c.EndReason, c.EndedAt = backend.CallEnded, "engine restarted", e.opts.Now().UTC()
		if err := e.store.SaveCall(ctx, c, backend.CallNote{Text: "Call cut off: the engine restarted.", Open: true}); err != nil {
			return err
		}
	}
	last, err := e.store.LastSeq(ctx)
	if err != nil {
		return err
	}
	e.wg.Add(1)
	go e.follow(last)
	if e.opts.SIPAddr != "" {
		if e.sip, err = e.startSIP(ctx); err != nil {
			return err
		}
	}
	return nil
}

// SIPAddr returns the address the SIP listener is bound to ("" when none).
func (e *Engine) SIPAddr() string {
	if e.sip == nil {
		return ""
	}
	return e.sip.conn.LocalAddr().String()
}

// Close hangs up every call and stops the engine.
func (e *Engine) Close() error {
	e.mu.Lock()
	live := make([]*call, 0, len(e.calls))
	for _, c := range e.calls {
		live = append(live, c)
	}
	e.mu.Unlock()
	for _, c := range live {
		c.hangup("engine stopped", true)
	}
	if e.sip != nil {
		e.sip.close()
	}
	e.cancel()
	e.wg.Wait()
	return nil
}

// dir is where recordings and voicemails are kept.
func (e *Engine) dir() string { return filepath.Join(e.opts.DataDir, "voice") }

// RecordingPath returns the file of a call's recording or voicemail name.
func (e *Engine) RecordingPath(name string) string {
	return filepath.Join(e.dir(), filepath.Base(name))
}

// follow reads the change feed for reservations of voice tasks.
func (e *Engine) follow(last int64) {
	defer e.wg.Done()
	notify, stop := e.store.Notify()
	defer stop()
	for {
		for {
			events, err := e.store.EventsSince(e.ctx, last, 500)
			if err != nil {
				if e.ctx.Err() == nil {
					e.log.Error("voice: read events", "error", err)
				}
				break
			}
			if len(events) == 0 {
				break
			}
			last = events[len(events)-1].Seq
			for _, ev := range events {
				if ev.Type != backend.EventReservationUpserted {
					continue
				}
				var r backend.Reservation
				if json.Unmarshal(ev.Data, &r) == nil && r.Channel == backend.ChannelVoice {
					e.onReservation(&r)
				}
			}
		}
		select {
		case <-e.ctx.Done():
			return
		case <-notify:
		}
	}
}

// callForTask returns the live call a voice task serves.
func (e *Engine) callForTask(taskID string) *call {
	e.mu.Lock()
	c := e.byTask[taskID]
	e.mu.Unlock()
	if c != nil || e.router == nil {
		return c
	}
	t, err := e.router.Task(e.ctx, taskID)
	if err != nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if c = e.byConv[t.ConversationID]; c != nil {
		e.byTask[taskID] = c
		c.mu.Lock()
		c.rec.TaskID = taskID
		c.mu.Unlock()
	}
	return c
}

// register adds a live call to the engine's maps.
func (e *Engine) register(c *call) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls[c.rec.ID] = c
	e.byConv[c.rec.ConversationID] = c
	if c.rec.TaskID != "" {
		e.byTask[c.rec.TaskID] = c
	}
}

func (e *Engine) unregister(c *call) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.calls, c.rec.ID)
	if e.byConv[c.rec.ConversationID] == c {
		delete(e.byConv, c.rec.ConversationID)
	}
	for k, v := range e.byTask {
		if v == c {
			delete(e.byTask, k)
		}
	}
}

// live returns a live call by id.
func (e *Engine) live(id string) *call {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.calls[id]
}

// liveByConv returns the live call of a conversation.
func (e *Engine) liveByConv(convID string) *call {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.byConv[convID]
}

// send marshals a frame to one user.
func (e *Engine) send(userID string, frame any) {
	b, err := json.Marshal(frame)
	if err != nil {
		e.log.Error("voice: marshal frame", "error", err)
		return
	}
	e.signal(userID, b)
}
