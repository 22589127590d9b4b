package discord

import (
	"encoding/json"
	"time"

	"switchboard/backend"
)

// Gateway opcodes.
const (
	opDispatch       = 0
	opHeartbeat      = 1
	opIdentify       = 2
	opResume         = 6
	opReconnect      = 7
	opInvalidSession = 9
	opHello          = 10
	opHeartbeatACK   = 11
)

// Payload is one Gateway frame.
type Payload struct {
	Op int             `json:"op"`
	D  json.RawMessage `json:"d,omitempty"`
	S  *int64          `json:"s,omitempty"`
	T  string          `json:"t,omitempty"`
}

// DecodePayload parses one Gateway frame. Returns EInvalid.
func DecodePayload(b []byte) (*Payload, error) {
	var p Payload
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, backend.Errorf(backend.EInvalid, "The Gateway frame is not valid JSON.")
	}
	if p.Op < 0 || p.Op > 11 {
		return nil, backend.Errorf(backend.EInvalid, "Unknown Gateway opcode %d.", p.Op)
	}
	return &p, nil
}

type user struct {
	ID         string `json:"id"`
	Username   string `json:"username"`
	GlobalName string `json:"global_name"`
	Bot        bool   `json:"bot"`
}

type message struct {
	ID        string `json:"id"`
	ChannelID string `json:"channel_id"`
	GuildID   string `json:"guild_id"`
	WebhookID string `json:"webhook_id"`
	Author    *user  `json:"author"`
	Content   string `json:"content"`
	Timestamp string `json:"timestamp"`
	Type      int    `json:"type"`
	// Attachments are files with their CDN URLs.
	Attachments []struct {
		Filename    string `json:"filename"`
		Size        int64  `json:"size"`
		URL         string `json:"url"`
		ContentType string `json:"content_type"`
	} `json:"attachments"`
}

// NormalizeMessage turns a MESSAGE_CREATE's d into an inbound message, or
// nil for messages that are not a customer's: the bot's own, other bots',
// webhooks', system messages, and guild channels not listed in guilds.
func NormalizeMessage(d json.RawMessage, botID string, guilds map[string]bool) (*backend.InboundMessage, error) {
	var m message
	if err := json.Unmarshal(d, &m); err != nil {
		return nil, backend.Errorf(backend.EInvalid, "The MESSAGE_CREATE event is not valid JSON.")
	}
	if m.ID == "" || m.ChannelID == "" || m.Author == nil || m.Author.ID == "" {
		return nil, nil
	}
	if m.Author.ID == botID || m.Author.Bot || m.WebhookID != "" || (m.Type != 0 && m.Type != 19) {
		return nil, nil
	}
	if m.GuildID != "" && !guilds[m.ChannelID] {
		return nil, nil
	}
	name := m.Author.GlobalName
	if name == "" {
		name = m.Author.Username
	}
	in := &backend.InboundMessage{
		ExternalUserID: m.Author.ID, DisplayName: name, ThreadKey: m.ChannelID, ExternalID: m.ID,
		Text: m.Content, Raw: d,
	}
	if t, err := time.Parse(time.RFC3339Nano, m.Timestamp); err == nil {
		in.PlatformAt = t.UTC()
	}
	// CDN addresses expire: the engine fetches and keeps each file.
	for _, a := range m.Attachments {
		if a.URL != "" {
			in.Attachments = append(in.Attachments, backend.Attachment{Ref: a.URL, Type: a.ContentType, Name: a.Filename, Size: a.Size})
		}
	}
	return in, nil
}
