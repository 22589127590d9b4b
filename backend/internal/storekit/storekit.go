// Package storekit holds the rules both stores (backend/sqlite and
// backend/postgres) apply before and after their SQL: validation of what is
// written, passwords and tokens, phone numbers, session lifetimes, sealing
// of secrets and the access policy's bookkeeping. It holds no SQL, so the
// two stores cannot drift on anything but their statements.
package storekit

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"switchboard/backend"
)

// phoneChannels are the channels whose external user id is a phone number;
// one number on any of them is one contact.
var phoneChannels = map[string]bool{
	"sms.twilio": true, "whatsapp.twilio": true, "whatsapp.cloud": true, "voice": true, "voice.sip": true,
}

// NormalizePhone returns the E.164 form of a channel's phone-like id
// ("whatsapp:+1555…", "1555…") or "" when id is not a phone number.
func NormalizePhone(id string) string {
	id = strings.TrimPrefix(strings.TrimSpace(id), "whatsapp:")
	digits := strings.TrimPrefix(id, "+")
	if len(digits) < 6 || len(digits) > 15 {
		return ""
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return ""
		}
	}
	return "+" + digits
}

// IdentityPhone returns the phone number an identity shares with the
// customer's other phone channels, or "" when its channel does not use
// phone numbers or its id is not one.
func IdentityPhone(id backend.Identity) string {
	if !phoneChannels[id.Channel] {
		return ""
	}
	return NormalizePhone(id.ExternalID)
}

// CheckIdentity returns EInvalid for an identity without a channel or an
// external id.
func CheckIdentity(id backend.Identity) error {
	if id.Channel == "" || id.ExternalID == "" {
		return backend.Errorf(backend.EInvalid, "An identity needs a channel and an external id.")
	}
	return nil
}

// NewContactName is the name of a contact an identity creates.
func NewContactName(id backend.Identity) string {
	if id.DisplayName != "" {
		return id.DisplayName
	}
	return id.ExternalID
}

// Preview is the short text of a message shown in the inbox.
func Preview(m *backend.Message) string {
	s := strings.Join(strings.Fields(m.Text), " ")
	if s == "" && len(m.Attachments) > 0 {
		s = "[" + m.Attachments[0].Type + "]"
	}
	if utf8.RuneCountInString(s) > 140 {
		s = string([]rune(s)[:140]) + "…"
	}
	return s
}

// CheckInbound returns EInvalid for an inbound message without a channel,
// an instance or a sender, and gives a message without a thread its
// sender's thread.
func CheckInbound(in *backend.InboundMessage) error {
	if in.Channel == "" || in.Instance == "" || in.ExternalUserID == "" {
		return backend.Errorf(backend.EInvalid, "An inbound message needs a channel, an instance and a sender.")
	}
	if in.ThreadKey == "" {
		in.ThreadKey = in.ExternalUserID
	}
	return nil
}

// CheckOutbound returns EInvalid for a reply without text or attachment, or
// with an attachment URL CheckAttachmentURL refuses.
func CheckOutbound(out *backend.OutboundMessage) error {
	if strings.TrimSpace(out.Text) == "" && len(out.Attachments) == 0 {
		return backend.Errorf(backend.EInvalid, "A reply needs text or an attachment.")
	}
	for i, a := range out.Attachments {
		if err := backend.CheckAttachmentURL(a.URL); err != nil {
			return backend.Errorf(backend.EInvalid, "Attachment %d: %s", i+1, backend.ErrorMessage(err))
		}
	}
	return nil
}

// NewOutbound is the message StoreOutbound records for out in conv at now:
// queued for the platform, or sent at once when it is a private note.
func NewOutbound(out *backend.OutboundMessage, conv *backend.Conversation, id string, now time.Time) *backend.Message {
	status := backend.DeliveryQueued
	if out.Private {
		status = backend.DeliverySent
	}
	return &backend.Message{
		ID: id, ConversationID: conv.ID, ContactID: conv.ContactID, Direction: backend.DirectionOut,
		AuthorID: out.AuthorID, AuthorName: out.AuthorName, Text: out.Text, Private: out.Private, Attachments: out.Attachments,
		ClientID: out.ClientID, Status: status, CreatedAt: now, UpdatedAt: now, Cc: out.Cc,
	}
}

