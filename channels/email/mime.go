package email

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // decode non-UTF-8 charsets
	"github.com/emersion/go-message/mail"

	"switchboard/backend"
	"switchboard/channels"
)

// Limits on what one inbound mail may carry.
const (
	// MaxAttachment is the largest part the engine keeps; a larger one is
	// listed by name with the reason.
	MaxAttachment = channels.DefaultMaxMediaBytes
	// maxDepth bounds how deeply multiparts may nest.
	maxDepth = 12
)

// Parsed is one mail, read for the store: whatever could be read, with
// what could not be read in Problems.
type Parsed struct {
	MessageID  string
	InReplyTo  []string
	References []string
	// From is the sender's address ("" when no address could be read).
	From     string
	FromName string
	ReplyTo  string
	// To and Cc are the addresses the mail was sent to.
	To, Cc  []string
	Subject string
	Date    time.Time
	// Text is every text part in order (an HTML part reduced to safe text
	// where a part has no plain text).
	Text        string
	Attachments []backend.Attachment
	// Automatic marks mail a program sent: bounces, auto-responders,
	// lists (RFC 3834 and the common headers).
	Automatic bool
	// Bounce is set for a delivery status notification saying one of our
	// mails failed.
	Bounce *Bounce
	// Reports is the Message-ID of the mail a report (a bounce, a delay
	// warning, a read receipt) is about: the report joins its thread.
	Reports string
	// Problems says, in sentences, what could not be read; the original
	// is then attached as original.eml.
	Problems []string
}

// Bounce is what a delivery status notification says about a mail.
type Bounce struct {
	// MessageID is the failed mail's Message-ID.
	MessageID  string
	Recipient  string
	Status     string
	Diagnostic string
}

