package flow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"switchboard/backend"
)

// CallControl is what voice widgets do to a conversation's live call; the
// voice engine implements it. Media actions return at once and report
// their end later as a callEvent input (played, recorded, hangup).
type CallControl interface {
	// Play plays a prompt (a WAV by name) to the caller, answering first.
	// Returns EInvalid for an unknown prompt, ENotFound without a call.
	Play(ctx context.Context, conversationID, prompt string) error
	// Digits returns and forgets the keys pressed so far.
	Digits(conversationID string) string
	// Record beeps and records a voicemail of at most maxSeconds.
	Record(ctx context.Context, conversationID string, maxSeconds int) error
	// Enqueue hands the call to the router's task taskID; the caller hears
	// music (a prompt name, "" for the default music, "none" for ringing).
	Enqueue(ctx context.Context, conversationID, taskID, music string) error
	// Hangup ends the call.
	Hangup(ctx context.Context, conversationID string) error
}

// Voice widget types, as in Studio.
const (
	TypeSayPlay = "say-play"
	TypeGather  = "gather-input-on-call"
	TypeRecord  = "record-voicemail"
	TypeEnqueue = "enqueue-call"
	TypeHangup  = "hangup"
)

// Events of the voice widgets.
const (
	EventAudioComplete     = "audioComplete"
	EventKeypress          = "keypress"
	EventRecordingComplete = "recordingComplete"
	EventHangup            = "hangup"
)

// promptWait is the longest a widget waits for its prompt to end.
const promptWait = 10 * time.Minute

// VoiceRegistry returns the default registry with the voice widgets added.
func VoiceRegistry() Registry {
	r := DefaultRegistry()
	r[TypeSayPlay] = WidgetTypeFunc(compileSayPlay)
	r[TypeGather] = WidgetTypeFunc(compileGather)
	r[TypeRecord] = WidgetTypeFunc(compileRecord)
	r[TypeEnqueue] = WidgetTypeFunc(compileEnqueue)
	r[TypeHangup] = WidgetTypeFunc(compileHangup)
	return r
}

// Calls returns the engine's call control (nil when none is configured).
func (s *Step) Calls() CallControl {
	if s.spoil() { // acting on a call needs the execution claimed first
		return nil
	}
	s.e.mu.Lock()
	defer s.e.mu.Unlock()
	return s.e.opts.Calls
}

// callEvent returns the event name of a call input ("" for other inputs).
func callEvent(in *backend.FlowInput) string {
	if in.Kind != backend.InputCallEvent {
		return ""
	}
	ev, _ := in.Params["event"].(string)
	return ev
}

var errNoCalls = errors.New("no call control configured")

// voiceOptional makes hangup and timeout optional: an unwired one ends
// the flow (the caller is gone, or a prompt never ended).
type voiceOptional struct{}

func (voiceOptional) Optional(ev string) bool { return ev == EventHangup || ev == EventTimeout }

// sayPlay plays a prompt and moves on when it ends.
type sayPlay struct {
	voiceOptional
	prompt string
}

func compileSayPlay(w *backend.FlowWidget) (Widget, error) {
	var p struct {
		// Play names the prompt (a WAV file).
		Play string `json:"play"`
		// Say is the prompt's words, for people reading the flow.
		Say string `json:"say,omitempty"`
	}
	if err := DecodeProperties(w, &p); err != nil {
		return nil, err
	}
	if strings.TrimSpace(p.Play) == "" {
		return nil, errors.New("play must name a prompt")
	}
	return &sayPlay{prompt: p.Play}, nil
}

func (*sayPlay) Events() []string { return []string{EventAudioComplete, EventHangup, EventTimeout} }

func (w *sayPlay) Run(ctx context.Context, s *Step) (Outcome, error) {
	if s.Calls() == nil {
		return Outcome{}, errNoCalls
	}
	s.Note("play %s", w.prompt)
	if err := s.Calls().Play(ctx, s.Conversation.ID, w.prompt); err != nil {
		return hangupOr(err)
	}
	return Outcome{Wait: true, Timeout: promptWait}, nil
}

func (w *sayPlay) Resume(_ context.Context, s *Step, in *backend.FlowInput) (Outcome, error) {
	switch callEvent(in) {
	case backend.CallEventPlayed:
		return Outcome{Event: EventAudioComplete}, nil
	case backend.CallEventHangup:
		return Outcome{Event: EventHangup}, nil
	}
	return Outcome{Wait: true, Timeout: s.Remaining()}, nil
}

// hangupOr turns a call action's failure into the hangup event when the
// call is gone, and an error otherwise.
func hangupOr(err error) (Outcome, error) {
	if backend.ErrorCode(err) == backend.ENotFound || backend.ErrorCode(err) == backend.EConflict {
		return Outcome{Event: EventHangup}, nil
	}
	return Outcome{}, err
}

