// Package twilio is the connector for Twilio Programmable Messaging: SMS/MMS
// ("sms.twilio") and WhatsApp through Twilio ("whatsapp.twilio"). Inbound
// messages and status callbacks arrive as form posts signed with
// X-Twilio-Signature; replies go to the Messages API with basic auth.
package twilio

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"switchboard/backend"
	"switchboard/channels"
)

// Connector ids.
const (
	SMS      = "sms.twilio"
	WhatsApp = "whatsapp.twilio"
)

// DefaultBaseURL is Twilio's REST API.
const DefaultBaseURL = "https://api.twilio.com"

func init() {
	for _, id := range []string{SMS, WhatsApp} {
		channels.Register(channels.Info{
			ID: id, New: New, Secrets: []string{"authToken", "apiKeySecret"},
			// Form posts; JSON bodies carry bodySHA256 in the signed URL.
			ContentTypes: []string{"application/x-www-form-urlencoded", "application/json"},
			// Twilio queues beyond carrier throughput itself; this keeps
			// well under its ~100 concurrent API requests per account.
			Rate: 10, Burst: 10,
			Title: titles[id], Settings: settings, Testable: true, Webhook: true,
			Media: limits[id],
		})
	}
}

// limits are what Twilio carries per message: MMS up to 10 media of 5 MB
// in all; WhatsApp one file (images 5 MB, other media 16 MB). Twilio
// fetches each file from its MediaUrl.
var limits = map[string]channels.MediaLimits{
	SMS: {MaxFiles: 10, NeedsLink: true, Kinds: []channels.MediaKind{
		{Name: "images (JPEG, PNG, GIF)", Types: []string{"image/jpeg", "image/png", "image/gif"}, MaxBytes: 5 << 20},
		{Name: "audio, video, PDF and vCard files", Types: []string{"audio/*", "video/*", "application/pdf", "text/vcard", "text/x-vcard"}, MaxBytes: 5 << 20},
	}},
	WhatsApp: {MaxFiles: 1, NeedsLink: true, Kinds: []channels.MediaKind{
		{Name: "images (JPEG, PNG)", Types: []string{"image/jpeg", "image/png"}, MaxBytes: 5 << 20},
		{Name: "audio, video and documents", Types: []string{"audio/*", "video/mp4", "video/3gpp", "application/pdf", "application/msword",
			"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "application/vnd.ms-excel",
			"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "text/plain"}, MaxBytes: 16 << 20},
	}},
}

var titles = map[string]channels.Text{SMS: channels.T("SMS (Twilio)", "SMS (Twilio)"), WhatsApp: channels.T("WhatsApp (Twilio)", "WhatsApp (Twilio)")}

// Config is one Twilio sender (a number or a Messaging Service).
type Config struct {
	AccountSID string          `json:"accountSid"`
	AuthToken  channels.Secret `json:"authToken"`
	// APIKeySID and APIKeySecret, when set, authenticate API calls instead
	// of the auth token (which still verifies webhooks).
	APIKeySID    string          `json:"apiKeySid,omitempty"`
	APIKeySecret channels.Secret `json:"apiKeySecret,omitempty"`
	// From is the sending number ("+1555…"; for WhatsApp without the
	// "whatsapp:" prefix) used when a thread does not name one.
	From string `json:"from,omitempty"`
	// MessagingServiceSID sends through a Messaging Service instead of From.
	MessagingServiceSID string `json:"messagingServiceSid,omitempty"`
	// WebhookURL is the exact URL configured in Twilio, when it differs
	// from the URL the engine computes (proxies rewriting paths).
	WebhookURL string `json:"webhookUrl,omitempty"`
}

// Connector is one configured Twilio sender.
type Connector struct {
	cfg      Config
	whatsapp bool
	base     string
	hookURL  string
	client   *http.Client
}

var (
	_ channels.Connector    = (*Connector)(nil)
	_ channels.Acker        = (*Connector)(nil)
	_ channels.MediaFetcher = (*Connector)(nil)
)

// New builds a connector from its configuration.
func New(p channels.Params) (channels.Connector, error) {
	c := &Connector{whatsapp: p.Connector == WhatsApp, base: p.BaseURL, hookURL: p.HookURL, client: p.Client}
	if err := channels.DecodeConfig(p.Config, &c.cfg); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(c.cfg.AccountSID, "AC") || c.cfg.AuthToken == "" {
		return nil, backend.Errorf(backend.EInvalid, "A Twilio channel needs accountSid (AC…) and authToken.")
	}
	if c.cfg.From == "" && c.cfg.MessagingServiceSID == "" {
		return nil, backend.Errorf(backend.EInvalid, "A Twilio channel needs from or messagingServiceSid.")
	}
	if c.base == "" {
		c.base = DefaultBaseURL
	}
	if c.cfg.WebhookURL != "" {
		c.hookURL = c.cfg.WebhookURL
	}
	return c, nil
}

// Signature returns Twilio's X-Twilio-Signature for a request to rawURL with
// the given POST parameters, as Twilio documents it: sort the parameters by
// name (case-sensitive byte order), append each name and its value to the
// URL with no separators (a repeated name once per value, values in order),
// and sign with base64(HMAC-SHA1(authToken, …)). Sorting by name matters
// when one name prefixes another: "To" comes before "ToCountry" whatever
// their values.
func Signature(authToken, rawURL string, params url.Values) string {
	names := make([]string, 0, len(params))
	for name := range params {
		names = append(names, name)
	}
	sort.Strings(names)
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(rawURL))
	for _, name := range names {
		values := append([]string(nil), params[name]...)
		sort.Strings(values)
		for _, v := range values {
			mac.Write([]byte(name))
			mac.Write([]byte(v))
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// ValidSignature reports, in constant time, whether sig signs the request.
// Like Twilio's libraries it accepts the URL with and without the default
// port, since proxies add or drop it.
func ValidSignature(authToken, rawURL string, params url.Values, sig string) bool {
	if sig == "" {
		return false
	}
	ok := false
	for _, u := range urlVariants(rawURL) {
		if hmac.Equal([]byte(Signature(authToken, u, params)), []byte(sig)) {
			ok = true
		}
	}
	return ok
}

// urlVariants returns rawURL with and without its scheme's default port.
func urlVariants(rawURL string) []string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return []string{rawURL}
	}
	def := map[string]string{"https": "443", "http": "80"}[u.Scheme]
	alt := *u
	switch {
	case u.Port() == "" && def != "":
		alt.Host = u.Host + ":" + def
	case u.Port() == def:
		alt.Host = u.Hostname()
	default:
		return []string{rawURL}
	}
	return []string{rawURL, alt.String()}
}

// signedURL is the URL Twilio signed: the configured webhook URL (with the
// request's query) or the one the engine received.
func (c *Connector) signedURL(req *channels.Request) string {
	if c.cfg.WebhookURL == "" {
		return req.URL
	}
	if i := strings.IndexByte(req.URL, '?'); i >= 0 && !strings.Contains(c.cfg.WebhookURL, "?") {
		return c.cfg.WebhookURL + req.URL[i:]
	}
	return c.cfg.WebhookURL
}

// Verify implements channels.Connector.
func (c *Connector) Verify(req *channels.Request) error {
	sig := req.Header.Get("X-Twilio-Signature")
	if sig == "" {
		return backend.Errorf(backend.EUnauthorized, "The X-Twilio-Signature header is missing.")
	}
	token := c.cfg.AuthToken.Reveal()
	rawURL := c.signedURL(req)
	if isForm(req) {
		// A body that is not quite a form still has its readable parameters
		// checked: when they are signed, Parse refuses the rest with 400.
		params, _ := url.ParseQuery(string(req.Body))
		if !ValidSignature(token, rawURL, params, sig) {
			return backend.Errorf(backend.EForbidden, "The Twilio signature does not match.")
		}
		return nil
	}
	// JSON bodies: the URL carries bodySHA256 and is signed alone.
	u, err := url.Parse(rawURL)
	if err != nil || !ValidSignature(token, rawURL, nil, sig) {
		return backend.Errorf(backend.EForbidden, "The Twilio signature does not match.")
	}
	sum := sha256.Sum256(req.Body)
	if want := u.Query().Get("bodySHA256"); !hmac.Equal([]byte(strings.ToLower(want)), []byte(hex.EncodeToString(sum[:]))) {
		return backend.Errorf(backend.EForbidden, "The Twilio body hash does not match.")
	}
	return nil
}

func isForm(req *channels.Request) bool {
	ct := req.Header.Get("Content-Type")
	return ct == "" || strings.HasPrefix(ct, "application/x-www-form-urlencoded")
}

// Parse implements channels.Connector.
func (c *Connector) Parse(req *channels.Request) (*channels.Webhook, error) {
	return ParseForm(req.Body, c.whatsapp)
}

// ParseForm normalizes a Twilio webhook body: an inbound message or a
// status callback.
func ParseForm(body []byte, whatsapp bool) (*channels.Webhook, error) {
	f, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, backend.Errorf(backend.EInvalid, "The Twilio webhook is not a form.")
	}
	sid := f.Get("MessageSid")
	if sid == "" {
		sid = f.Get("SmsSid")
	}
	if sid == "" {
		return nil, backend.Errorf(backend.EInvalid, "The Twilio webhook has no MessageSid.")
	}
	if st := f.Get("MessageStatus"); st != "" {
		status, reason := mapStatus(st, f.Get("ErrorCode"), f.Get("ErrorMessage"))
		return &channels.Webhook{Statuses: []channels.Status{{ExternalID: sid, Status: status, Reason: reason}}}, nil
	}
	from, to := f.Get("From"), f.Get("To")
	if from == "" {
		return nil, backend.Errorf(backend.EInvalid, "The Twilio webhook has no From.")
	}
	raw := map[string]string{}
	for k := range f {
		raw[k] = f.Get(k)
	}
	rawJSON, _ := json.Marshal(raw)
	in := &backend.InboundMessage{
		ExternalUserID: from, DisplayName: f.Get("ProfileName"), ThreadKey: to + "|" + from,
		ExternalID: sid, Text: f.Get("Body"), Raw: rawJSON,
	}
	// Media stays on Twilio behind the account's credentials: the engine
	// fetches and keeps each file.
	n, _ := strconv.Atoi(f.Get("NumMedia"))
	for i := 0; i < n && i < 10; i++ {
		u := f.Get(fmt.Sprintf("MediaUrl%d", i))
		if u == "" {
			continue
		}
		in.Attachments = append(in.Attachments, backend.Attachment{Ref: u, Type: f.Get(fmt.Sprintf("MediaContentType%d", i))})
	}
	return &channels.Webhook{Messages: []*backend.InboundMessage{in}}, nil
}

// mapStatus turns Twilio's MessageStatus into a backend delivery state ("" for
// states before sent, which the message already has as queued).
func mapStatus(st, code, msg string) (string, string) {
	switch st {
	case "sent":
		return backend.DeliverySent, ""
	case "delivered", "partially_delivered":
		return backend.DeliveryDelivered, ""
	case "read":
		return backend.DeliveryRead, ""
	case "failed", "undelivered", "canceled":
		reason := "Twilio reported the message " + st
		if code != "" {
			reason += " (error " + code
			if msg != "" {
				reason += ": " + msg
			}
			reason += ")"
		}
		return backend.DeliveryFailed, reason + "."
	}
	return "", ""
}

// Ack implements channels.Acker with empty TwiML: no automatic reply.
func (c *Connector) Ack(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`)
}

// Send implements channels.Connector with Messages.json.
func (c *Connector) Send(ctx context.Context, out *channels.Outbound) (*channels.Sent, error) {
	from, to, ok := strings.Cut(out.ThreadKey, "|")
	if !ok {
		from, to = "", out.ThreadKey
	}
	if from == "" {
		from = c.cfg.From
	}
	if c.whatsapp {
		from, to = waAddr(from), waAddr(to)
	}
	form := url.Values{"To": {to}}
	if c.cfg.MessagingServiceSID != "" {
		form.Set("MessagingServiceSid", c.cfg.MessagingServiceSID)
	} else {
		form.Set("From", from)
	}
	if out.Text != "" {
		form.Set("Body", out.Text)
	}
	for _, a := range out.Attachments {
		if _, kept := backend.MediaIDFromPath(a.URL); !kept {
			form.Add("MediaUrl", a.URL)
		}
	}
	for _, f := range out.Files {
		form.Add("MediaUrl", f.Link) // Twilio fetches it from the engine
	}
	if c.hookURL != "" {
		form.Set("StatusCallback", c.hookURL)
	}
	endpoint := c.base + "/2010-04-01/Accounts/" + url.PathEscape(c.cfg.AccountSID) + "/Messages.json"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, channels.Permanent("The Twilio request could not be built.")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	c.auth(req)
	body, _, err := channels.Do(c.client, req, errorReason)
	if err != nil {
		return nil, err
	}
	var res struct {
		SID    string `json:"sid"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal(body, &res); err != nil || res.SID == "" {
		return nil, &channels.SendError{InDoubt: true, Reason: "Twilio's answer had no message sid."}
	}
	status, _ := mapStatus(res.Status, "", "")
	if status == "" {
		status = backend.DeliveryQueued
	}
	return &channels.Sent{ExternalID: res.SID, Status: status}, nil
}

func waAddr(s string) string {
	if s == "" || strings.HasPrefix(s, "whatsapp:") {
		return s
	}
	return "whatsapp:" + s
}

// errorReason reads Twilio's error body {"code","message"} into a sentence.
func errorReason(body []byte) string {
	var e struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil || e.Code == 0 {
		return ""
	}
	switch e.Code {
	case 63016:
		return "WhatsApp's 24-hour window is closed: only an approved template can be sent (Twilio error 63016)."
	}
	return fmt.Sprintf("Twilio error %d: %s", e.Code, e.Message)
}

var _ channels.Tester = (*Connector)(nil)

// TestConnection implements channels.Tester by fetching the account
// (GET /2010-04-01/Accounts/{AccountSid}.json) with the credentials sends
// use; Twilio answers 401 (error 20003) when they are wrong.
func (c *Connector) TestConnection(ctx context.Context) (string, error) {
	endpoint := c.base + "/2010-04-01/Accounts/" + url.PathEscape(c.cfg.AccountSID) + ".json"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return "", backend.Errorf(backend.EInvalid, "The Twilio request could not be built.")
	}
	req.Header.Set("Accept", "application/json")
	c.auth(req)
	body, _, err := channels.Do(c.client, req, errorReason)
	if err != nil {
		return "", channels.TestError("Twilio", err)
	}
	var acct struct {
		SID          string `json:"sid"`
		FriendlyName string `json:"friendly_name"`
		Status       string `json:"status"`
	}
	if json.Unmarshal(body, &acct) != nil || acct.SID != c.cfg.AccountSID {
		return "", backend.Errorf(backend.EInvalid, "Twilio did not answer with account %s.", c.cfg.AccountSID)
	}
	if acct.Status != "active" {
		return "", backend.Errorf(backend.EInvalid, "Twilio account %s is %s, not active.", acct.FriendlyName, acct.Status)
	}
	return fmt.Sprintf("Twilio account %s (%s), active", acct.FriendlyName, acct.SID), nil
}

// FetchMedia implements channels.MediaFetcher: a MediaUrl answers, with
// the account's basic auth, with a redirect to a short-lived address of the
// file. Credentials go only to the configured Twilio API host.
func (c *Connector) FetchMedia(ctx context.Context, ref string, max int64) (*channels.Fetched, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ref, nil)
	if err != nil {
		return nil, channels.Permanent("The Twilio media address is not valid.")
	}
	if u, err := url.Parse(c.base); err == nil && req.URL.Host == u.Host && req.URL.Scheme == u.Scheme {
		c.auth(req)
	}
	return channels.Download(c.client, req, max)
}

// auth sets the basic auth of API calls: the API key when there is one,
// else the account's auth token.
func (c *Connector) auth(req *http.Request) {
	if c.cfg.APIKeySID != "" {
		req.SetBasicAuth(c.cfg.APIKeySID, c.cfg.APIKeySecret.Reveal())
	} else {
		req.SetBasicAuth(c.cfg.AccountSID, c.cfg.AuthToken.Reveal())
	}
}
