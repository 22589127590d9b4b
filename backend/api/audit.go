package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"switchboard/backend"
)

// audit records who made an admin change, after it succeeded. details is
// marshalled to JSON and must never hold a secret. A failure to record is
// logged: the change itself already happened.
func (s *Server) audit(r *http.Request, action, entityType, entityID string, details any, format string, args ...any) {
	sess := SessionFrom(r.Context())
	e := &backend.AuditEntry{Action: action, EntityType: entityType, EntityID: entityID, Summary: fmt.Sprintf(format, args...)}
	if sess != nil {
		e.UserID, e.UserName = sess.User.ID, sess.User.Name
	}
	if details != nil {
		e.Details, _ = json.Marshal(details)
	}
	if err := s.Store.AppendAudit(r.Context(), e); err != nil {
		s.Logger.Error("audit entry not recorded", "action", action, "entity", entityID, "err", err)
	}
}

// handleAudit serves GET /api/audit?before=SEQ&limit=N&type=T (admins):
// the audit log, newest first.
func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := backend.AuditFilter{EntityType: q.Get("type")}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			Error(w, r, s.Logger, backend.Errorf(backend.EInvalid, "before must be a positive whole number, not %q.", v))
			return
		}
		f.Before = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			Error(w, r, s.Logger, backend.Errorf(backend.EInvalid, "limit must be between 1 and 500, not %q.", v))
			return
		}
		f.Limit = n
	}
	list, err := s.Store.FindAudit(r.Context(), f)
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}
