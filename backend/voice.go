package backend

import (
	"context"
	"encoding/json"
	"time"
)

// Voice event names on the change feed. EventCallUpserted carries a Call.
const (
	EventCallUpserted = "call.upserted"
)

// Call directions.
const (
	CallInbound  = "inbound"
	CallOutbound = "outbound"
)

// Call states. A call moves ringing → ivr → queued → offered → connected
// (held, consulting in between) → ended; an outbound call starts dialing.
const (
	CallRinging    = "ringing"
	CallDialing    = "dialing"
	CallIVR        = "ivr"
	CallQueued     = "queued"
	CallOffered    = "offered"
	CallConnected  = "connected"
	CallHeld       = "held"
	CallConsulting = "consulting"
	CallEnded      = "ended"
)

// Ways a supervisor joins a live call: listening (they hear both sides and
// nobody hears them), whispering (the agent hears them, the caller does
// not) and barging in (everyone hears everyone).
const (
	MonitorListen  = "listen"
	MonitorWhisper = "whisper"
	MonitorBarge   = "barge"
)

// ValidMonitorMode reports whether mode is one of the Monitor modes.
func ValidMonitorMode(mode string) bool {
	return mode == MonitorListen || mode == MonitorWhisper || mode == MonitorBarge
}

// Channels of calls: a phone call through a SIP trunk, and a call from the
// website's chat widget (in the visitor's web chat conversation).
const (
	CallChannelSIP = "voice.sip"
	CallChannelWeb = "webchat"
)

// Call is one phone or web call. It belongs to a conversation, so it sits
// in the customer's timeline next to their messages.
type Call struct {
	ID             string `json:"id"`
	ConversationID string `json:"conversationId"`
	ContactID      string `json:"contactId"`
	// Channel is CallChannelSIP or CallChannelWeb; Instance the trunk or
	// widget instance.
	Channel   string `json:"channel"`
	Instance  string `json:"instance"`
	Direction string `json:"direction"`
	// From and To are phone numbers (E.164 when they look like one) or,
	// for web calls, the visitor's name and the widget.
	From  string `json:"from"`
	To    string `json:"to"`
	State string `json:"state"`
	// TaskID is the voice task routing the call; UserID the agent (user)
	// on it now, or the last one who was.
	TaskID   string `json:"taskId,omitempty"`
	UserID   string `json:"userId,omitempty"`
	UserName string `json:"userName,omitempty"`
	// Recording is the path of the call's recording under the engine's
	// data directory ("" when none); Voicemail likewise.
	Recording  string    `json:"recording,omitempty"`
	Voicemail  string    `json:"voicemail,omitempty"`
	EndReason  string    `json:"endReason,omitempty"`
	StartedAt  time.Time `json:"startedAt"`
	AnsweredAt time.Time `json:"answeredAt,omitzero"`
	EndedAt    time.Time `json:"endedAt,omitzero"`
	UpdatedAt  time.Time `json:"updatedAt"`
}

// Ended reports whether the call is over.
func (c *Call) Ended() bool { return c.State == CallEnded }

// Trunk is one SIP trunk: a carrier or PBX that sends calls to the engine
// and takes the agents' outbound calls. Name is unique. Config holds the
// password: never log it or return it unredacted.
type Trunk struct {
	Name      string          `json:"name"`
	Config    json.RawMessage `json:"config"`
	Enabled   bool            `json:"enabled"`
	CreatedAt time.Time       `json:"createdAt"`
	UpdatedAt time.Time       `json:"updatedAt"`
}

// CallNote is one line a call adds to its conversation's timeline, such
// as "Answered by Ana" or a voicemail with its recording attached.
type CallNote struct {
	Text        string
	Attachments []Attachment
	// Open marks the conversation open and unassigned (a missed call or a
	// voicemail waits in the inbox).
	Open bool
}

// CallService keeps calls and trunks.
type CallService interface {
	// OpenCall resolves the caller's contact (a phone number is the same
	// contact as their SMS and WhatsApp), finds or opens the conversation
	// of (channel, instance, threadKey) and stores c in it with a first
	// timeline note. It sets c.ID, ConversationID and ContactID.
	OpenCall(ctx context.Context, c *Call, caller Identity, threadKey string, note CallNote) error
	// SaveCall stores c's new state and, when note has text, adds it to the
	// timeline. Returns ENotFound.
	SaveCall(ctx context.Context, c *Call, note CallNote) error
	// FindCall returns one call. Returns ENotFound.
	FindCall(ctx context.Context, id string) (*Call, error)
	// FindLiveCalls lists calls that have not ended (after a crash the
	// engine ends them).
	FindLiveCalls(ctx context.Context) ([]*Call, error)

	// PutTrunk creates or replaces a trunk. Returns EInvalid for an empty name.
	PutTrunk(ctx context.Context, t *Trunk) error
	// FindTrunks lists trunks by name.
	FindTrunks(ctx context.Context) ([]*Trunk, error)
	// DeleteTrunk removes a trunk. Returns ENotFound.
	DeleteTrunk(ctx context.Context, name string) error
}

// Flow input kind for what happens on a live call while its flow waits:
// Params["event"] is one of the CallEvent names, Params["digits"] the
// keys pressed, Params["recording"] a voicemail's file.
const InputCallEvent = "callEvent"

// Call event names a voice flow resumes on.
const (
	CallEventPlayed   = "played"
	CallEventDigits   = "digits"
	CallEventRecorded = "recorded"
	CallEventHangup   = "hangup"
)

// VoiceFrame is a voice frame an agent's softphone sends on the API
// WebSocket. Type says what it asks:
//
//	voice.answer     answer an offered call (ReservationID) or a consult
//	voice.decline    decline an offered call (ReservationID)
//	voice.sdp        the softphone's SDP answer to a voice.offer
//	voice.hangup     hang up
//	voice.hold       hold (Hold true) or resume
//	voice.dtmf       send Digits to the caller
//	voice.consult    hold the caller and ring another agent (WorkerID)
//	voice.complete   complete a warm transfer to the consulted agent
//	voice.return     end the consult and return to the caller
//	voice.transfer   blind transfer to an agent (WorkerID) or a queue (QueueID)
//	voice.dial       call Number through a trunk (Trunk, optional)
type VoiceFrame struct {
	Type          string `json:"type"`
	CallID        string `json:"callId,omitempty"`
	ReservationID string `json:"reservationId,omitempty"`
	SDP           string `json:"sdp,omitempty"`
	Hold          bool   `json:"hold,omitempty"`
	Digits        string `json:"digits,omitempty"`
	WorkerID      string `json:"workerId,omitempty"`
	QueueID       string `json:"queueId,omitempty"`
	Number        string `json:"number,omitempty"`
	Trunk         string `json:"trunk,omitempty"`
	// Nonce, when set, is echoed in the voice.ack or voice.error answer.
	Nonce string `json:"nonce,omitempty"`
}
