package api

import (
	"context"
	"encoding/json"
	"net/http"
)

// Typing says that someone is typing in a conversation. It is not stored:
// the hub pushes it to the WebSocket clients connected now, as a frame of
// type "typing". Who may see it follows the conversation's access.
type Typing struct {
	ConversationID string `json:"conversationId"`
	// Who is "customer" (a web chat visitor) or "agent".
	Who string `json:"who"`
	// Name is the customer's or agent's display name.
	Name string `json:"name,omitempty"`
}

// Typist tells a conversation's customer that an agent is typing, where
// the channel can show it (the web chat widget).
type Typist func(ctx context.Context, conversationID, agentName string) error

// SetTypist enables POST /api/conversations/{id}/typing (whoever may act
// on the conversation: the signed-in user is typing a reply in it). The
// customer sees it on channels that can show it; on the others the call
// does nothing.
func (s *Server) SetTypist(t Typist) {
	s.route("POST /api/conversations/{id}/typing", ConversationRule(Act, "id"), func(w http.ResponseWriter, r *http.Request) {
		if err := decodeOptionalEmpty(w, r, s.MaxBody); err != nil {
			Error(w, r, s.Logger, err)
			return
		}
		if err := t(r.Context(), r.PathValue("id"), SessionFrom(r.Context()).User.Name); err != nil {
			Error(w, r, s.Logger, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// PublishTyping pushes a typing signal to the connected desktops of the
// users who may read the conversation (its agents, supervisors and
// admins). It never blocks: a signal the hub cannot take at once is
// dropped (the next one comes within seconds).
func (s *Server) PublishTyping(t Typing) {
	b, err := json.Marshal(struct {
		Type   string `json:"type"`
		Typing Typing `json:"typing"`
	}{"typing", t})
	if err != nil {
		return
	}
	select {
	case s.hub.ephemeral <- scopedFrame{t.ConversationID, b}:
	default:
	}
}
