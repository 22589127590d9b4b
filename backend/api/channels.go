package api

import (
	"context"
	"encoding/json"
	"net/http"

	"switchboard/backend"
)

// ChannelAdmin manages configured channel instances. The channel hub
// implements it; secrets come back redacted.
type ChannelAdmin interface {
	// PutInstance validates and stores an instance. Returns EInvalid.
	PutInstance(ctx context.Context, ci *backend.ChannelInstance) error
	// Instances lists instances with secrets redacted.
	Instances(ctx context.Context) ([]*backend.ChannelInstance, error)
}

// SetChannelAdmin enables the admin endpoints for channel instances.
func (s *Server) SetChannelAdmin(c ChannelAdmin) {
	s.channels = c
	s.route("GET /api/channels", Admin, s.handleChannels)
	s.route("PUT /api/channels/{connector}/{instance}", Admin, s.handlePutChannel)
}

// PutChannelRequest is the body of PUT /api/channels/{connector}/{instance}.
type PutChannelRequest struct {
	Config  json.RawMessage `json:"config"`
	Enabled *bool           `json:"enabled,omitempty"`
}

// handleChannels lists the instances; with the admin console, each with
// its state and health (last error, last connection, next reconnect).
func (s *Server) handleChannels(w http.ResponseWriter, r *http.Request) {
	if s.console != nil {
		s.handleChannelStatus(w, r)
		return
	}
	list, err := s.channels.Instances(r.Context())
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	if list == nil {
		list = []*backend.ChannelInstance{}
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) handlePutChannel(w http.ResponseWriter, r *http.Request) {
	var req PutChannelRequest
	if err := decodeJSON(w, r, s.MaxBody, &req); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	if len(req.Config) == 0 {
		Error(w, r, s.Logger, backend.Errorf(backend.EInvalid, "The body needs a config object."))
		return
	}
	ci := &backend.ChannelInstance{Connector: r.PathValue("connector"), Instance: r.PathValue("instance"), Config: req.Config, Enabled: req.Enabled == nil || *req.Enabled}
	if err := s.channels.PutInstance(r.Context(), ci); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	s.audit(r, "channel.save", "channel", ci.Connector+"/"+ci.Instance, map[string]any{"settings": configKeys(req.Config), "enabled": ci.Enabled},
		"Saved channel %s/%s", ci.Connector, ci.Instance)
	writeJSON(w, http.StatusOK, ci)
}
