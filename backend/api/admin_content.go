package api

import (
	"net/http"
	"slices"

	"switchboard/backend"
)

// adminRoutes mounts the admin console's routes that need only the store:
// the audit log, labels, canned response removal, invitations and the
// first-run setup.
func (s *Server) adminRoutes() {
	s.mux.Handle("GET /api/audit", s.auth(backend.RoleAdmin, s.handleAudit))
	s.mux.Handle("GET /api/labels", s.auth(backend.RoleAgent, s.handleLabels))
	s.mux.Handle("POST /api/labels", s.auth(backend.RoleAdmin, s.handlePutLabel))
	s.mux.Handle("PUT /api/labels/{id}", s.auth(backend.RoleAdmin, s.handlePutLabel))
	s.mux.Handle("DELETE /api/labels/{id}", s.auth(backend.RoleAdmin, s.handleDeleteLabel))
	s.mux.Handle("PUT /api/conversations/{id}/labels", s.auth(backend.RoleAgent, s.handleConversationLabels))
	s.mux.Handle("DELETE /api/canned/{id}", s.auth(backend.RoleAdmin, s.handleDeleteCanned))
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

// handleConversationLabels replaces a conversation's labels. Supervisors
// and admins label any conversation; an agent only one whose open task
// they hold.
func (s *Server) handleConversationLabels(w http.ResponseWriter, r *http.Request) {
	var req ConversationLabelsRequest
	if err := decodeJSON(w, r, s.MaxBody, &req); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	id := r.PathValue("id")
	if err := s.holdsConversation(r, id); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
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

// holdsConversation allows supervisors and admins, and an agent whose
// worker holds an open task of the conversation.
func (s *Server) holdsConversation(r *http.Request, conversationID string) error {
	u := SessionFrom(r.Context()).User
	if u.Role.AtLeast(backend.RoleSupervisor) {
		return nil
	}
	denied := backend.Errorf(backend.EForbidden, "Only the agent handling conversation %s, or a supervisor, can change it.", conversationID)
	if s.routing == nil || s.router == nil {
		return denied
	}
	wk, err := s.myWorker(r)
	if err != nil {
		return denied
	}
	tasks, err := s.routing.Tasks(r.Context(), backend.TaskFilter{WorkerID: wk.ID})
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(tasks, func(t *backend.Task) bool { return t.ConversationID == conversationID }) {
		return denied
	}
	return nil
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
