package api

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"

	"switchboard/backend"
)

// Voice is what the API needs from the call engine (backend/voice).
type Voice interface {
	// HandleFrame carries out a voice.* frame an agent sent on the
	// WebSocket; it answers on the same user's connections.
	HandleFrame(ctx context.Context, u backend.User, frame []byte)
	// PutTrunk validates and stores a trunk. Returns EInvalid.
	PutTrunk(ctx context.Context, t *backend.Trunk) error
	// Trunks lists trunks with passwords redacted.
	Trunks(ctx context.Context) ([]*backend.Trunk, error)
	// DeleteTrunk removes a trunk. Returns ENotFound.
	DeleteTrunk(ctx context.Context, name string) error
	// RecordingPath returns the file of a recording or voicemail by name.
	RecordingPath(name string) string
	// Monitor puts a supervisor on a live call to listen, whisper or
	// barge (backend.Monitor*), or changes how they are on it; their
	// softphone gets the call's audio offer on their socket. Returns
	// EInvalid, EForbidden, ENotFound and EConflict.
	Monitor(ctx context.Context, u backend.User, callID, mode string) error
	// Leave takes a supervisor off a call they joined. Returns ENotFound.
	Leave(ctx context.Context, u backend.User, callID string) error
	// Ringing returns the voice.incoming frames of the calls now ringing
	// the user, for a connection of theirs that opened after the ring went
	// out (a softphone that connects or reconnects while it is rung).
	Ringing(userID string) [][]byte
}

// SetVoice enables calls: voice frames on the WebSocket, the admin's trunk
// endpoints, calls' recordings and supervisors joining calls. Access:
// trunks are admin only; a call and its recordings follow CallRule;
// joining and leaving a call is for supervisors and admins, and its
// frames (voice.offer, voice.monitor, voice.state) go only to the
// supervisor who joined.
func (s *Server) SetVoice(v Voice) {
	s.voice = v
	s.frames = func(u backend.User, frame []byte) {
		var head struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(frame, &head) == nil && len(head.Type) > 6 && head.Type[:6] == "voice." {
			v.HandleFrame(context.Background(), u, frame)
		}
	}
	s.greet = func(u backend.User) [][]byte { return v.Ringing(u.ID) }
	s.route("GET /api/voice/trunks", Admin, s.handleTrunks)
	s.route("PUT /api/voice/trunks/{name}", Admin, s.handlePutTrunk)
	s.route("DELETE /api/voice/trunks/{name}", Admin, s.handleDeleteTrunk)
	s.route("GET /api/calls/{id}", CallRule("id"), s.handleCall)
	s.route("GET /api/calls/{id}/recording", CallRule("id"), s.handleCallAudio(false))
	s.route("GET /api/calls/{id}/voicemail", CallRule("id"), s.handleCallAudio(true))
	s.route("POST /api/calls/{id}/monitor", Supervisor, s.handleMonitor)
	s.route("DELETE /api/calls/{id}/monitor", Supervisor, s.handleLeave)
}

// MonitorRequest is the body of POST /api/calls/{id}/monitor: listen,
// whisper or barge.
type MonitorRequest struct {
	Mode string `json:"mode"`
}

// MonitorResponse says how the supervisor is on the call now; the call's
// audio reaches their softphone over their socket.
type MonitorResponse struct {
	CallID string `json:"callId"`
	Mode   string `json:"mode"`
}

func (s *Server) handleMonitor(w http.ResponseWriter, r *http.Request) {
	var req MonitorRequest
	if err := decodeJSON(w, r, s.MaxBody, &req); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	id := r.PathValue("id")
	if err := s.voice.Monitor(r.Context(), SessionFrom(r.Context()).User, id, req.Mode); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	s.audit(r, "call.monitor", "call", id, req, "Joined call %s to %s", id, req.Mode)
	writeJSON(w, http.StatusOK, MonitorResponse{CallID: id, Mode: req.Mode})
}

func (s *Server) handleLeave(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.voice.Leave(r.Context(), SessionFrom(r.Context()).User, id); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	s.audit(r, "call.leave", "call", id, nil, "Left call %s", id)
	w.WriteHeader(http.StatusNoContent)
}

// SendToUser pushes a frame to every WebSocket connection of one user.
func (s *Server) SendToUser(userID string, frame []byte) { s.hub.SendTo(userID, frame) }

// PutTrunkRequest is the body of PUT /api/voice/trunks/{name}.
type PutTrunkRequest struct {
	Config  json.RawMessage `json:"config"`
	Enabled *bool           `json:"enabled,omitempty"`
}

func (s *Server) handleTrunks(w http.ResponseWriter, r *http.Request) {
	list, err := s.voice.Trunks(r.Context())
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) handlePutTrunk(w http.ResponseWriter, r *http.Request) {
	var req PutTrunkRequest
	if err := decodeJSON(w, r, s.MaxBody, &req); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	if len(req.Config) == 0 {
		Error(w, r, s.Logger, backend.Errorf(backend.EInvalid, "The body needs a config object."))
		return
	}
	t := &backend.Trunk{Name: r.PathValue("name"), Config: req.Config, Enabled: req.Enabled == nil || *req.Enabled}
	if err := s.voice.PutTrunk(r.Context(), t); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	list, err := s.voice.Trunks(r.Context())
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	for _, x := range list {
		if x.Name == t.Name {
			writeJSON(w, http.StatusOK, x)
			return
		}
	}
	Error(w, r, s.Logger, backend.Errorf(backend.ENotFound, "Trunk %s was removed meanwhile.", t.Name))
}

func (s *Server) handleDeleteTrunk(w http.ResponseWriter, r *http.Request) {
	if err := s.voice.DeleteTrunk(r.Context(), r.PathValue("name")); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// visibleCall returns the call the request names; CallRule has checked
// that the user may see it.
func (s *Server) visibleCall(r *http.Request) (*backend.Call, error) {
	return s.Store.FindCall(r.Context(), r.PathValue("id"))
}

func (s *Server) handleCall(w http.ResponseWriter, r *http.Request) {
	c, err := s.visibleCall(r)
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) handleCallAudio(voicemail bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := s.visibleCall(r)
		if err != nil {
			Error(w, r, s.Logger, err)
			return
		}
		name := c.Recording
		if voicemail {
			name = c.Voicemail
		}
		if name == "" || c.State != backend.CallEnded && !voicemail {
			Error(w, r, s.Logger, backend.Errorf(backend.ENotFound, "Call %s has no such recording yet.", c.ID))
			return
		}
		f, err := os.Open(s.voice.RecordingPath(name))
		if err != nil {
			Error(w, r, s.Logger, backend.Errorf(backend.ENotFound, "The recording of call %s is missing.", c.ID))
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			Error(w, r, s.Logger, err)
			return
		}
		w.Header().Set("Content-Type", "audio/wav")
		w.Header().Set("Cache-Control", "private, no-store")
		http.ServeContent(w, r, filepath.Base(name), st.ModTime(), f)
	}
}
