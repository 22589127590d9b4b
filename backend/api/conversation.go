package api

import (
	"net/http"

	"switchboard/backend"
)

func (s *Server) handleConversations(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := backend.ConversationFilter{Status: q.Get("status"), Channel: q.Get("channel"), ContactID: q.Get("contact"), Limit: 500}
	s.policy.ConversationFilter(&SessionFrom(r.Context()).User, &f)
	convs, err := s.Store.FindConversations(r.Context(), f)
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	if convs == nil {
		convs = []*backend.Conversation{}
	}
	writeJSON(w, http.StatusOK, convs)
}

func (s *Server) handleConversation(w http.ResponseWriter, r *http.Request) {
	c, err := s.Store.FindConversationByID(r.Context(), r.PathValue("id"))
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) handleMessages(w http.ResponseWriter, r *http.Request) {
	if _, err := s.Store.FindConversationByID(r.Context(), r.PathValue("id")); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	msgs, err := s.Store.FindMessages(r.Context(), r.PathValue("id"))
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, msgs)
}

// SendMessageRequest is the body of POST /api/conversations/{id}/messages.
type SendMessageRequest struct {
	Text        string               `json:"text"`
	Private     bool                 `json:"private,omitempty"`
	Attachments []backend.Attachment `json:"attachments,omitempty"`
	// Cc, on email, names who is copied; absent, the reply goes to
	// everyone on the thread (reply all), and [] to the sender only.
	Cc []string `json:"cc,omitempty"`
	// ClientID makes the request idempotent: a retry returns the first message.
	ClientID string `json:"clientId,omitempty"`
}

func (s *Server) handleSendMessage(w http.ResponseWriter, r *http.Request) {
	var req SendMessageRequest
	if err := decodeJSON(w, r, s.MaxBody, &req); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	u := SessionFrom(r.Context()).User
	if req.Private {
		req.Cc = nil // a note reaches nobody
	} else if s.replies != nil {
		conv, err := s.Store.FindConversationByID(r.Context(), r.PathValue("id"))
		if err == nil {
			err = s.replies.CheckReply(r.Context(), conv, req.Attachments, req.Cc)
		}
		if err != nil {
			Error(w, r, s.Logger, err)
			return
		}
	}
	m, created, err := s.Store.StoreOutbound(r.Context(), &backend.OutboundMessage{
		ConversationID: r.PathValue("id"), AuthorID: u.ID, AuthorName: u.Name,
		Text: req.Text, Private: req.Private, Attachments: req.Attachments, Cc: req.Cc, ClientID: req.ClientID,
	})
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, m)
}

// SetStatusRequest is the body of POST /api/conversations/{id}/status.
type SetStatusRequest struct {
	Status string `json:"status"`
}

func (s *Server) handleSetStatus(w http.ResponseWriter, r *http.Request) {
	var req SetStatusRequest
	if err := decodeJSON(w, r, s.MaxBody, &req); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	c, err := s.Store.SetConversationStatus(r.Context(), r.PathValue("id"), req.Status)
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) handleContact(w http.ResponseWriter, r *http.Request) {
	c, err := s.Store.FindContactByID(r.Context(), r.PathValue("id"))
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// MergeContactsRequest is the body of POST /api/contacts/merge.
type MergeContactsRequest struct {
	Into string `json:"into"`
	From string `json:"from"`
}

func (s *Server) handleMergeContacts(w http.ResponseWriter, r *http.Request) {
	var req MergeContactsRequest
	if err := decodeJSON(w, r, s.MaxBody, &req); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	c, err := s.Store.MergeContacts(r.Context(), req.Into, req.From)
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	s.audit(r, "contact.merge", "contact", req.Into, req, "Merged contact %s into %s", req.From, req.Into)
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) handleCanned(w http.ResponseWriter, r *http.Request) {
	list, err := s.Store.FindCannedResponses(r.Context())
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

// PutCannedRequest is the body of PUT /api/canned/{id}.
type PutCannedRequest struct {
	Shortcut string `json:"shortcut"`
	Title    string `json:"title"`
	Text     string `json:"text"`
}

func (s *Server) handlePutCanned(w http.ResponseWriter, r *http.Request) {
	var req PutCannedRequest
	if err := decodeJSON(w, r, s.MaxBody, &req); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	c := &backend.CannedResponse{ID: r.PathValue("id"), Shortcut: req.Shortcut, Title: req.Title, Text: req.Text}
	if err := s.Store.PutCannedResponse(r.Context(), c); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	s.audit(r, "canned.save", "canned", c.ID, req, "Saved canned response /%s", c.Shortcut)
	writeJSON(w, http.StatusOK, c)
}