// gather plays a prompt and collects keys: keypress when numDigits keys
// (or the finish key) arrived, else the prompt is played again up to
// retries times and then timeout. The keys are {{widgets.name.Digits}}.
type gather struct {
	voiceOptional
	prompt      string
	numDigits   int
	timeout     time.Duration
	finishOnKey string
	retries     int
}

func compileGather(w *backend.FlowWidget) (Widget, error) {
	var p struct {
		Play        string `json:"play"`
		Say         string `json:"say,omitempty"`
		NumDigits   int    `json:"numDigits,omitempty"`
		Timeout     int    `json:"timeout,omitempty"`
		FinishOnKey string `json:"finishOnKey,omitempty"`
		Retries     int    `json:"retries,omitempty"`
	}
	if err := DecodeProperties(w, &p); err != nil {
		return nil, err
	}
	g := &gather{prompt: p.Play, numDigits: p.NumDigits, timeout: time.Duration(p.Timeout) * time.Second,
		finishOnKey: p.FinishOnKey, retries: p.Retries}
	if g.numDigits <= 0 {
		g.numDigits = 1
	}
	if g.timeout <= 0 {
		g.timeout = 5 * time.Second
	}
	if g.finishOnKey == "" {
		g.finishOnKey = "#"
	}
	if g.retries < 0 || g.retries > 10 || p.NumDigits > 32 || p.Timeout > 600 || p.Timeout < 0 {
		return nil, fmt.Errorf("retries must be 0 to 10, numDigits at most 32 and timeout 0 to 600 seconds")
	}
	return g, nil
}

func (*gather) Events() []string { return []string{EventKeypress, EventTimeout, EventHangup} }

func (g *gather) Run(ctx context.Context, s *Step) (Outcome, error) {
	if s.Calls() == nil {
		return Outcome{}, errNoCalls
	}
	s.SetOutput("attempt", 1)
	s.SetOutput("Digits", "")
	if out, done := g.collect(s); done {
		return out, nil
	}
	return g.prompt1(ctx, s)
}

// prompt1 plays the prompt (or, without one, starts the timeout).
func (g *gather) prompt1(ctx context.Context, s *Step) (Outcome, error) {
	if g.prompt == "" {
		return Outcome{Wait: true, Timeout: g.timeout}, nil
	}
	s.Note("play %s and gather %d digit(s)", g.prompt, g.numDigits)
	if err := s.Calls().Play(ctx, s.Conversation.ID, g.prompt); err != nil {
		return hangupOr(err)
	}
	return Outcome{Wait: true, Timeout: promptWait}, nil
}

// collect adds the keys pressed so far; done when the input is complete.
func (g *gather) collect(s *Step) (Outcome, bool) {
	got, _ := s.Output("Digits").(string)
	got += s.Calls().Digits(s.Conversation.ID)
	if i := strings.Index(got, g.finishOnKey); i >= 0 {
		s.SetOutput("Digits", got[:i])
		s.Note("keys %q", got[:i])
		return Outcome{Event: EventKeypress}, true
	}
	if len(got) >= g.numDigits {
		s.SetOutput("Digits", got[:g.numDigits])
		s.Note("keys %q", got[:g.numDigits])
		return Outcome{Event: EventKeypress}, true
	}
	s.SetOutput("Digits", got)
	return Outcome{}, false
}

func (g *gather) Resume(ctx context.Context, s *Step, in *backend.FlowInput) (Outcome, error) {
	switch callEvent(in) {
	case backend.CallEventHangup:
		return Outcome{Event: EventHangup}, nil
	case backend.CallEventPlayed:
		if out, done := g.collect(s); done {
			return out, nil
		}
		return Outcome{Wait: true, Timeout: g.timeout}, nil
	case backend.CallEventDigits:
		if out, done := g.collect(s); done {
			return out, nil
		}
	}
	return Outcome{Wait: true, Timeout: s.Remaining()}, nil
}

// Timeout replays the prompt while retries are left.
func (g *gather) Timeout(ctx context.Context, s *Step) (Outcome, error) {
	if out, done := g.collect(s); done {
		return out, nil
	}
	attempt, _ := s.Output("attempt").(int)
	if f, ok := s.Output("attempt").(float64); ok {
		attempt = int(f)
	}
	if attempt > g.retries {
		s.Note("no keys after %d attempt(s)", attempt)
		return Outcome{Event: EventTimeout}, nil
	}
	s.SetOutput("attempt", attempt+1)
	return g.prompt1(ctx, s)
}

