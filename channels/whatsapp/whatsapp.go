// Package whatsapp is the "whatsapp.cloud" connector for Meta's WhatsApp
// Cloud API: webhooks signed with X-Hub-Signature-256 (with the GET
// hub.challenge handshake), messages and statuses, the send API and the
// 24-hour customer service window.
package whatsapp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"switchboard/backend"
	"switchboard/channels"
	"switchboard/channels/meta"
)

// ID is the connector id.
const ID = "whatsapp.cloud"

// Window is how long after the customer's last message free-form replies
// are allowed.
const Window = 24 * time.Hour

func init() {
	channels.Register(channels.Info{
		ID: ID, New: New, Secrets: []string{"appSecret", "accessToken", "verifyToken"}, ContentTypes: channels.JSON,
		Title: channels.T("WhatsApp (Meta Cloud API)", "WhatsApp (API de Meta Cloud)"), Settings: settings, Testable: true, Webhook: true,
		Rate: 80, Burst: 80, // Cloud API default throughput per number
		// One file per message, uploaded to the media endpoint first.
		Media: channels.MediaLimits{MaxFiles: 1, Kinds: []channels.MediaKind{
			{Name: "images (JPEG, PNG)", Types: []string{"image/jpeg", "image/png"}, MaxBytes: 5 << 20},
			{Name: "stickers (WebP)", Types: []string{"image/webp"}, MaxBytes: 500 << 10},
			{Name: "audio", Types: []string{"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"}, MaxBytes: 16 << 20},
			{Name: "video (MP4, 3GP)", Types: []string{"video/mp4", "video/3gpp"}, MaxBytes: 16 << 20},
			{Name: "documents", Types: []string{"text/plain", "application/pdf", "application/msword", "application/vnd.ms-excel",
				"application/vnd.ms-powerpoint", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
				"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
				"application/vnd.openxmlformats-officedocument.presentationml.presentation"}, MaxBytes: 100 << 20},
		}},
	})
}

// Config is one WhatsApp business phone number.
type Config struct {
	AppSecret     channels.Secret `json:"appSecret"`
	VerifyToken   channels.Secret `json:"verifyToken"`
	AccessToken   channels.Secret `json:"accessToken"`
	PhoneNumberID string          `json:"phoneNumberId"`
	APIVersion    string          `json:"apiVersion,omitempty"`
	// AppID, with AppSecret, makes the app access token that Meta's
	// token debugger needs (Test connection).
	AppID string `json:"appId,omitempty"`
}

// Connector is one configured WhatsApp number.
type Connector struct {
	cfg    Config
	base   string
	client *http.Client
	now    func() time.Time
}

var (
	_ channels.Connector    = (*Connector)(nil)
	_ channels.Handshaker   = (*Connector)(nil)
	_ channels.MediaFetcher = (*Connector)(nil)
)

