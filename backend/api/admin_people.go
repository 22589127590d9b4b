package api

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"switchboard/backend"
)

// peopleRoutes mounts invitations and the first-run setup. The routes that
// accept an invitation or create the first admin are public: the
// invitation's one-time token, or the empty workspace, is what admits.
func (s *Server) peopleRoutes() {
	s.route("GET /api/invites", Admin, s.handleInvites)
	s.route("POST /api/invites", Admin, s.handleCreateInvite)
	s.route("DELETE /api/invites/{id}", Admin, s.handleDeleteInvite)
	s.route("GET /api/invitations/{token}", Public, s.handleInvitation)
	s.route("POST /api/invitations/{token}", Public, s.handleAcceptInvitation)
	s.route("GET /invite/{token}", Public, s.handleInvitePage)
	s.route("POST /invite/{token}", Public, s.handleInvitePage)
	s.route("GET /api/setup", Public, s.handleSetupStatus)
	s.route("POST /api/setup", Public, s.handleSetup)
}

func (s *Server) handleInvites(w http.ResponseWriter, r *http.Request) {
	list, err := s.Store.FindInvites(r.Context())
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

// InviteRequest is the body of POST /api/invites.
type InviteRequest struct {
	Email string       `json:"email"`
	Name  string       `json:"name"`
	Role  backend.Role `json:"role"`
}

// InviteResponse is a new invitation with its one-time link; the link is
// shown once and only a hash of its token is kept.
type InviteResponse struct {
	Invite backend.Invite `json:"invite"`
	Link   string         `json:"link"`
}

func (s *Server) handleCreateInvite(w http.ResponseWriter, r *http.Request) {
	var req InviteRequest
	if err := decodeJSON(w, r, s.MaxBody, &req); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	inv := &backend.Invite{Email: req.Email, Name: strings.TrimSpace(req.Name), Role: req.Role, InvitedBy: SessionFrom(r.Context()).User.ID}
	token, err := s.Store.CreateInvite(r.Context(), inv)
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	base := s.PublicURL
	if base == "" {
		base = requestBase(r)
	}
	s.audit(r, "invite.create", "invite", inv.ID, map[string]any{"email": inv.Email, "role": inv.Role}, "Invited %s as %s", inv.Email, inv.Role)
	writeJSON(w, http.StatusCreated, InviteResponse{Invite: *inv, Link: strings.TrimRight(base, "/") + "/invite/" + url.PathEscape(token)})
}

func (s *Server) handleDeleteInvite(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.Store.DeleteInvite(r.Context(), id); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	s.audit(r, "invite.delete", "invite", id, nil, "Withdrew invitation %s", id)
	w.WriteHeader(http.StatusNoContent)
}

// InvitationInfo is what an invitation link shows before it is accepted.
type InvitationInfo struct {
	Email     string       `json:"email"`
	Name      string       `json:"name"`
	Role      backend.Role `json:"role"`
	ExpiresAt time.Time    `json:"expiresAt"`
}

func (s *Server) handleInvitation(w http.ResponseWriter, r *http.Request) {
	inv, err := s.Store.InviteByToken(r.Context(), r.PathValue("token"))
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, InvitationInfo{Email: inv.Email, Name: inv.Name, Role: inv.Role, ExpiresAt: inv.ExpiresAt})
}

// AcceptInvitationRequest is the body of POST /api/invitations/{token}.
type AcceptInvitationRequest struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

func (s *Server) handleAcceptInvitation(w http.ResponseWriter, r *http.Request) {
	var req AcceptInvitationRequest
	if err := decodeJSON(w, r, s.MaxBody, &req); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	u, err := s.acceptInvitation(r, r.PathValue("token"), req.Name, req.Password)
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusCreated, u)
}

// acceptInvitation creates the invited account, makes an agent routable
// and records who joined.
func (s *Server) acceptInvitation(r *http.Request, token, name, password string) (*backend.User, error) {
	u, err := s.Store.AcceptInvite(r.Context(), token, name, password)
	if err != nil {
		return nil, err
	}
	if s.OnUserCreated != nil {
		if err := s.OnUserCreated(r.Context(), u); err != nil {
			return nil, err
		}
	}
	e := &backend.AuditEntry{UserID: u.ID, UserName: u.Name, Action: "invite.accept", EntityType: "user", EntityID: u.ID,
		Summary: u.Name + " (" + u.Email + ") accepted the invitation as " + string(u.Role)}
	if err := s.Store.AppendAudit(r.Context(), e); err != nil {
		s.Logger.Error("audit entry not recorded", "action", e.Action, "err", err)
	}
	return u, nil
}

// SetupStatus is the answer of GET /api/setup.
type SetupStatus struct {
	// NeedsAdmin is true while the workspace has no user at all.
	NeedsAdmin bool `json:"needsAdmin"`
}

func (s *Server) handleSetupStatus(w http.ResponseWriter, r *http.Request) {
	n, err := s.Store.CountUsers(r.Context())
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, SetupStatus{NeedsAdmin: n == 0})
}

// SetupRequest is the body of POST /api/setup: the first admin.
type SetupRequest struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

// fromThisMachine reports whether a request came straight from loopback,
// not through a proxy (which would forward someone else's request).
func fromThisMachine(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	ip := net.ParseIP(host)
	return err == nil && ip != nil && ip.IsLoopback() &&
		r.Header.Get("X-Forwarded-For") == "" && r.Header.Get("Forwarded") == "" && r.Header.Get("X-Real-Ip") == ""
}

// handleSetup creates the first admin of an empty workspace; they then sign
// in as usual. Only a request from this machine may: on a team server, create the
// first admin with `switchboard user add` (or from the server itself).
func (s *Server) handleSetup(w http.ResponseWriter, r *http.Request) {
	var req SetupRequest
	if err := decodeJSON(w, r, s.MaxBody, &req); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	if !fromThisMachine(r) {
		Error(w, r, s.Logger, backend.Errorf(backend.EForbidden, "The first admin can only be created on the server itself; use `switchboard user add` there."))
		return
	}
	if strings.TrimSpace(req.Name) == "" {
		Error(w, r, s.Logger, backend.Errorf(backend.EInvalid, "Enter your name."))
		return
	}
	u := &backend.User{Name: strings.TrimSpace(req.Name), Email: req.Email}
	if err := s.Store.CreateFirstAdmin(r.Context(), u, req.Password); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	e := &backend.AuditEntry{UserID: u.ID, UserName: u.Name, Action: "setup.admin", EntityType: "user", EntityID: u.ID,
		Summary: "Created the workspace's first admin, " + u.Name + " (" + u.Email + ")"}
	if err := s.Store.AppendAudit(r.Context(), e); err != nil {
		s.Logger.Error("audit entry not recorded", "action", e.Action, "err", err)
	}
	writeJSON(w, http.StatusCreated, u)
}