// CheckStatus returns EInvalid for a conversation status that does not exist.
func CheckStatus(status string) error {
	switch status {
	case backend.StatusOpen, backend.StatusPending, backend.StatusSnoozed, backend.StatusResolved:
		return nil
	}
	return backend.Errorf(backend.EInvalid, "Status must be open, pending, snoozed or resolved, not %q.", status)
}

// CheckDelivery returns EInvalid for a delivery state that does not exist.
func CheckDelivery(status string) error {
	if backend.DeliveryRank(status) == 0 {
		return backend.Errorf(backend.EInvalid, "%q is not a delivery status.", status)
	}
	return nil
}

// StatusesBelow lists the outbound delivery states status moves a message
// forward from.
func StatusesBelow(status string) []string {
	var lower []string
	for _, s := range []string{backend.DeliveryQueued, backend.DeliverySent, backend.DeliveryDelivered, backend.DeliveryRead} {
		if backend.DeliveryRank(s) < backend.DeliveryRank(status) {
			lower = append(lower, s)
		}
	}
	return lower
}

// CheckUser trims the user's email and returns EInvalid for a bad email or
// role.
func CheckUser(u *backend.User) error {
	u.Email = strings.TrimSpace(u.Email)
	if _, err := mail.ParseAddress(u.Email); err != nil {
		return backend.Errorf(backend.EInvalid, "%q is not an email address.", u.Email)
	} else if !u.Role.Valid() {
		return backend.Errorf(backend.EInvalid, "Role must be agent, supervisor or admin, not %q.", u.Role)
	}
	return nil
}

// CheckInvite trims the invitation's email and returns EInvalid for a bad
// email or role.
func CheckInvite(inv *backend.Invite) error {
	return CheckUser(&backend.User{Email: inv.Email, Role: inv.Role})
}

