package api

import (
	"net/http"

	"switchboard/backend"
)

func (s *Server) handleUsers(w http.ResponseWriter, r *http.Request) {
	users, err := s.Store.FindUsers(r.Context())
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	if users == nil {
		users = []*backend.User{}
	}
	writeJSON(w, http.StatusOK, users)
}

// CreateUserRequest is the body of POST /api/users.
type CreateUserRequest struct {
	Name     string       `json:"name"`
	Email    string       `json:"email"`
	Role     backend.Role `json:"role"`
	Password string       `json:"password"`
}

func (s *Server) handleCreateUser(w http.ResponseWriter, r *http.Request) {
	var req CreateUserRequest
	if err := decodeJSON(w, r, s.MaxBody, &req); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	u := &backend.User{Name: req.Name, Email: req.Email, Role: req.Role}
	if err := s.Store.CreateUser(r.Context(), u, req.Password); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	if s.OnUserCreated != nil {
		if err := s.OnUserCreated(r.Context(), u); err != nil {
			Error(w, r, s.Logger, err)
			return
		}
	}
	s.audit(r, "user.create", "user", u.ID, map[string]any{"email": u.Email, "role": u.Role}, "Created %s %s (%s)", u.Role, u.Name, u.Email)
	writeJSON(w, http.StatusCreated, u)
}

// handleDisableUser disables a user (their sessions end and their sockets
// close; as a worker they go Offline, so offers move on) or enables them.
func (s *Server) handleDisableUser(disable bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if disable && id == SessionFrom(r.Context()).User.ID {
			Error(w, r, s.Logger, backend.Errorf(backend.EInvalid, "You cannot disable your own account."))
			return
		}
		u, err := s.Store.SetUserDisabled(r.Context(), id, disable)
		if err != nil {
			Error(w, r, s.Logger, err)
			return
		}
		if disable && s.router != nil {
			if wid := s.workerID(r.Context(), id); wid != "" {
				if _, err := s.router.SetWorkerActivity(r.Context(), wid, backend.ActivityOffline); err != nil {
					Error(w, r, s.Logger, err)
					return
				}
			}
		}
		if disable {
			s.audit(r, "user.disable", "user", id, nil, "Disabled %s (%s)", u.Name, u.Email)
		} else {
			s.audit(r, "user.enable", "user", id, nil, "Enabled %s (%s)", u.Name, u.Email)
		}
		writeJSON(w, http.StatusOK, u)
	}
}

// ResetPasswordRequest is the body of POST /api/users/{id}/password.
type ResetPasswordRequest struct {
	Password string `json:"password"`
}

// handleResetPassword sets a user's password (an admin's reset): every
// session of the user ends.
func (s *Server) handleResetPassword(w http.ResponseWriter, r *http.Request) {
	var req ResetPasswordRequest
	if err := decodeJSON(w, r, s.MaxBody, &req); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	if err := s.Store.ResetPassword(r.Context(), r.PathValue("id"), req.Password); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	s.audit(r, "user.password_reset", "user", r.PathValue("id"), nil, "Reset the password of user %s", r.PathValue("id"))
	w.WriteHeader(http.StatusNoContent)
}

// SignOutResponse says how many sessions ended.
type SignOutResponse struct {
	Sessions int `json:"sessions"`
}

// handleSignOutEverywhere ends every session of a user.
func (s *Server) handleSignOutEverywhere(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := s.Store.FindUserByID(r.Context(), id); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	n, err := s.Store.RevokeUserSessions(r.Context(), id, "", "signed out everywhere")
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	s.audit(r, "user.signout", "user", id, map[string]any{"sessions": n}, "Signed user %s out everywhere (%d sessions)", id, n)
	writeJSON(w, http.StatusOK, SignOutResponse{Sessions: n})
}
