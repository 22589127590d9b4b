// Package email is the email connector: inbound over IMAP (IDLE, with
// polling as the fallback) as a channels.Poller, outbound over SMTP with
// STARTTLS or TLS and AUTH PLAIN. Mails thread by Message-ID, In-Reply-To
// and References; the thread key is the thread's root Message-ID.
package email

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"switchboard/backend"
	"switchboard/channels"
)

// ID is the connector id.
const ID = "email"

func init() {
	channels.Register(channels.Info{ID: ID, New: New, Secrets: []string{"imapPassword", "smtpPassword"}, Rate: 2, Burst: 5,
		Title: channels.T("Email (IMAP and SMTP)", "Correo (IMAP y SMTP)"), Settings: settings, Testable: true, Cc: true,
		// Most mail servers take 25 MB per mail, which base64 makes of
		// about 18 MB of files.
		Media: channels.MediaLimits{MaxFiles: 10, Kinds: []channels.MediaKind{{Name: "files", Types: []string{"*"}, MaxBytes: 18 << 20}}}})
}

// Connection security settings.
const (
	SecurityTLS      = "tls"      // implicit TLS (IMAPS 993, SMTPS 465)
	SecurityStartTLS = "starttls" // plain, then STARTTLS (143, 587)
	SecurityNone     = "none"     // plain text: tests and local relays only
)

// Config is one mailbox.
type Config struct {
	// Address is the support address: mail is sent from it, and mail from
	// it in the inbox is not imported.
	Address string `json:"address"`
	// Name is the From display name.
	Name string `json:"name,omitempty"`

	IMAPAddr     string          `json:"imapAddr"` // host:port
	IMAPSecurity string          `json:"imapSecurity,omitempty"`
	IMAPUsername string          `json:"imapUsername"`
	IMAPPassword channels.Secret `json:"imapPassword"`
	// Mailbox is the folder to import (default INBOX).
	Mailbox string `json:"mailbox,omitempty"`
	// PollSeconds is the polling interval when the server has no IDLE or
	// NoIdle is set (default 60).
	PollSeconds int  `json:"pollSeconds,omitempty"`
	NoIdle      bool `json:"noIdle,omitempty"`

	SMTPAddr     string          `json:"smtpAddr"` // host:port
	SMTPSecurity string          `json:"smtpSecurity,omitempty"`
	SMTPUsername string          `json:"smtpUsername,omitempty"`
	SMTPPassword channels.Secret `json:"smtpPassword,omitempty"`

	// InsecureSkipVerify accepts any server certificate (self-signed test
	// servers only).
	InsecureSkipVerify bool `json:"insecureSkipVerify,omitempty"`
}

// Connector is one configured mailbox.
type Connector struct {
	cfg Config
	log *slog.Logger
	now func() time.Time

	// The IMAP cursor of this process: which UIDVALIDITY the last session
	// saw and the highest UID imported under it. Across restarts the
	// keyword flag on each imported mail is the durable record.
	mu          sync.Mutex
	uidValidity uint32
	lastUID     uint32
}

var (
	_ channels.Connector = (*Connector)(nil)
	_ channels.Poller    = (*Connector)(nil)
)

