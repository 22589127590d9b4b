package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"

	"switchboard/backend"
)

// FlowAdmin reads, saves and dry-runs flows. The flow engine implements
// the first two; Simulate is the flow package's dry run.
type FlowAdmin interface {
	// Flow returns the flow of a channel instance (revision 0: the default).
	Flow(ctx context.Context, key string) (*backend.FlowRevision, error)
	// SetFlow validates and saves a new revision. Returns EInvalid.
	SetFlow(ctx context.Context, key string, f *backend.Flow) (*backend.FlowRevision, error)
}

// FlowSimulator dry-runs messages through a flow. Returns EInvalid.
type FlowSimulator func(ctx context.Context, f *backend.Flow, messages []string) (any, error)

// SetFlowAdmin enables the admin's flow endpoints.
func (s *Server) SetFlowAdmin(f FlowAdmin, parse func([]byte) (*backend.Flow, error), simulate FlowSimulator) {
	s.flows, s.parseFlow, s.simulate = f, parse, simulate
	s.route("GET /api/flows/{connector}/{instance}", Admin, s.handleGetFlow)
	s.route("PUT /api/flows/{connector}/{instance}", Admin, s.handlePutFlow)
	s.route("POST /api/flows/test", Admin, s.handleTestFlow)
}

func (s *Server) handleGetFlow(w http.ResponseWriter, r *http.Request) {
	rev, err := s.flows.Flow(r.Context(), backend.FlowKey(r.PathValue("connector"), r.PathValue("instance")))
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, rev)
}

// readFlow reads a size-limited flow definition from the body.
func (s *Server) readFlow(w http.ResponseWriter, r *http.Request, raw []byte) (*backend.Flow, error) {
	if raw == nil {
		var err error
		if raw, err = io.ReadAll(http.MaxBytesReader(w, r.Body, s.MaxBody)); err != nil {
			return nil, backend.Errorf(backend.ETooLarge, "The flow is larger than the limit of %d bytes.", s.MaxBody)
		}
	}
	return s.parseFlow(raw)
}

func (s *Server) handlePutFlow(w http.ResponseWriter, r *http.Request) {
	f, err := s.readFlow(w, r, nil)
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	rev, err := s.flows.SetFlow(r.Context(), backend.FlowKey(r.PathValue("connector"), r.PathValue("instance")), f)
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	s.audit(r, "flow.save", "flow", rev.Key, map[string]any{"revision": rev.Revision, "widgets": len(f.Widgets)},
		"Saved flow %s as revision %d", rev.Key, rev.Revision)
	writeJSON(w, http.StatusOK, rev)
}

// TestFlowRequest is the body of POST /api/flows/test.
type TestFlowRequest struct {
	Flow     json.RawMessage `json:"flow"`
	Messages []string        `json:"messages"`
}

func (s *Server) handleTestFlow(w http.ResponseWriter, r *http.Request) {
	var req TestFlowRequest
	if err := decodeJSON(w, r, s.MaxBody, &req); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	if len(req.Messages) > 50 {
		Error(w, r, s.Logger, backend.Errorf(backend.EInvalid, "Test at most 50 messages at a time."))
		return
	}
	f, err := s.readFlow(w, r, req.Flow)
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	runs, err := s.simulate(r.Context(), f, req.Messages)
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"runs": runs})
}
