package api

import (
	"net/http"

	"switchboard/backend"
)

// adminRoutes mounts the admin console's routes that need only the store:
// the audit log, labels, canned response removal, invitations and the
// first-run setup.
func (s *Server) adminRoutes() {
	s.route("GET /api/audit", Admin, s.handleAudit)
	s.route("GET /api/labels", SignedIn, s.handleLabels)
	s.route("POST /api/labels", Admin, s.handlePutLabel)
	s.route("PUT /api/labels/{id}", Admin, s.handlePutLabel)
	s.route("DELETE /api/labels/{id}", Admin, s.handleDeleteLabel)
	s.route("PUT /api/conversations/{id}/labels", ConversationRule(Act, "id"), s.handleConversationLabels)
	s.route("DELETE /api/canned/{id}", Admin, s.handleDeleteCanned)
	s.peopleRoutes()
}

func (s *Server) handleLabels(w http.ResponseWriter, r *http.Request) {
	list, err := s.Store.FindLabels(r.Context())
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

// LabelRequest is the body of POST /api/labels and PUT /api/labels/{id}.
type LabelRequest struct {
	Name        string `json:"name"`
	Color       string `json:"color,omitempty"`
	Description string `json:"description,omitempty"`
}

func (s *Server) handlePutLabel(w http.ResponseWriter, r *http.Request) {
	var req LabelRequest
	if err := decodeJSON(w, r, s.MaxBody, &req); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	l := &backend.Label{ID: r.PathValue("id"), Name: req.Name, Color: req.Color, Description: req.Description}
	created := l.ID == ""
	if err := s.Store.PutLabel(r.Context(), l); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	action, status := "label.update", http.StatusOK
	if created {
		action, status = "label.create", http.StatusCreated
	}
	s.audit(r, action, "label", l.ID, req, "Saved label %s", l.Name)
	writeJSON(w, status, l)
}

func (s *Server) handleDeleteLabel(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.Store.DeleteLabel(r.Context(), id); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	s.audit(r, "label.delete", "label", id, nil, "Removed label %s", id)
	w.WriteHeader(http.StatusNoContent)
}

// ConversationLabelsRequest is the body of PUT /api/conversations/{id}/labels.
type ConversationLabelsRequest struct {
	Labels []string `json:"labels"`
}

// handleConversationLabels replaces a conversation's labels (whoever may
// act on the conversation: its agent while it is theirs, supervisors,
// admins).
func (s *Server) handleConversationLabels(w http.ResponseWriter, r *http.Request) {
	var req ConversationLabelsRequest
	if err := decodeJSON(w, r, s.MaxBody, &req); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	id := r.PathValue("id")
	if req.Labels == nil {
		req.Labels = []string{}
	}
	c, err := s.Store.SetConversationLabels(r.Context(), id, req.Labels)
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) handleDeleteCanned(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.Store.DeleteCannedResponse(r.Context(), id); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	s.audit(r, "canned.delete", "canned", id, nil, "Removed canned response %s", id)
	w.WriteHeader(http.StatusNoContent)
}
