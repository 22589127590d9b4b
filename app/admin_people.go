package app

import (
	"context"
	"net/url"
	"strings"
	"time"

	"switchboard/app/client"
	"switchboard/backend"
)

// Users lists everyone who signs in (supervisors and admins).
func (a *App) Users() ([]backend.User, error) {
	out := []backend.User{}
	return out, a.api("GET", "/api/users", nil, &out)
}

// NewUser is an account an admin creates with a first password.
type NewUser struct {
	Name     string       `json:"name"`
	Email    string       `json:"email"`
	Role     backend.Role `json:"role"`
	Password string       `json:"password"`
}

// CreateUser creates an account (admins).
func (a *App) CreateUser(u NewUser) (backend.User, error) {
	var out backend.User
	return out, a.api("POST", "/api/users", u, &out)
}

// userAction posts to /api/users/{id}/{verb} (disable, enable, password,
// signout: the account rules' routes).
func (a *App) userAction(id, verb string, body any) error {
	return a.api("POST", "/api/users/"+url.PathEscape(id)+"/"+verb, body, nil)
}

// DisableUser stops an account from signing in and ends its sessions.
func (a *App) DisableUser(id string) error { return a.userAction(id, "disable", nil) }

// EnableUser lets a disabled account sign in again.
func (a *App) EnableUser(id string) error { return a.userAction(id, "enable", nil) }

// ResetPassword sets a new password for an account.
func (a *App) ResetPassword(id, password string) error {
	return a.userAction(id, "password", map[string]string{"password": password})
}

// SignOutUser ends every session of an account.
func (a *App) SignOutUser(id string) error { return a.userAction(id, "signout", nil) }

// Invites lists the invitations not yet accepted (admins).
func (a *App) Invites() ([]backend.Invite, error) {
	out := []backend.Invite{}
	return out, a.api("GET", "/api/invites", nil, &out)
}

// CreatedInvite is a new invitation and its one-time link (shown once).
type CreatedInvite struct {
	Invite backend.Invite `json:"invite"`
	Link   string         `json:"link"`
}

// CreateInvite invites someone by email with a role.
func (a *App) CreateInvite(email, name string, role backend.Role) (CreatedInvite, error) {
	var out CreatedInvite
	return out, a.api("POST", "/api/invites", map[string]any{"email": email, "name": name, "role": role}, &out)
}

// DeleteInvite withdraws an invitation.
func (a *App) DeleteInvite(id string) error {
	return a.api("DELETE", "/api/invites/"+url.PathEscape(id), nil, nil)
}

// Labels lists the labels (from the local cache, so the inbox filter works
// offline).
func (a *App) Labels() ([]backend.Label, error) {
	s, err := a.current()
	if err != nil {
		return nil, a.toUI(err)
	}
	list, err := s.cache.Labels(context.Background())
	return list, a.toUI(err)
}

// LabelInput is a label as the screen edits it.
type LabelInput struct {
	Name        string `json:"name"`
	Color       string `json:"color,omitempty"`
	Description string `json:"description,omitempty"`
}

// SaveLabel creates (empty id) or changes a label (admins).
func (a *App) SaveLabel(id string, l LabelInput) (backend.Label, error) {
	var out backend.Label
	return out, a.save("/api/labels", id, l, &out)
}

// DeleteLabel removes a label from the workspace and every conversation.
func (a *App) DeleteLabel(id string) error {
	return a.api("DELETE", "/api/labels/"+url.PathEscape(id), nil, nil)
}

// SetConversationLabels replaces a conversation's labels.
func (a *App) SetConversationLabels(conversationID string, labels []string) error {
	if labels == nil {
		labels = []string{}
	}
	return a.api("PUT", "/api/conversations/"+url.PathEscape(conversationID)+"/labels", map[string]any{"labels": labels}, nil)
}

// CannedInput is a canned response as the screen edits it.
type CannedInput struct {
	Shortcut string `json:"shortcut"`
	Title    string `json:"title"`
	Text     string `json:"text"`
}

// SaveCanned creates (empty id) or changes a canned response (admins).
func (a *App) SaveCanned(id string, c CannedInput) error {
	if id == "" {
		id = backend.NewID("cr")
	}
	return a.api("PUT", "/api/canned/"+url.PathEscape(id), c, nil)
}

// DeleteCanned removes a canned response.
func (a *App) DeleteCanned(id string) error {
	return a.api("DELETE", "/api/canned/"+url.PathEscape(id), nil, nil)
}

// SetupStatus says whether a workspace has no user yet; server "" is the
// engine embedded in this app (started here).
func (a *App) SetupStatus(server string) (SetupStatusInfo, error) {
	var out SetupStatusInfo
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	base, err := a.baseFor(ctx, server)
	if err != nil {
		return out, a.toUI(err)
	}
	return out, a.toUI(client.New(base, "").Do(ctx, "GET", "/api/setup", nil, &out))
}

// SetupStatusInfo is the answer of SetupStatus.
type SetupStatusInfo struct {
	NeedsAdmin bool `json:"needsAdmin"`
}

// FirstAdmin is the first-run form: who will run the workspace.
type FirstAdmin struct {
	Server   string `json:"server"`
	Name     string `json:"name"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

// CreateFirstAdmin creates the first admin of an empty workspace and signs
// them in.
func (a *App) CreateFirstAdmin(req FirstAdmin) (Session, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	base, err := a.baseFor(ctx, req.Server)
	if err != nil {
		return Session{}, a.toUI(err)
	}
	if err := client.New(base, "").Do(ctx, "POST", "/api/setup", map[string]string{"name": req.Name, "email": req.Email, "password": req.Password}, nil); err != nil {
		return Session{}, a.toUI(err)
	}
	return a.SignIn(SignInRequest{Server: req.Server, Email: req.Email, Password: req.Password})
}

// AcceptInvite accepts an invitation link (https://server/invite/TOKEN):
// it creates the account with the password and signs in to that server.
func (a *App) AcceptInvite(link, name, password string) (Session, error) {
	base, token, ok := strings.Cut(strings.TrimSpace(link), "/invite/")
	if !ok || token == "" || strings.Contains(token, "/") {
		return Session{}, a.toUI(backend.Errorf(backend.EInvalid, "This is not an invitation link; it looks like https://server/invite/…"))
	}
	server, err := normalizeServer(base)
	if err != nil {
		return Session{}, a.toUI(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var u backend.User
	if err := client.New(server, "").Do(ctx, "POST", "/api/invitations/"+url.PathEscape(token), map[string]string{"name": name, "password": password}, &u); err != nil {
		return Session{}, a.toUI(err)
	}
	return a.SignIn(SignInRequest{Server: server, Email: u.Email, Password: password})
}

// baseFor is the engine URL for a sign-in form's server field.
func (a *App) baseFor(ctx context.Context, server string) (string, error) {
	if server == "" {
		return a.engineURL(ctx, embeddedServer)
	}
	s, err := normalizeServer(server)
	if err != nil {
		return "", err
	}
	return a.engineURL(ctx, s)
}