// HashPassword checks a new password and hashes it with bcrypt at cost.
func HashPassword(password string, cost int) (string, error) {
	if err := backend.ValidPassword(password); err != nil {
		return "", err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(hash), nil
}

// PasswordMatches reports whether password is the one hash was made from.
func PasswordMatches(hash, password string) bool {
	return len(password) <= backend.MaxPasswordBytes && bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// ErrSignIn is the answer to a wrong email or password.
func ErrSignIn() error {
	return backend.Errorf(backend.EUnauthorized, "The email or password is not correct.")
}

// ErrDisabled is the answer to a disabled user's sign-in.
func ErrDisabled() error {
	return backend.Errorf(backend.EForbidden, "This account is disabled; ask an admin to enable it.")
}

// NewToken returns a random bearer token (256 bits, base64url).
func NewToken() (string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(raw[:]), nil
}

// HashToken is how tokens are stored: SHA-256, so a copied database holds
// no usable credential; the hash is also a session's id.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NewUUID returns a random RFC 4122 version 4 UUID (LINE's retry key needs one).
func NewUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("read random: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// CheckCanned normalizes a canned response's shortcut, gives a new one an
// id and returns EInvalid for a bad shortcut or empty text.
func CheckCanned(c *backend.CannedResponse) error {
	c.Shortcut = strings.TrimPrefix(strings.TrimSpace(c.Shortcut), "/")
	if c.Shortcut == "" || strings.ContainsAny(c.Shortcut, " \t\n") || strings.TrimSpace(c.Text) == "" {
		return backend.Errorf(backend.EInvalid, "A canned response needs a one-word shortcut and some text.")
	}
	if c.ID == "" {
		c.ID = backend.NewID("cr")
	}
	return nil
}

// ErrShortcutTaken is the answer to a canned response whose shortcut another has.
func ErrShortcutTaken(shortcut string) error {
	return backend.Errorf(backend.EConflict, "The shortcut /%s is already used.", shortcut)
}

var labelColor = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// CheckLabel trims a label's name, gives a new one an id and returns
// EInvalid for a bad name or color.
func CheckLabel(l *backend.Label) error {
	l.Name = strings.TrimSpace(l.Name)
	if l.Name == "" || len(l.Name) > 40 {
		return backend.Errorf(backend.EInvalid, "A label needs a name of at most 40 characters.")
	}
	if l.Color != "" && !labelColor.MatchString(l.Color) {
		return backend.Errorf(backend.EInvalid, "A label's color is written #rrggbb, not %q.", l.Color)
	}
	if l.ID == "" {
		l.ID = backend.NewID("lb")
	}
	return nil
}

// LabelSet returns label ids without repeats, sorted.
func LabelSet(ids []string) []string {
	out := []string{}
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// ChannelConfig returns the configuration to store for an instance ("{}"
// when empty), or EInvalid for a missing name or a configuration that is
// not JSON.
func ChannelConfig(ci *backend.ChannelInstance) ([]byte, error) {
	if strings.TrimSpace(ci.Connector) == "" || strings.TrimSpace(ci.Instance) == "" {
		return nil, backend.Errorf(backend.EInvalid, "A channel instance needs a connector and a name.")
	}
	config := []byte(ci.Config)
	if len(config) == 0 {
		config = []byte("{}")
	}
	if !json.Valid(config) {
		return nil, backend.Errorf(backend.EInvalid, "The channel configuration is not valid JSON.")
	}
	return config, nil
}

// CheckTrunk returns EInvalid for a trunk without a name or with a
// configuration that is not JSON.
func CheckTrunk(t *backend.Trunk) error {
	if strings.TrimSpace(t.Name) == "" {
		return backend.Errorf(backend.EInvalid, "A trunk needs a name.")
	}
	if !json.Valid(t.Config) {
		return backend.Errorf(backend.EInvalid, "The trunk configuration is not valid JSON.")
	}
	return nil
}

// CheckCall returns EInvalid for a call without a channel, an instance or
// a caller.
func CheckCall(c *backend.Call, caller backend.Identity) error {
	if c.Channel == "" || c.Instance == "" || caller.ExternalID == "" {
		return backend.Errorf(backend.EInvalid, "A call needs a channel, an instance and a caller.")
	}
	return nil
}

// CallNoteAuthor is the author shown on a call's timeline notes.
const CallNoteAuthor = "Phone"

// CallNoteMessage is the timeline note note adds for call c in conv at now.
func CallNoteMessage(conv *backend.Conversation, c *backend.Call, note backend.CallNote, now time.Time) *backend.Message {
	return &backend.Message{
		ID: backend.NewID("msg"), ConversationID: conv.ID, ContactID: conv.ContactID, Direction: backend.DirectionIn,
		AuthorName: CallNoteAuthor, Text: note.Text, Private: true, Attachments: note.Attachments,
		ExternalID: c.ID + ":" + backend.NewID("n"), Status: backend.DeliveryReceived, CreatedAt: now, UpdatedAt: now,
	}
}

// CheckFlowPut returns EInvalid for a flow save without a key or a flow.
func CheckFlowPut(key string, f *backend.Flow) error {
	if strings.TrimSpace(key) == "" || f == nil {
		return backend.Errorf(backend.EInvalid, "A flow needs a channel instance and a definition.")
	}
	return nil
}

// CheckFlowExecution returns EInvalid for an execution without an id or a
// conversation.
func CheckFlowExecution(x *backend.FlowExecution) error {
	if x.ConversationID == "" || x.ID == "" {
		return backend.Errorf(backend.EInvalid, "A flow execution needs an id and a conversation.")
	}
	return nil
}

// FlowDeadline is the time the engine must look at x again, if any: the
// timeout of a waiting execution, the lease of a running one.
func FlowDeadline(x *backend.FlowExecution) time.Time {
	switch x.Status {
	case backend.FlowWaiting:
		return x.TimeoutAt
	case backend.FlowRunning:
		return x.LeaseUntil
	}
	return time.Time{}
}

// CheckUploadQuota returns ETooLarge when size more bytes would take the
// visitor (who has uploaded visitor bytes) or the instance (total) over q.
func CheckUploadQuota(q backend.UploadQuota, visitor, total, size int64) error {
	if q.VisitorBytes > 0 && visitor+size > q.VisitorBytes {
		return backend.Errorf(backend.ETooLarge, "You have sent as many files as you may for now (%d MiB); try again later.", q.VisitorBytes>>20)
	}
	if q.TotalBytes > 0 && total+size > q.TotalBytes {
		return backend.Errorf(backend.ETooLarge, "This chat takes no more files for now; please try again later.")
	}
	return nil
}

// ClaimBatch returns a new outbox claim's number: random, so that claims
// of different processes (and nodes) never share one, and never 0 (a job
// never claimed in a numbered batch).
func ClaimBatch() int64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("read random: " + err.Error())
	}
	return int64(binary.BigEndian.Uint64(b[:])>>1) | 1
}
