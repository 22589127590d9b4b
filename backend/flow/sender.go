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
	name := s.AuthorName
	if name == "" {
		name = "Bot"
	}
	_, _, err := s.Messages.StoreOutbound(ctx, &backend.OutboundMessage{
		ConversationID: conv.ID, AuthorName: name, Text: text, ClientID: key,
	})
	return err
}
