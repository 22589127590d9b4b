package api

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strings"

	"switchboard/backend"
)

// ChannelConsole is what the admin console needs from the channel hub
// besides ChannelAdmin: connector descriptions, health, tests, enabling
// and removal. Secrets come back redacted or as "set".
type ChannelConsole interface {
	// Connectors describes every connector's settings.
	Connectors() []backend.ConnectorInfo
	// Statuses lists instances with state and health; base is the
	// engine's address as the admin reached it, for webhook URLs.
	Statuses(ctx context.Context, base string) ([]*backend.ChannelStatus, error)
	// SetEnabled turns an instance on or off. Returns ENotFound.
	SetEnabled(ctx context.Context, connector, instance string, enabled bool) (*backend.ChannelInstance, error)
	// RemoveInstance deletes an instance. Returns ENotFound.
	RemoveInstance(ctx context.Context, connector, instance string) error
	// TestInstance checks credentials (config: unsaved ones). Returns
	// EInvalid for a config the connector rejects or no test.
	TestInstance(ctx context.Context, connector, instance string, config json.RawMessage) (*backend.ChannelTest, error)
}

// SetChannelConsole enables the admin console's channel routes (admins only).
func (s *Server) SetChannelConsole(c ChannelConsole) {
	s.console = c
	s.route("GET /api/connectors", Admin, s.handleConnectors)
	s.route("GET /api/channels/status", Admin, s.handleChannelStatus)
	s.route("POST /api/channels/{connector}/{instance}/test", Admin, s.handleTestChannel)
	s.route("POST /api/channels/{connector}/{instance}/enable", Admin, s.handleEnableChannel(true))
	s.route("POST /api/channels/{connector}/{instance}/disable", Admin, s.handleEnableChannel(false))
	s.route("DELETE /api/channels/{connector}/{instance}", Admin, s.handleRemoveChannel)
}

func (s *Server) handleConnectors(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.console.Connectors())
}

// requestBase is the engine's address as the caller reached it.
func requestBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p != "" {
		scheme, _, _ = strings.Cut(p, ",")
	}
	host := r.Host
	if fh := r.Header.Get("X-Forwarded-Host"); fh != "" {
		host, _, _ = strings.Cut(fh, ",")
	}
	return strings.TrimSpace(scheme) + "://" + strings.TrimSpace(host)
}

func (s *Server) handleChannelStatus(w http.ResponseWriter, r *http.Request) {
	list, err := s.console.Statuses(r.Context(), requestBase(r))
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

// TestChannelRequest is the optional body of POST
// /api/channels/{connector}/{instance}/test: an unsaved configuration.
type TestChannelRequest struct {
	Config json.RawMessage `json:"config,omitempty"`
}

func (s *Server) handleTestChannel(w http.ResponseWriter, r *http.Request) {
	var req TestChannelRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, s.MaxBody, &req); err != nil {
			Error(w, r, s.Logger, err)
			return
		}
	}
	res, err := s.console.TestInstance(r.Context(), r.PathValue("connector"), r.PathValue("instance"), req.Config)
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) handleEnableChannel(enabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, i := r.PathValue("connector"), r.PathValue("instance")
		ci, err := s.console.SetEnabled(r.Context(), c, i, enabled)
		if err != nil {
			Error(w, r, s.Logger, err)
			return
		}
		verb := map[bool]string{true: "enable", false: "disable"}[enabled]
		s.audit(r, "channel."+verb, "channel", c+"/"+i, map[string]bool{"enabled": enabled}, "%sd channel %s/%s", strings.ToUpper(verb[:1])+verb[1:], c, i)
		writeJSON(w, http.StatusOK, ci)
	}
}

func (s *Server) handleRemoveChannel(w http.ResponseWriter, r *http.Request) {
	c, i := r.PathValue("connector"), r.PathValue("instance")
	if err := s.console.RemoveInstance(r.Context(), c, i); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	s.audit(r, "channel.remove", "channel", c+"/"+i, nil, "Removed channel %s/%s", c, i)
	w.WriteHeader(http.StatusNoContent)
}

// configKeys lists the top-level keys of a configuration, for the audit
// log: which settings were given, never their values.
func configKeys(raw json.RawMessage) []string {
	var m map[string]json.RawMessage
	json.Unmarshal(raw, &m)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