// Reason is the sentence the failed reply shows.
func (b *Bounce) Reason() string {
	r := "The mail could not be delivered"
	if b.Recipient != "" {
		r += " to " + b.Recipient
	}
	if b.Diagnostic != "" {
		r += ": " + b.Diagnostic
	} else if b.Status != "" {
		r += " (status " + b.Status + ")"
	}
	return strings.TrimSuffix(r, ".") + "."
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

// rawInfo is what Raw keeps of a mail: enough to answer it, to all.
type rawInfo struct {
	MessageID  string   `json:"messageId"`
	References []string `json:"references,omitempty"`
	InReplyTo  []string `json:"inReplyTo,omitempty"`
	From       string   `json:"from"`
	ReplyTo    string   `json:"replyTo,omitempty"`
	To         []string `json:"to,omitempty"`
	Cc         []string `json:"cc,omitempty"`
	Subject    string   `json:"subject,omitempty"`
	UID        uint32   `json:"uid,omitempty"`
}

// Inbound converts a parsed mail to an inbound message for the mailbox at
// support. Others on the mail (To and Cc but the sender and the mailbox)
// become its Cc; a mail with no readable sender gets a contact of its own.
func (p *Parsed) Inbound(uid uint32, support string) *backend.InboundMessage {
	raw, _ := json.Marshal(rawInfo{MessageID: p.MessageID, References: p.References, InReplyTo: p.InReplyTo, From: p.From,
		ReplyTo: p.ReplyTo, To: p.To, Cc: p.Cc, Subject: p.Subject, UID: uid})
	in := &backend.InboundMessage{
		ExternalUserID: p.From, DisplayName: p.FromName, ThreadKey: p.ThreadKey(),
		ExternalID: p.MessageID, Text: p.Text, Subject: p.Subject, Attachments: p.Attachments,
		PlatformAt: p.Date, Raw: raw, Automatic: p.Automatic, Problem: strings.Join(p.Problems, " "),
		Cc:   others(append(append([]string(nil), p.To...), p.Cc...), p.From, support),
		Refs: append(append([]string(nil), p.References...), p.InReplyTo...),
	}
	if p.Reports != "" {
		in.Refs = append(in.Refs, p.Reports)
	}
	if in.ExternalUserID == "" {
		in.ExternalUserID, in.DisplayName = "unknown sender "+p.MessageID, "Unknown sender"
	}
	return in
}

// others returns the addresses of list that are neither excluded nor
// repeated, in order.
func others(list []string, exclude ...string) []string {
	var out []string
	seen := map[string]bool{}
	for _, e := range exclude {
		seen[strings.ToLower(e)] = true
	}
	for _, a := range list {
		a = strings.ToLower(a)
		if a != "" && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

// ParseMessage reads an RFC 5322 mail the way a forgiving mail client
// does: whatever can be read is kept and what cannot is said in Problems,
// so no mail is ever refused. A mail without a Message-ID gets one derived
// from its bytes, so a re-import is still recognised. The error is
// always nil; it stays for callers that check.
func ParseMessage(b []byte) (*Parsed, error) {
	p := &Parsed{}
	fixed, problem := fixHeaderBreak(b)
	if problem != "" {
		p.Problems = append(p.Problems, problem)
	}
	e, err := message.Read(bytes.NewReader(fixed))
	if e == nil {
		p.Problems = append(p.Problems, "The mail's headers could not be read.")
		p.MessageID, p.Text = syntheticID(b), strings.TrimSpace(string(b))
		p.keepOriginal(b)
		return p, nil
	}
	if err != nil {
		p.Problems = append(p.Problems, partProblem(err, "the mail"))
	}
	h := mail.Header{Header: e.Header}
	p.readHeaders(h, b)
	w := &walker{p: p}
	p.Text = normalizeText(strings.Join(w.entity(e, 0), "\n\n"))
	p.Automatic = p.Automatic || isAutomatic(h, w.report)
	p.Reports = w.original
	if w.status != nil && w.status.failed {
		p.Bounce = &Bounce{MessageID: w.original, Recipient: w.status.recipient, Status: w.status.code, Diagnostic: w.status.diagnostic}
		if p.Bounce.MessageID == "" {
			p.Bounce.MessageID = firstOf(p.InReplyTo, p.References)
		}
	}
	if len(p.Problems) > 0 {
		p.keepOriginal(b)
	}
	return p, nil
}

func firstOf(lists ...[]string) string {
	for _, l := range lists {
		if len(l) > 0 {
			return l[0]
		}
	}
	return ""
}

// readHeaders reads the identity, threading and address headers.
func (p *Parsed) readHeaders(h mail.Header, b []byte) {
	p.MessageID, _ = h.MessageID()
	if p.MessageID == "" {
		p.MessageID = syntheticID(b)
	}
	p.InReplyTo, _ = h.MsgIDList("In-Reply-To")
	p.References, _ = h.MsgIDList("References")
	// A From that breaks the standard (an unquoted comma in the name) is
	// read as mail clients read it, without complaint.
	from, key, _ := firstAddress(h, "From", "Sender", "Reply-To", "Return-Path")
	p.From, p.FromName = from.Address, from.Name
	switch {
	case p.From == "":
		p.Problems = append(p.Problems, "The mail names no sender address that could be read, so it cannot be answered by email.")
	case key != "From":
		p.Problems = append(p.Problems, fmt.Sprintf("The mail has no readable From header; the sender was taken from %s.", key))
	}
	if rt, _ := parseAddresses(h, "Reply-To"); len(rt) > 0 {
		p.ReplyTo = rt[0].Address
	}
	for _, k := range []string{"To", "Cc"} {
		list, _ := parseAddresses(h, k)
		for _, a := range list {
			if k == "To" {
				p.To = append(p.To, a.Address)
			} else {
				p.Cc = append(p.Cc, a.Address)
			}
		}
	}
	p.Subject, _ = h.Subject()
	if d, err := h.Date(); err == nil {
		p.Date = d.UTC()
	}
}

// keepOriginal attaches the mail as received, so an agent can read what
// the engine could not.
func (p *Parsed) keepOriginal(b []byte) {
	a := backend.Attachment{Name: "original.eml", Type: "message/rfc822", Size: int64(len(b))}
	if len(b) > MaxAttachment {
		a.State, a.Error = backend.MediaFailed, fmt.Sprintf("The original mail is larger than the %d MB the engine keeps.", MaxAttachment>>20)
	} else {
		a.Data = b
	}
	p.Attachments = append(p.Attachments, a)
}

var headerLine = regexp.MustCompile(`^[!-9;-~]+[ \t]*:`)

// fixHeaderBreak makes sure a blank line ends the headers: a mail whose
// text follows its headers directly (or that has no headers) gets one
// before the first line that is not a header, with a sentence saying so.
func fixHeaderBreak(b []byte) ([]byte, string) {
	off := 0
	for i := 0; off < len(b); i++ {
		end := bytes.IndexByte(b[off:], '\n')
		if end < 0 {
			end = len(b) - off
		}
		line := bytes.TrimRight(b[off:off+end], "\r")
		switch {
		case len(line) == 0:
			return b, ""
		case (line[0] == ' ' || line[0] == '\t') && i > 0:
		case headerLine.Match(line):
		default:
			fixed := append(append(append([]byte(nil), b[:off]...), "\r\n"...), b[off:]...)
			if i == 0 {
				return fixed, "The mail has no headers; all of it was read as its text."
			}
			return fixed, "The mail has no blank line after its headers; its text was read from the first line that is not a header."
		}
		off += end + 1
	}
	return b, ""
}

func partProblem(err error, what string) string {
	switch {
	case message.IsUnknownCharset(err):
		return "A part of " + what + " uses a character set the engine does not know; it is shown as it came."
	case message.IsUnknownEncoding(err):
		return "A part of " + what + " uses a transfer encoding the engine does not know; it is kept as it came."
	}
	return "Part of " + what + " could not be read: " + err.Error() + "."
}

func normalizeText(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
}

// syntheticID names a mail that has no Message-ID by a hash of its bytes.
func syntheticID(b []byte) string {
	return "sha256-" + hashHex(b) + "@switchboard.invalid"
}
