package server

import (
	"context"
	"encoding/json"
	"time"

	"switchboard/backend/api"
	"switchboard/channels/webchat"
)

// relayed is a typing signal handed to every node when several share
// PostgreSQL: the desktops and the visitor's widget may be connected to
// any of them.
type relayed struct {
	// Typing goes to the desktops connected to each node.
	Typing *api.Typing `json:"typing,omitempty"`
	// WidgetTyping names a web chat conversation whose visitor is shown
	// that an agent is typing, by the node their widget is connected to.
	WidgetTyping string `json:"widgetTyping,omitempty"`
}

// visitorTyping tells the agents' desktops that a web chat visitor is
// typing in their conversation.
func (s *Server) visitorTyping(instance, threadKey string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := s.Store.FindThreadConversation(ctx, webchat.ID, instance, threadKey)
	if err != nil {
		return // nothing written yet: no conversation to show it in
	}
	t := api.Typing{ConversationID: c.ID, Who: "customer"}
	if ct, err := s.Store.FindContactByID(ctx, c.ContactID); err == nil {
		t.Name = ct.Name
	}
	if s.PG != nil {
		s.relay(ctx, relayed{Typing: &t})
		return
	}
	s.API.PublishTyping(t)
}

// agentTyping shows a web chat visitor that an agent is typing; other
// channels have no such signal here.
func (s *Server) agentTyping(ctx context.Context, conversationID, agentName string) error {
	c, err := s.Store.FindConversationByID(ctx, conversationID)
	if err != nil || c.Channel != webchat.ID {
		return err
	}
	if s.PG != nil {
		return s.relay(ctx, relayed{WidgetTyping: c.ID})
	}
	return s.Widget.AgentTyping(ctx, c.ID)
}

// relay hands a typing signal to every node (onRelay).
func (s *Server) relay(ctx context.Context, r relayed) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return s.PG.Relay(ctx, b)
}

// onRelay passes a typing signal relayed by any node to this node's
// desktops and widgets.
func (s *Server) onRelay(payload []byte) {
	var r relayed
	if err := json.Unmarshal(payload, &r); err != nil {
		return
	}
	if r.Typing != nil {
		s.API.PublishTyping(*r.Typing)
	}
	if r.WidgetTyping != "" && s.Widget != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Widget.AgentTyping(ctx, r.WidgetTyping) // a visitor connected elsewhere: nothing to do here
	}
}
