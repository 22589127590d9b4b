package email

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"strings"
	"time"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // decode non-UTF-8 charsets
	"github.com/emersion/go-message/mail"

	"switchboard/backend"
)

// Limits on what one inbound mail may carry.
const (
	// MaxInlineAttachment is the largest attachment kept (as a data: URL)
	// in the message; larger ones are listed by name and size only.
	MaxInlineAttachment = 5 << 20
	maxPartBytes        = 25 << 20
)

// Parsed is one mail, read for the store.
type Parsed struct {
	MessageID  string
	InReplyTo  []string
	References []string
	From       string
	FromName   string
	ReplyTo    string
	Subject    string
	Date       time.Time
	// Text is the text/plain part, or the HTML part reduced to safe text.
	Text        string
	Attachments []backend.Attachment
	// AutoReply marks bounces and auto-responders (RFC 3834).
	AutoReply bool
}

// ThreadKey is the thread's root Message-ID: the first References entry,
// else In-Reply-To, else the mail's own id. Our own Message-IDs carry their
// thread root, so a client that keeps only In-Reply-To still threads.
func (p *Parsed) ThreadKey() string {
	if len(p.References) > 0 {
		return rootOf(p.References[0])
	}
	if len(p.InReplyTo) > 0 {
		return rootOf(p.InReplyTo[0])
	}
	return p.MessageID
}

// rawInfo is what Raw keeps of a mail: enough to answer it.
type rawInfo struct {
	MessageID  string   `json:"messageId"`
	References []string `json:"references,omitempty"`
	From       string   `json:"from"`
	ReplyTo    string   `json:"replyTo,omitempty"`
	Subject    string   `json:"subject,omitempty"`
	UID        uint32   `json:"uid,omitempty"`
}

// Inbound converts a parsed mail to an inbound message.
func (p *Parsed) Inbound(uid uint32) *backend.InboundMessage {
	raw, _ := json.Marshal(rawInfo{MessageID: p.MessageID, References: p.References, From: p.From, ReplyTo: p.ReplyTo, Subject: p.Subject, UID: uid})
	return &backend.InboundMessage{
		ExternalUserID: strings.ToLower(p.From), DisplayName: p.FromName, ThreadKey: p.ThreadKey(),
		ExternalID: p.MessageID, Text: p.Text, Subject: p.Subject, Attachments: p.Attachments,
		PlatformAt: p.Date, Raw: raw,
	}
}

// ParseMessage reads an RFC 5322 mail. A mail without a Message-ID gets
// one derived from its bytes, so a re-import is still recognised. Returns
// EInvalid.
func ParseMessage(b []byte) (*Parsed, error) {
	r, err := mail.CreateReader(bytes.NewReader(b))
	if r == nil || err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
		return nil, backend.Errorf(backend.EInvalid, "The mail cannot be read.")
	}
	defer r.Close()
	h := r.Header
	p := &Parsed{}
	p.MessageID, _ = h.MessageID()
	if p.MessageID == "" {
		p.MessageID = syntheticID(b)
	}
	p.InReplyTo, _ = h.MsgIDList("In-Reply-To")
	p.References, _ = h.MsgIDList("References")
	if from, err := h.AddressList("From"); err == nil && len(from) > 0 {
		p.From, p.FromName = from[0].Address, from[0].Name
	}
	if p.From == "" {
		return nil, backend.Errorf(backend.EInvalid, "The mail has no From address.")
	}
	if rt, err := h.AddressList("Reply-To"); err == nil && len(rt) > 0 {
		p.ReplyTo = rt[0].Address
	}
	p.Subject, _ = h.Subject()
	if d, err := h.Date(); err == nil {
		p.Date = d.UTC()
	}
	auto := strings.ToLower(h.Get("Auto-Submitted"))
	ct, _, _ := h.ContentType()
	p.AutoReply = (auto != "" && auto != "no") || ct == "multipart/report"
	var html string
	for {
		part, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			if message.IsUnknownCharset(err) || message.IsUnknownEncoding(err) {
				continue
			}
			break // keep what was read of a damaged mail
		}
		body, _ := io.ReadAll(io.LimitReader(part.Body, maxPartBytes))
		switch ph := part.Header.(type) {
		case *mail.InlineHeader:
			t, _, _ := ph.ContentType()
			switch {
			case t == "text/plain" && p.Text == "":
				p.Text = string(body)
			case t == "text/html" && html == "":
				html = string(body)
			case t != "text/plain" && t != "text/html" && t != "":
				p.Attachments = append(p.Attachments, attachment(t, "", body))
			}
		case *mail.AttachmentHeader:
			t, _, _ := ph.ContentType()
			name, _ := ph.Filename()
			p.Attachments = append(p.Attachments, attachment(t, name, body))
		}
	}
	if strings.TrimSpace(p.Text) == "" && html != "" {
		p.Text = HTMLToText(html)
	}
	p.Text = strings.TrimSpace(strings.ReplaceAll(p.Text, "\r\n", "\n"))
	return p, nil
}

func attachment(typ, name string, body []byte) backend.Attachment {
	if typ == "" {
		typ = "application/octet-stream"
	}
	a := backend.Attachment{Type: typ, Name: name, Size: int64(len(body))}
	if len(body) <= MaxInlineAttachment {
		a.URL = "data:" + mime.FormatMediaType(typ, nil) + ";base64," + base64.StdEncoding.EncodeToString(body)
	} else {
		a.URL = "email:too-large"
	}
	return a
}

// syntheticID names a mail that has no Message-ID by a hash of its bytes.
func syntheticID(b []byte) string {
	return "sha256-" + hashHex(b) + "@switchboard.invalid"
}
