package api

import (
	"context"
	"net/http"
	"sort"

	"switchboard/backend"
)

// Access is who may call a route. Every route is registered with one
// through Server.route, which signs the caller in, checks the role and
// asks the Policy about the entity the request names, before the handler
// runs.
type Access struct {
	// Name is how the route table (and the authorization test) calls it.
	Name string
	// Role is the least role needed; empty for routes open to anyone.
	Role backend.Role
	// Check, when set, asks the policy about the entity the request names.
	Check func(s *Server, r *http.Request, u *backend.User) error
	// QueryToken accepts the token as ?access_token= (the WebSocket
	// upgrade only: browsers cannot set its headers).
	QueryToken bool
	// Local also lets in, without a token, a caller on the engine's own
	// machine that no proxy forwarded (see MetricsAccess).
	Local bool
}

// The rules that need no entity.
var (
	Public     = Access{Name: "public"}
	SignedIn   = Access{Name: "signed in", Role: backend.RoleAgent}
	Supervisor = Access{Name: "supervisor", Role: backend.RoleSupervisor}
	Admin      = Access{Name: "admin", Role: backend.RoleAdmin}
	// Mounted marks a handler mounted under a prefix (webhooks, the web
	// chat widget) that authenticates its own callers (platform
	// signatures, visitor tokens).
	Mounted = Access{Name: "mounted: authenticates its own callers"}
)

// ConversationRule allows users who may read (or act on) the conversation
// named by the path parameter.
func ConversationRule(act Action, param string) Access {
	return Access{Name: "conversation " + string(act), Role: backend.RoleAgent, Check: func(s *Server, r *http.Request, u *backend.User) error {
		return s.policy.Conversation(r.Context(), u, act, r.PathValue(param))
	}}
}

// ContactRule allows users who may read the contact named by the path
// parameter.
func ContactRule(param string) Access {
	return Access{Name: "contact read", Role: backend.RoleAgent, Check: func(s *Server, r *http.Request, u *backend.User) error {
		return s.policy.Contact(r.Context(), u, r.PathValue(param))
	}}
}

// TaskRule allows the task's holder, supervisors and admins.
func TaskRule(param string) Access {
	return Access{Name: "task holder", Role: backend.RoleAgent, Check: func(s *Server, r *http.Request, u *backend.User) error {
		t, err := s.router.Task(r.Context(), r.PathValue(param))
		if err != nil {
			return err
		}
		return s.policy.Task(r.Context(), u, t)
	}}
}

// TakeRule allows an agent to take the task named by the path parameter
// when they serve the queue it waits in (or it is offered to them), and
// supervisors and admins.
func TakeRule(param string) Access {
	return Access{Name: "agent serving the task's queue", Role: backend.RoleAgent, Check: func(s *Server, r *http.Request, u *backend.User) error {
		id := r.PathValue(param)
		t, err := s.router.Task(r.Context(), id)
		if backend.ErrorCode(err) == backend.ENotFound {
			return backend.ReasonErrorf(backend.ENotFound, backend.ReasonTaskEnded, "Task %s does not exist or has ended.", id)
		} else if err != nil {
			return err
		}
		return s.policy.Take(r.Context(), u, t)
	}}
}

// ReservationRule allows the agent the offer is made to, supervisors and
// admins.
func ReservationRule(param string) Access {
	return Access{Name: "offered agent", Role: backend.RoleAgent, Check: func(s *Server, r *http.Request, u *backend.User) error {
		res, err := s.findReservation(r.Context(), r.PathValue(param))
		if err != nil {
			return err
		}
		return s.policy.Reservation(r.Context(), u, res)
	}}
}

// CallRule allows the agent who had the call, whoever may read its
// conversation, supervisors and admins.
func CallRule(param string) Access {
	return Access{Name: "call read", Role: backend.RoleAgent, Check: func(s *Server, r *http.Request, u *backend.User) error {
		c, err := s.Store.FindCall(r.Context(), r.PathValue(param))
		if err != nil {
			return err
		}
		return s.policy.Call(r.Context(), u, c)
	}}
}