// New builds a connector from its configuration.
func New(p channels.Params) (channels.Connector, error) {
	c := &Connector{log: p.Logger, now: p.Now}
	if err := channels.DecodeConfig(p.Config, &c.cfg); err != nil {
		return nil, err
	}
	cfg := &c.cfg
	if _, err := mail.ParseAddress(cfg.Address); err != nil || !strings.Contains(cfg.Address, "@") {
		return nil, backend.Errorf(backend.EInvalid, "An email channel needs address, the support address.")
	}
	if cfg.IMAPAddr == "" || cfg.SMTPAddr == "" {
		return nil, backend.Errorf(backend.EInvalid, "An email channel needs imapAddr and smtpAddr (host:port).")
	}
	for _, a := range []string{cfg.IMAPAddr, cfg.SMTPAddr} {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return nil, backend.Errorf(backend.EInvalid, "imapAddr and smtpAddr look like mail.example.com:993.")
		}
	}
	if cfg.IMAPSecurity == "" {
		cfg.IMAPSecurity = SecurityTLS
	}
	if cfg.SMTPSecurity == "" {
		cfg.SMTPSecurity = SecurityStartTLS
	}
	for _, s := range []string{cfg.IMAPSecurity, cfg.SMTPSecurity} {
		if s != SecurityTLS && s != SecurityStartTLS && s != SecurityNone {
			return nil, backend.Errorf(backend.EInvalid, "imapSecurity and smtpSecurity are tls, starttls or none.")
		}
	}
	if cfg.IMAPUsername == "" || cfg.IMAPPassword == "" {
		return nil, backend.Errorf(backend.EInvalid, "An email channel needs imapUsername and imapPassword.")
	}
	if cfg.Mailbox == "" {
		cfg.Mailbox = "INBOX"
	}
	if cfg.PollSeconds <= 0 {
		cfg.PollSeconds = 60
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// Verify implements channels.Connector: mail arrives over IMAP.
func (c *Connector) Verify(req *channels.Request) error {
	return backend.Errorf(backend.EForbidden, "Email arrives over IMAP, not by webhook.")
}

// Parse implements channels.Connector.
func (c *Connector) Parse(req *channels.Request) (*channels.Webhook, error) {
	return nil, backend.Errorf(backend.EInvalid, "Email arrives over IMAP, not by webhook.")
}

// Polling implements channels.Poller.
func (c *Connector) Polling() bool { return true }

func (c *Connector) tlsConfig(addr string) *tls.Config {
	host, _, _ := net.SplitHostPort(addr)
	return &tls.Config{ServerName: host, InsecureSkipVerify: c.cfg.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
}

// Send implements channels.Connector: one mail over SMTP, threaded under
// the last mail of the conversation, to its sender (or Reply-To) and, as a
// mail client's "reply all" does, copied to everyone else it went to
// unless the reply names its own Cc. The generated Message-ID is the
// external id.
func (c *Connector) Send(ctx context.Context, out *channels.Outbound) (*channels.Sent, error) {
	var last rawInfo
	if out.LastInbound == nil || json.Unmarshal(out.LastInbound.Raw, &last) != nil || (last.From == "" && last.ReplyTo == "") {
		return nil, channels.Permanent("The conversation has no mail with a sender address to answer.")
	}
	to := last.ReplyTo
	if to == "" {
		to = last.From
	}
	cc := out.Cc
	if cc == nil {
		cc = append(append([]string(nil), last.To...), last.Cc...)
	}
	cc = others(cc, to, c.cfg.Address)
	id := NewMessageID(out.ThreadKey, c.cfg.Address)
	raw, err := c.compose(out, &last, to, cc, id)
	if err != nil {
		return nil, channels.Permanent("The mail could not be composed.")
	}
	if err := c.deliver(append([]string{to}, cc...), raw); err != nil {
		return nil, err
	}
	return &channels.Sent{ExternalID: id, Status: backend.DeliverySent}, nil
}

// references returns a reply's References per RFC 5322 §3.6.4: the
// parent's References (or, without them, its single In-Reply-To) followed
// by the parent's Message-ID; the root and the newest are kept when long.
func references(last *rawInfo) []string {
	refs := append([]string(nil), last.References...)
	if len(refs) == 0 && len(last.InReplyTo) == 1 {
		refs = append(refs, last.InReplyTo[0])
	}
	refs = append(refs, last.MessageID)
	if len(refs) > 20 {
		refs = append(refs[:1], refs[len(refs)-19:]...)
	}
	return refs
}

// compose writes the reply as a MIME mail.
func (c *Connector) compose(out *channels.Outbound, last *rawInfo, to string, cc []string, id string) ([]byte, error) {
	var h mail.Header
	h.SetDate(c.now())
	h.SetAddressList("From", []*mail.Address{{Name: c.cfg.Name, Address: c.cfg.Address}})
	h.SetAddressList("To", []*mail.Address{{Address: to}})
	if len(cc) > 0 {
		list := make([]*mail.Address, len(cc))
		for i, a := range cc {
			list[i] = &mail.Address{Address: a}
		}
		h.SetAddressList("Cc", list)
	}
	subject := last.Subject
	if !strings.HasPrefix(strings.ToLower(subject), "re:") {
		subject = strings.TrimSpace("Re: " + subject)
	}
	h.SetSubject(subject)
	h.SetMessageID(id)
	if last.MessageID != "" {
		h.SetMsgIDList("In-Reply-To", []string{last.MessageID})
		h.SetMsgIDList("References", references(last))
	}
	h.Set("Auto-Submitted", "no")
	text := out.Text
	var files []channels.File
	for _, a := range out.Attachments {
		if typ, data, ok := backend.ParseDataURL(a.URL); ok {
			files = append(files, channels.File{Attachment: backend.Attachment{Name: a.Name, Type: typ}, Data: data})
		} else if _, kept := backend.MediaIDFromPath(a.URL); !kept {
			text = strings.TrimSpace(text + "\n" + a.URL)
		}
	}
	files = append(files, out.Files...)
	var buf bytes.Buffer
	w, err := mail.CreateWriter(&buf, h)
	if err != nil {
		return nil, err
	}
	var th mail.InlineHeader
	th.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
	tw, err := w.CreateSingleInline(th)
	if err != nil {
		return nil, err
	}
	tw.Write([]byte(strings.ReplaceAll(text, "\n", "\r\n")))
	tw.Close()
	for _, f := range files {
		var ah mail.AttachmentHeader
		ah.SetContentType(f.Type, nil)
		ah.SetFilename(f.Name)
		aw, err := w.CreateAttachment(ah)
		if err != nil {
			return nil, err
		}
		aw.Write(f.Data)
		aw.Close()
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// deliver hands a mail to the SMTP server for its recipients. A failure
// before the server took the data is retried (4xx, network) or final
// (5xx); a failure while finishing the data may have delivered it.
func (c *Connector) deliver(rcpts []string, raw []byte) error {
	cl, err := c.dialSMTP()
	if err != nil {
		return &channels.SendError{Reason: "The mail server could not be reached.", Err: err}
	}
	defer cl.Close()
	if c.cfg.SMTPUsername != "" {
		if err := cl.Auth(sasl.NewPlainClient("", c.cfg.SMTPUsername, c.cfg.SMTPPassword.Reveal())); err != nil {
			return smtpError(err, "The mail server refused the login.")
		}
	}
	if err := cl.Mail(c.cfg.Address, nil); err != nil {
		return smtpError(err, "The mail server refused the sender.")
	}
	for _, to := range rcpts {
		if err := cl.Rcpt(to, nil); err != nil {
			return smtpError(err, "The mail server refused the recipient "+to+".")
		}
	}
	wc, err := cl.Data()
	if err != nil {
		return smtpError(err, "The mail server refused the mail.")
	}
	if _, err := wc.Write(raw); err != nil {
		return &channels.SendError{InDoubt: true, Reason: "The connection broke while sending the mail.", Err: err}
	}
	if err := wc.Close(); err != nil {
		se := smtpError(err, "The mail server refused the mail.")
		var smtpErr *smtp.SMTPError
		if !errors.As(err, &smtpErr) {
			se.InDoubt = true
		}
		return se
	}
	cl.Quit()
	return nil
}

// smtpError classifies a failed SMTP command: 5xx is final, 4xx and
// network errors are retried.
func smtpError(err error, reason string) *channels.SendError {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		r := fmt.Sprintf("%s (%d %s)", reason, se.Code, se.Message)
		return &channels.SendError{Status: se.Code, Permanent: se.Code >= 500, Reason: r, Err: err}
	}
	return &channels.SendError{Reason: reason, Err: err}
}

// idPrefix marks Message-IDs Switchboard generates.
const idPrefix = "sb."

var idEnc = base64.RawURLEncoding

// NewMessageID returns a fresh Message-ID (without angle brackets) for a
// mail in the thread whose root is root. The root rides along in the id,
// so a reply that keeps only In-Reply-To still finds its thread.
func NewMessageID(root, address string) string {
	domain := "switchboard.invalid"
	if _, d, ok := strings.Cut(address, "@"); ok && d != "" {
		domain = d
	}
	var r [9]byte
	rand.Read(r[:])
	id := idPrefix + idEnc.EncodeToString(r[:])
	if root != "" && len(root) <= 200 {
		id += "." + idEnc.EncodeToString([]byte(root))
	}
	return id + "@" + domain
}

// rootOf returns the thread root carried by one of our Message-IDs, or id
// itself.
func rootOf(id string) string {
	local, _, ok := strings.Cut(id, "@")
	if !ok || !strings.HasPrefix(local, idPrefix) {
		return id
	}
	parts := strings.Split(local, ".")
	if len(parts) != 3 {
		return id
	}
	root, err := idEnc.DecodeString(parts[2])
	if err != nil || len(root) == 0 {
		return id
	}
	return string(root)
}

func hashHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:16])
}