// New builds a connector from its configuration.
func New(p channels.Params) (channels.Connector, error) {
	c := &Connector{base: p.BaseURL, client: p.Client, now: p.Now}
	if err := channels.DecodeConfig(p.Config, &c.cfg); err != nil {
		return nil, err
	}
	if c.cfg.AppSecret == "" || c.cfg.AccessToken == "" || c.cfg.PhoneNumberID == "" {
		return nil, backend.Errorf(backend.EInvalid, "A WhatsApp Cloud channel needs appSecret, accessToken and phoneNumberId.")
	}
	if c.cfg.APIVersion == "" {
		c.cfg.APIVersion = meta.DefaultVersion
	}
	if c.base == "" {
		c.base = meta.DefaultGraphURL
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// Verify implements channels.Connector.
func (c *Connector) Verify(req *channels.Request) error {
	return meta.Verify(c.cfg.AppSecret.Reveal(), req)
}

// Handshake implements channels.Handshaker.
func (c *Connector) Handshake(req *channels.Request) (int, string) {
	return meta.Handshake(c.cfg.VerifyToken.Reveal(), req)
}

// Parse implements channels.Connector.
func (c *Connector) Parse(req *channels.Request) (*channels.Webhook, error) {
	return Parse(req.Body)
}

type payload struct {
	Object string `json:"object"`
	Entry  []struct {
		Changes []struct {
			Field string `json:"field"`
			Value struct {
				Metadata struct {
					PhoneNumberID string `json:"phone_number_id"`
				} `json:"metadata"`
				Contacts []struct {
					Profile struct {
						Name string `json:"name"`
					} `json:"profile"`
					WaID string `json:"wa_id"`
				} `json:"contacts"`
				Messages []json.RawMessage `json:"messages"`
				Statuses []struct {
					ID     string `json:"id"`
					Status string `json:"status"`
					Errors []struct {
						Code    int    `json:"code"`
						Title   string `json:"title"`
						Message string `json:"message"`
					} `json:"errors"`
				} `json:"statuses"`
			} `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

type media struct {
	ID       string `json:"id"`
	MimeType string `json:"mime_type"`
	Caption  string `json:"caption"`
	Filename string `json:"filename"`
}

type message struct {
	From      string `json:"from"`
	ID        string `json:"id"`
	Timestamp string `json:"timestamp"`
	Type      string `json:"type"`
	Text      struct {
		Body string `json:"body"`
	} `json:"text"`
	Image    *media `json:"image"`
	Audio    *media `json:"audio"`
	Video    *media `json:"video"`
	Document *media `json:"document"`
	Sticker  *media `json:"sticker"`
	Button   struct {
		Text string `json:"text"`
	} `json:"button"`
	Interactive struct {
		ButtonReply struct{ Title string } `json:"button_reply"`
		ListReply   struct{ Title string } `json:"list_reply"`
	} `json:"interactive"`
	Location *struct {
		Latitude  float64 `json:"latitude"`
		Longitude float64 `json:"longitude"`
		Name      string  `json:"name"`
	} `json:"location"`
}

// Parse normalizes a WhatsApp Cloud webhook body. Media come as ids the
// engine fetches with the access token.
func Parse(body []byte) (*channels.Webhook, error) {
	var p payload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, backend.Errorf(backend.EInvalid, "The WhatsApp webhook is not valid JSON.")
	}
	if p.Object != "whatsapp_business_account" {
		return nil, backend.Errorf(backend.EInvalid, "The webhook is not for a WhatsApp Business Account.")
	}
	wh := &channels.Webhook{}
	for _, e := range p.Entry {
		for _, ch := range e.Changes {
			if ch.Field != "messages" {
				continue
			}
			v := ch.Value
			names := map[string]string{}
			for _, ct := range v.Contacts {
				names[ct.WaID] = ct.Profile.Name
			}
			for _, raw := range v.Messages {
				var m message
				if err := json.Unmarshal(raw, &m); err != nil || m.ID == "" || m.From == "" {
					return nil, backend.Errorf(backend.EInvalid, "A WhatsApp message has no id or sender.")
				}
				in := &backend.InboundMessage{
					ExternalUserID: m.From, DisplayName: names[m.From], ThreadKey: v.Metadata.PhoneNumberID + "|" + m.From,
					ExternalID: m.ID, Text: m.Text.Body, Raw: raw,
				}
				if ts, err := strconv.ParseInt(m.Timestamp, 10, 64); err == nil {
					in.PlatformAt = time.Unix(ts, 0).UTC()
				}
				for i, md := range []*media{m.Image, m.Audio, m.Video, m.Document, m.Sticker} {
					typ := [...]string{"image", "audio", "video", "document", "sticker"}[i]
					if md == nil || md.ID == "" {
						continue
					}
					ctype := md.MimeType
					if ctype == "" {
						ctype = typ
					}
					in.Attachments = append(in.Attachments, backend.Attachment{Ref: md.ID, Type: ctype, Name: md.Filename})
					if in.Text == "" {
						in.Text = md.Caption
					}
				}
				switch {
				case in.Text != "":
				case m.Button.Text != "":
					in.Text = m.Button.Text
				case m.Interactive.ButtonReply.Title != "":
					in.Text = m.Interactive.ButtonReply.Title
				case m.Interactive.ListReply.Title != "":
					in.Text = m.Interactive.ListReply.Title
				case m.Location != nil:
					in.Text = strings.TrimSpace(m.Location.Name + " " + strconv.FormatFloat(m.Location.Latitude, 'f', -1, 64) + "," + strconv.FormatFloat(m.Location.Longitude, 'f', -1, 64))
				}
				wh.Messages = append(wh.Messages, in)
			}
			for _, s := range v.Statuses {
				st := channels.Status{ExternalID: s.ID}
				switch s.Status {
				case "sent", "delivered", "read", "failed":
					st.Status = s.Status
				default:
					continue
				}
				if len(s.Errors) > 0 {
					st.Reason = "WhatsApp error " + strconv.Itoa(s.Errors[0].Code) + ": " + s.Errors[0].Title
				}
				wh.Statuses = append(wh.Statuses, st)
			}
		}
	}
	return wh, nil
}

// Send implements channels.Connector: POST /{version}/{phone-number-id}/messages.
func (c *Connector) Send(ctx context.Context, out *channels.Outbound) (*channels.Sent, error) {
	if !InWindow(out.LastInbound, c.now()) {
		return nil, channels.Permanent("WhatsApp's 24-hour customer service window is closed (the customer has not written in the last 24 hours); only an approved template can be sent.")
	}
	phoneID, to, ok := strings.Cut(out.ThreadKey, "|")
	if !ok {
		phoneID, to = c.cfg.PhoneNumberID, out.ThreadKey
	}
	msg := map[string]any{"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
	text := out.Text
	var links []backend.Attachment
	for _, a := range out.Attachments {
		if _, kept := backend.MediaIDFromPath(a.URL); !kept {
			links = append(links, a)
		}
	}
	switch {
	case len(out.Files) > 0:
		// A kept file is uploaded to the media endpoint and sent by id;
		// links to other sites ride in the caption.
		f := out.Files[0]
		id, err := c.upload(ctx, phoneID, f)
		if err != nil {
			return nil, err
		}
		for _, a := range links {
			text = strings.TrimSpace(text + "\n" + a.URL)
		}
		msg["type"], msg[mediaType(f.Type)] = mediaType(f.Type), mediaObject(map[string]any{"id": id}, f.Attachment, text)
	case len(links) > 0:
		a := links[0]
		msg["type"], msg[mediaType(a.Type)] = mediaType(a.Type), mediaObject(map[string]any{"link": a.URL}, a, text)
	default:
		msg["type"], msg["text"] = "text", map[string]any{"body": text, "preview_url": false}
	}
	if out.LastInbound != nil && out.LastInbound.ExternalID != "" {
		msg["context"] = map[string]string{"message_id": out.LastInbound.ExternalID}
	}
	b, _ := json.Marshal(msg)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/"+c.cfg.APIVersion+"/"+phoneID+"/messages", bytes.NewReader(b))
	if err != nil {
		return nil, channels.Permanent("The WhatsApp request could not be built.")
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.AccessToken.Reveal())
	req.Header.Set("Content-Type", "application/json")
	body, _, err := channels.Do(c.client, req, nil)
	if err != nil {
		return nil, meta.Classify(err, body)
	}
	var res struct {
		Messages []struct {
			ID string `json:"id"`
		} `json:"messages"`
	}
	if json.Unmarshal(body, &res) != nil || len(res.Messages) == 0 || res.Messages[0].ID == "" {
		return nil, &channels.SendError{InDoubt: true, Reason: "WhatsApp's answer had no message id."}
	}
	return &channels.Sent{ExternalID: res.Messages[0].ID, Status: backend.DeliverySent}, nil
}

// mediaObject completes a media message's object with its caption (not
// for audio or stickers) and a document's file name.
func mediaObject(m map[string]any, a backend.Attachment, caption string) map[string]any {
	typ := mediaType(a.Type)
	if caption != "" && typ != "audio" && typ != "sticker" {
		m["caption"] = caption
	}
	if typ == "document" && a.Name != "" {
		m["filename"] = a.Name
	}
	return m
}

// upload sends a file to POST /{version}/{phone-number-id}/media and
// returns its media id.
func (c *Connector) upload(ctx context.Context, phoneID string, f channels.File) (string, error) {
	body, ctype := channels.Multipart([]string{"messaging_product", "whatsapp", "type", f.Type}, channels.FilePart{Field: "file", File: f})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/"+c.cfg.APIVersion+"/"+phoneID+"/media", bytes.NewReader(body))
	if err != nil {
		return "", channels.Permanent("The WhatsApp upload could not be built.")
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.AccessToken.Reveal())
	req.Header.Set("Content-Type", ctype)
	resp, _, err := channels.Do(c.client, req, nil)
	if err != nil {
		return "", meta.Classify(err, resp)
	}
	var res struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(resp, &res) != nil || res.ID == "" {
		return "", &channels.SendError{Reason: "WhatsApp's answer to the upload had no media id."}
	}
	return res.ID, nil
}

// FetchMedia implements channels.MediaFetcher: GET /{version}/{media-id}
// names a short-lived address of the file, which is then read with the
// same bearer token; the bytes must match the SHA-256 WhatsApp gives.
func (c *Connector) FetchMedia(ctx context.Context, ref string, max int64) (*channels.Fetched, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/"+c.cfg.APIVersion+"/"+url.PathEscape(ref), nil)
	if err != nil {
		return nil, channels.Permanent("The WhatsApp media id is not valid.")
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.AccessToken.Reveal())
	body, _, err := channels.Do(c.client, req, nil)
	if err != nil {
		var se *channels.SendError
		if errors.As(err, &se) && se.Status == http.StatusNotFound {
			se.Reason = "WhatsApp no longer has this file (media are kept 30 days)."
		}
		return nil, meta.Classify(err, body)
	}
	var info struct {
		URL      string `json:"url"`
		MimeType string `json:"mime_type"`
		SHA256   string `json:"sha256"`
		FileSize int64  `json:"file_size"`
	}
	if json.Unmarshal(body, &info) != nil || info.URL == "" {
		return nil, &channels.SendError{Reason: "WhatsApp gave no address for the file."}
	}
	if info.FileSize > max {
		return nil, channels.Permanent("The file is larger than the engine keeps.")
	}
	dl, err := http.NewRequestWithContext(ctx, http.MethodGet, info.URL, nil)
	if err != nil {
		return nil, channels.Permanent("WhatsApp's file address is not valid.")
	}
	dl.Header.Set("Authorization", "Bearer "+c.cfg.AccessToken.Reveal())
	got, err := channels.Download(c.client, dl, max)
	if err != nil {
		return nil, err
	}
	if sum := sha256.Sum256(got.Data); info.SHA256 != "" && !strings.EqualFold(hex.EncodeToString(sum[:]), info.SHA256) {
		return nil, &channels.SendError{Reason: "The file WhatsApp sent does not match its checksum."}
	}
	got.Type = info.MimeType
	return got, nil
}

// InWindow reports whether the customer's last message is recent enough for
// a free-form reply.
func InWindow(last *backend.InboundRef, now time.Time) bool {
	if last == nil {
		return false
	}
	at := last.PlatformAt // the customer's time, even for a late redelivery
	if at.IsZero() {
		at = last.CreatedAt
	}
	return now.Sub(at) < Window
}

func mediaType(mime string) string {
	switch {
	case mime == "image/webp":
		return "sticker"
	case strings.HasPrefix(mime, "image/") || mime == "image":
		return "image"
	case strings.HasPrefix(mime, "audio/") || mime == "audio":
		return "audio"
	case strings.HasPrefix(mime, "video/") || mime == "video":
		return "video"
	}
	return "document"
}

var _ channels.Tester = (*Connector)(nil)

// TestConnection implements channels.Tester with Meta's token debugger.
func (c *Connector) TestConnection(ctx context.Context) (string, error) {
	return meta.DebugToken(ctx, c.client, c.base, c.cfg.APIVersion, c.cfg.AppID, c.cfg.AppSecret.Reveal(), c.cfg.AccessToken.Reveal())
}