// record records a voicemail after an optional prompt and a beep;
// {{widgets.name.RecordingUrl}} names the file.
type record struct {
	voiceOptional
	prompt string
	max    int
}

func compileRecord(w *backend.FlowWidget) (Widget, error) {
	var p struct {
		Play      string `json:"play,omitempty"`
		Say       string `json:"say,omitempty"`
		MaxLength int    `json:"maxLength,omitempty"`
	}
	if err := DecodeProperties(w, &p); err != nil {
		return nil, err
	}
	if p.MaxLength < 0 || p.MaxLength > 600 {
		return nil, fmt.Errorf("maxLength must be 0 to 600 seconds")
	}
	return &record{prompt: p.Play, max: p.MaxLength}, nil
}

func (*record) Events() []string { return []string{EventRecordingComplete, EventHangup, EventTimeout} }

func (r *record) Run(ctx context.Context, s *Step) (Outcome, error) {
	if s.Calls() == nil {
		return Outcome{}, errNoCalls
	}
	if r.prompt != "" {
		s.Note("play %s", r.prompt)
		if err := s.Calls().Play(ctx, s.Conversation.ID, r.prompt); err != nil {
			return hangupOr(err)
		}
		return Outcome{Wait: true, Timeout: promptWait}, nil
	}
	return r.start(ctx, s)
}

func (r *record) start(ctx context.Context, s *Step) (Outcome, error) {
	s.Note("record a voicemail")
	s.SetOutput("recording", true)
	if err := s.Calls().Record(ctx, s.Conversation.ID, r.max); err != nil {
		return hangupOr(err)
	}
	return Outcome{Wait: true, Timeout: promptWait}, nil
}

func (r *record) Resume(ctx context.Context, s *Step, in *backend.FlowInput) (Outcome, error) {
	switch callEvent(in) {
	case backend.CallEventHangup:
		return Outcome{Event: EventHangup}, nil
	case backend.CallEventPlayed:
		if s.Output("recording") == nil {
			return r.start(ctx, s)
		}
	case backend.CallEventRecorded:
		s.SetOutput("RecordingUrl", in.Params["recording"])
		return Outcome{Event: EventRecordingComplete}, nil
	}
	return Outcome{Wait: true, Timeout: s.Remaining()}, nil
}

// enqueue hands the call to the router as a voice task (attributes and
// priority as in send-to-agent) with music on hold, and ends the flow.
type enqueue struct {
	agent *sendToAgent
	music string
}

func compileEnqueue(w *backend.FlowWidget) (Widget, error) {
	var p struct {
		Attributes map[string]any  `json:"attributes,omitempty"`
		Priority   json.RawMessage `json:"priority,omitempty"`
		// HoldMusic names a prompt to loop; "" is the engine's music on
		// hold, "none" keeps the caller hearing the ring.
		HoldMusic string `json:"holdMusic,omitempty"`
	}
	if err := DecodeProperties(w, &p); err != nil {
		return nil, err
	}
	props := map[string]any{"channel": backend.ChannelVoice, "attributes": p.Attributes}
	if len(p.Priority) > 0 {
		props["priority"] = p.Priority
	}
	aw := &backend.FlowWidget{Name: w.Name, Type: TypeSendToAgent}
	aw.Properties, _ = json.Marshal(props)
	a, err := compileSendToAgent(aw)
	if err != nil {
		return nil, err
	}
	return &enqueue{agent: a.(*sendToAgent), music: p.HoldMusic}, nil
}

func (*enqueue) Events() []string { return []string{EventFailed} }

func (q *enqueue) Run(ctx context.Context, s *Step) (Outcome, error) {
	if s.Calls() == nil {
		return Outcome{}, errNoCalls
	}
	out, err := q.agent.Run(ctx, s)
	if err != nil || !out.Handoff {
		return out, err
	}
	id, _ := s.Output("taskId").(string)
	if err := s.Calls().Enqueue(ctx, s.Conversation.ID, id, q.music); err != nil {
		s.Note("enqueue failed: %v", err)
		s.SetOutput("error", err.Error())
		return Outcome{Event: EventFailed}, nil
	}
	return out, nil
}

// hangup ends the call and the flow.
type hangup struct{}

func compileHangup(w *backend.FlowWidget) (Widget, error) {
	var p struct{}
	return hangup{}, DecodeProperties(w, &p)
}

func (hangup) Events() []string { return nil }

func (hangup) Run(ctx context.Context, s *Step) (Outcome, error) {
	if s.Calls() == nil {
		return Outcome{}, errNoCalls
	}
	s.Note("hang up")
	if err := s.Calls().Hangup(ctx, s.Conversation.ID); err != nil && backend.ErrorCode(err) != backend.ENotFound {
		return Outcome{}, err
	}
	return Outcome{End: true}, nil
}
