package api

import (
	"context"
	"net/http"

	"switchboard/backend"
)

// TaskClaimer is what the take and assign routes need from the router.
type TaskClaimer interface {
	// TakeTask reserves and assigns a waiting task to a worker who serves
	// its queue and has room. See routing.Engine.TakeTask for the errors.
	TakeTask(ctx context.Context, taskID, workerID string) (*backend.Reservation, error)
	// AssignTask does the same for a worker a supervisor names.
	AssignTask(ctx context.Context, taskID, workerID string) (*backend.Reservation, error)
	// Serves reports whether a worker serves the queue a task waits in.
	Serves(ctx context.Context, taskID, workerID string) (bool, error)
}

// claimRoutes mounts the routes that give waiting work to a person:
//
//	POST /api/tasks/{id}/take    an agent takes a task waiting in a queue they
//	                             serve, for their own worker (TakeRule)
//	POST /api/tasks/{id}/assign  {"workerId"}: a supervisor or admin gives a
//	                             task to a named agent (Supervisor)
//
// Both answer with the accepted reservation; 409 when the task is already
// someone's or the agent has no room (error.reason says which).
func (s *Server) claimRoutes(c TaskClaimer) {
	s.route("POST /api/tasks/{id}/take", TakeRule("id"), func(w http.ResponseWriter, r *http.Request) {
		if err := decodeOptionalEmpty(w, r, s.MaxBody); err != nil {
			Error(w, r, s.Logger, err)
			return
		}
		wk, err := s.myWorker(r)
		if err != nil {
			Error(w, r, s.Logger, err)
			return
		}
		s.writeClaim(w, r)(c.TakeTask(r.Context(), r.PathValue("id"), wk.ID))
	})
	s.route("POST /api/tasks/{id}/assign", Supervisor, func(w http.ResponseWriter, r *http.Request) {
		var req AssignRequest
		if err := decodeJSON(w, r, s.MaxBody, &req); err != nil {
			Error(w, r, s.Logger, err)
			return
		}
		if req.WorkerID == "" {
			Error(w, r, s.Logger, backend.Errorf(backend.EInvalid, "Name the agent to assign the task to in workerId."))
			return
		}
		s.writeClaim(w, r)(c.AssignTask(r.Context(), r.PathValue("id"), req.WorkerID))
	})
}

// AssignRequest is the body of POST /api/tasks/{id}/assign.
type AssignRequest struct {
	WorkerID string `json:"workerId"`
}

// writeClaim answers with the reservation or the error.
func (s *Server) writeClaim(w http.ResponseWriter, r *http.Request) func(*backend.Reservation, error) {
	return func(res *backend.Reservation, err error) {
		if err != nil {
			Error(w, r, s.Logger, err)
			return
		}
		writeJSON(w, http.StatusOK, res)
	}
}

// decodeOptionalEmpty accepts a request with no body, or an empty JSON
// object, for routes that take no parameters.
func decodeOptionalEmpty(w http.ResponseWriter, r *http.Request, limit int64) error {
	if r.ContentLength == 0 {
		return nil
	}
	var empty struct{}
	return decodeJSON(w, r, limit, &empty)
}
