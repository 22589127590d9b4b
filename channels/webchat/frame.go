package webchat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strings"
	"time"
	"unicode/utf8"

	"switchboard/backend"
)

// Limits on what a visitor sends over the socket.
const (
	// MaxFrameBytes is the largest socket message accepted.
	MaxFrameBytes = 16 << 10
	// MaxTextRunes is the longest chat message.
	MaxTextRunes = 4000
	// MaxAttachments is how many uploads one message may carry.
	MaxAttachments = 5
)

// ClientFrame is one socket message from the widget.
type ClientFrame struct {
	// Type is "message" or "typing".
	Type string `json:"type"`
	// Nonce is the widget's id for a message, so a resend after a dropped
	// connection is stored once.
	Nonce string `json:"nonce,omitempty"`
	Text  string `json:"text,omitempty"`
	// Attachments are upload ids from POST /widget/{instance}/upload.
	Attachments []string `json:"attachments,omitempty"`
}

// DecodeClientFrame parses and checks one socket message. Returns EInvalid.
func DecodeClientFrame(b []byte) (*ClientFrame, error) {
	if len(b) > MaxFrameBytes {
		return nil, backend.Errorf(backend.EInvalid, "The message is too large.")
	}
	var f ClientFrame
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, backend.Errorf(backend.EInvalid, "The message is not valid JSON.")
	}
	if dec.More() {
		return nil, backend.Errorf(backend.EInvalid, "The message has data after the JSON object.")
	}
	switch f.Type {
	case "typing":
		return &ClientFrame{Type: "typing"}, nil
	case "message":
	default:
		return nil, backend.Errorf(backend.EInvalid, "Unknown message type.")
	}
	if !validNonce(f.Nonce) {
		return nil, backend.Errorf(backend.EInvalid, "A message needs a nonce of 1 to 64 letters, digits, - or _.")
	}
	if !utf8.ValidString(f.Text) {
		return nil, backend.Errorf(backend.EInvalid, "The text is not valid UTF-8.")
	}
	f.Text = strings.TrimSpace(f.Text)
	if utf8.RuneCountInString(f.Text) > MaxTextRunes {
		return nil, backend.Errorf(backend.EInvalid, "The message is longer than %d characters.", MaxTextRunes)
	}
	if len(f.Attachments) > MaxAttachments {
		return nil, backend.Errorf(backend.EInvalid, "At most %d files per message.", MaxAttachments)
	}
	for _, id := range f.Attachments {
		if !validNonce(id) {
			return nil, backend.Errorf(backend.EInvalid, "An attachment id is not valid.")
		}
	}
	if f.Text == "" && len(f.Attachments) == 0 {
		return nil, backend.Errorf(backend.EInvalid, "The message is empty.")
	}
	return &f, nil
}

func validNonce(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// WireMessage is a message as the widget sees it: no contact, author or
// delivery internals.
type WireMessage struct {
	ID          string               `json:"id"`
	Direction   string               `json:"direction"`
	Text        string               `json:"text"`
	AuthorName  string               `json:"authorName,omitempty"`
	Attachments []backend.Attachment `json:"attachments,omitempty"`
	// Nonce is the widget's own id of a visitor message.
	Nonce     string    `json:"nonce,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
}

// wire converts a stored message for the visitor with the given subject.
func wire(m *backend.Message, subject string) *WireMessage {
	w := &WireMessage{ID: m.ID, Direction: m.Direction, Text: m.Text, Attachments: m.Attachments, CreatedAt: m.At()}
	if m.Direction == backend.DirectionIn {
		w.Nonce = strings.TrimPrefix(m.ExternalID, subject+":")
		if w.Nonce == m.ExternalID {
			w.Nonce = ""
		}
	} else {
		w.AuthorName = m.AuthorName
	}
	if len(w.Attachments) == 0 {
		w.Attachments = nil
	}
	return w
}

// ServerFrame is one socket message to the widget.
type ServerFrame struct {
	// Type is "message", "ack", "typing" or "error".
	Type    string       `json:"type"`
	Nonce   string       `json:"nonce,omitempty"`
	Message *WireMessage `json:"message,omitempty"`
	Error   string       `json:"error,omitempty"`
}

func (f *ServerFrame) bytes() []byte {
	b, _ := json.Marshal(f)
	return b
}

// VisitorName is the contact name of a visitor who gave none: "Website
// visitor" and four digits drawn from their id, the same on every visit,
// so agents can tell visitors apart without seeing an internal id.
func VisitorName(subject string) string {
	h := fnv.New32a()
	h.Write([]byte(subject))
	return fmt.Sprintf("Website visitor %04d", h.Sum32()%10000)
}
