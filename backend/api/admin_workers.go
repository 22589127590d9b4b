package api

import (
	"net/http"
	"slices"
	"strings"

	"switchboard/backend"
)

// WorkerRequest is the body of POST /api/workers and PUT /api/workers/{id}.
// The attributes target expressions read most (skills, languages,
// departments, vip) are checked here; others pass as given.
type WorkerRequest struct {
	UserID     string         `json:"userId,omitempty"`
	Name       string         `json:"name"`
	Activity   string         `json:"activity,omitempty"`
	Attributes map[string]any `json:"attributes"`
	Capacity   map[string]int `json:"capacity"`
}

// listAttributes are worker attributes that must be lists of words.
var listAttributes = []string{"skills", "languages", "departments"}

// checkWorker validates a worker request and tidies its lists (trimmed,
// without duplicates; languages lower case). Returns EInvalid.
func checkWorker(req *WorkerRequest) error {
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" {
		return backend.Errorf(backend.EInvalid, "A worker needs a name.")
	}
	if req.Attributes == nil {
		req.Attributes = map[string]any{}
	}
	for _, key := range listAttributes {
		v, ok := req.Attributes[key]
		if !ok {
			continue
		}
		raw, isList := v.([]any)
		if !isList {
			return backend.Errorf(backend.EInvalid, "The %s of %s must be a list of words, like [\"billing\", \"returns\"].", key, req.Name)
		}
		words := []any{}
		for _, x := range raw {
			s, isStr := x.(string)
			s = strings.TrimSpace(s)
			if !isStr || s == "" {
				return backend.Errorf(backend.EInvalid, "The %s of %s must be non-empty words.", key, req.Name)
			}
			if key == "languages" {
				s = strings.ToLower(s)
			}
			if !slices.Contains(words, any(s)) {
				words = append(words, s)
			}
		}
		req.Attributes[key] = words
	}
	if v, ok := req.Attributes["vip"]; ok {
		if _, isBool := v.(bool); !isBool {
			return backend.Errorf(backend.EInvalid, "vip must be true or false.")
		}
	}
	for ch, n := range req.Capacity {
		if strings.TrimSpace(ch) == "" || n < 0 || n > 100 {
			return backend.Errorf(backend.EInvalid, "Capacity per channel is a number from 0 to 100 (channel %q has %d).", ch, n)
		}
	}
	return nil
}

func (s *Server) handlePutWorker(w http.ResponseWriter, r *http.Request) {
	var req WorkerRequest
	if err := decodeJSON(w, r, s.MaxBody, &req); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	if err := checkWorker(&req); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	id := r.PathValue("id")
	if err := s.exists(r, "worker", func() (bool, error) {
		_, err := s.routing.Worker(r.Context(), id)
		if backend.ErrorCode(err) == backend.ENotFound {
			return false, nil
		}
		return err == nil, err
	}); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	if req.UserID != "" {
		if err := s.knownUser(r, req.UserID); err != nil {
			Error(w, r, s.Logger, err)
			return
		}
	}
	wk, err := s.routing.UpsertWorker(r.Context(), &backend.Worker{ID: id, UserID: req.UserID, Name: req.Name, Activity: req.Activity,
		Attributes: req.Attributes, Capacity: req.Capacity})
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	s.auditPut(w, r, "worker", wk.ID, req, wk.Name, wk)
}

func (s *Server) knownUser(r *http.Request, id string) error {
	users, err := s.Store.FindUsers(r.Context())
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(users, func(u *backend.User) bool { return u.ID == id }) {
		return backend.Errorf(backend.EInvalid, "User %s does not exist.", id)
	}
	return nil
}

// handleDeleteWorker removes a worker. An agent's worker cannot go: every
// agent is routable (the engine would give them a new one); change the
// role or disable the account instead.
func (s *Server) handleDeleteWorker(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	wk, err := s.routing.Worker(r.Context(), id)
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	if wk.UserID != "" {
		users, err := s.Store.FindUsers(r.Context())
		if err != nil {
			Error(w, r, s.Logger, err)
			return
		}
		for _, u := range users {
			if u.ID == wk.UserID && u.Role == backend.RoleAgent {
				Error(w, r, s.Logger, backend.Errorf(backend.EConflict, "%s is an agent, and every agent takes tasks; disable the account or change the role instead.", u.Name))
				return
			}
		}
	}
	if err := s.routing.DeleteWorker(r.Context(), id); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	s.audit(r, "worker.delete", "worker", id, nil, "Removed worker %s", wk.Name)
	w.WriteHeader(http.StatusNoContent)
}
