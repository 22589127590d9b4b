package flow

import (
	"context"

	"switchboard/backend"
)

// MessageSender is the production Sender: it stores the bot's reply as a
// queued outbound message (the channel outbox delivers it), with the
// idempotency key as the message's client id.
type MessageSender struct {
	Messages backend.MessageService
	// AuthorName is shown as the sender (default "Bot").
	AuthorName string
}

var _ Sender = MessageSender{}

// Send implements Sender.
func (s MessageSender) Send(ctx context.Context, conv *backend.Conversation, text, key string) error {
	_, _, err := s.Messages.StoreOutbound(ctx, &backend.OutboundMessage{
		ConversationID: conv.ID, AuthorName: s.author(), Text: text, ClientID: key,
	})
	return err
}

// author is the name the replies are shown under.
func (s MessageSender) author() string {
	if s.AuthorName == "" {
		return "Bot"
	}
	return s.AuthorName
}