// Route is one registered route and who may call it.
type Route struct {
	Pattern string `json:"pattern"`
	Access  string `json:"access"`
}

// Routes lists every registered route, by pattern.
func (s *Server) Routes() []Route {
	out := make([]Route, 0, len(s.table))
	for p, a := range s.table {
		out = append(out, Route{Pattern: p, Access: a})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pattern < out[j].Pattern })
	return out
}

// route registers h under pattern, behind access.
func (s *Server) route(pattern string, access Access, h http.HandlerFunc) {
	s.table[pattern] = access.Name
	if access.Role == "" {
		s.mux.Handle(pattern, h)
		return
	}
	s.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if access.Local && localUnsigned(r) {
			h(w, r)
			return
		}
		sess, err := s.authenticate(r, access.QueryToken)
		if err == nil && !sess.User.Role.AtLeast(access.Role) {
			err = backend.Errorf(backend.EForbidden, "This needs the %s role; you are signed in as %s.", access.Role, sess.User.Role)
		}
		if err == nil && access.Check != nil {
			err = access.Check(s, r, &sess.User)
		}
		if err != nil {
			Error(w, r, s.Logger, err)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), sessionKey, sess)))
	}))
}

// routes registers the API's own routes; SetRouter, SetChannelAdmin and
// SetFlowAdmin add theirs.
func (s *Server) routes() {
	s.route("POST /api/auth/signin", Public, s.handleSignIn)
	s.route("POST /api/auth/signout", SignedIn, s.handleSignOut)
	s.route("GET /api/me", SignedIn, s.handleMe)
	s.route("POST /api/me/password", SignedIn, s.handleChangePassword)
	s.route("GET /api/sync", SignedIn, s.handleSync)
	s.route("GET /api/sync/snapshot", SignedIn, s.handleSnapshot)
	s.route("GET /api/ws", Access{Name: "signed in (token may be in the query)", Role: backend.RoleAgent, QueryToken: true}, s.handleWebSocket)
	s.route("GET /api/conversations", SignedIn, s.handleConversations)
	s.route("GET /api/conversations/{id}", ConversationRule(Read, "id"), s.handleConversation)
	s.route("GET /api/conversations/{id}/messages", ConversationRule(Read, "id"), s.handleMessages)
	s.route("POST /api/conversations/{id}/messages", ConversationRule(Act, "id"), s.handleSendMessage)
	s.route("POST /api/conversations/{id}/status", ConversationRule(Act, "id"), s.handleSetStatus)
	s.route("GET /api/contacts/{id}", ContactRule("id"), s.handleContact)
	s.route("POST /api/contacts/merge", Admin, s.handleMergeContacts)
	s.route("GET /api/canned", SignedIn, s.handleCanned)
	s.route("PUT /api/canned/{id}", Admin, s.handlePutCanned)
	s.route("GET /api/users", Supervisor, s.handleUsers)
	s.route("POST /api/users", Admin, s.handleCreateUser)
	s.route("POST /api/users/{id}/disable", Admin, s.handleDisableUser(true))
	s.route("POST /api/users/{id}/enable", Admin, s.handleDisableUser(false))
	s.route("POST /api/users/{id}/password", Admin, s.handleResetPassword)
	s.route("POST /api/users/{id}/signout", Admin, s.handleSignOutEverywhere)
	s.mediaRoutes()
	s.adminRoutes()
	s.route("GET /metrics", MetricsAccess, s.handleMetrics)
	s.route("GET /healthz", Public, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.route("/", Public, func(w http.ResponseWriter, r *http.Request) {
		Error(w, r, s.Logger, backend.Errorf(backend.ENotFound, "There is no %s %s.", r.Method, r.URL.Path))
	})
}
