package api

import (
	"context"
	"net/http"

	"switchboard/backend"
)

// Router is what the API needs from the routing engine.
type Router interface {
	WorkerByUserID(ctx context.Context, userID string) (*backend.Worker, error)
	Workers(ctx context.Context) ([]*backend.Worker, error)
	Queues(ctx context.Context) ([]*backend.Queue, error)
	Activities(ctx context.Context) ([]*backend.Activity, error)
	SetWorkerActivity(ctx context.Context, workerID, activity string) (*backend.Worker, error)
	Reservations(ctx context.Context, workerID string) ([]*backend.Reservation, error)
	AcceptReservation(ctx context.Context, id string) (*backend.Reservation, error)
	RejectReservation(ctx context.Context, id string) (*backend.Reservation, error)
	Task(ctx context.Context, id string) (*backend.Task, error)
	WrapUp(ctx context.Context, taskID, disposition string) (*backend.Task, error)
	CompleteTask(ctx context.Context, taskID, disposition string) (*backend.Task, error)
	TransferTask(ctx context.Context, taskID string, to backend.TransferTarget) (*backend.Task, error)
	QueueStats(ctx context.Context, queueID string) (*backend.QueueStats, error)
}

// SetRouter enables the agent endpoints: the signed-in user's worker,
// activity, offers and tasks, and the supervisor's queue statistics.
func (s *Server) SetRouter(r Router) {
	s.router = r
	s.mux.Handle("GET /api/me/worker", s.auth(backend.RoleAgent, s.handleMyWorker))
	s.mux.Handle("POST /api/me/activity", s.auth(backend.RoleAgent, s.handleSetActivity))
	s.mux.Handle("GET /api/me/reservations", s.auth(backend.RoleAgent, s.handleMyReservations))
	s.mux.Handle("POST /api/reservations/{id}/accept", s.auth(backend.RoleAgent, s.handleReservation(true)))
	s.mux.Handle("POST /api/reservations/{id}/reject", s.auth(backend.RoleAgent, s.handleReservation(false)))
	s.mux.Handle("POST /api/tasks/{id}/wrapup", s.auth(backend.RoleAgent, s.handleTaskEnd(false)))
	s.mux.Handle("POST /api/tasks/{id}/complete", s.auth(backend.RoleAgent, s.handleTaskEnd(true)))
	s.mux.Handle("POST /api/tasks/{id}/transfer", s.auth(backend.RoleAgent, s.handleTransfer))
	s.mux.Handle("GET /api/workers", s.auth(backend.RoleAgent, s.handleWorkers))
	s.mux.Handle("GET /api/queues", s.auth(backend.RoleAgent, s.handleQueues))
	s.mux.Handle("GET /api/activities", s.auth(backend.RoleAgent, s.handleActivities))
	s.mux.Handle("GET /api/queues/{id}/stats", s.auth(backend.RoleSupervisor, s.handleQueueStats))
	if c, ok := r.(TaskClaimer); ok {
		s.claimRoutes(c)
	}
}

// myWorker returns the signed-in user's worker. Returns EForbidden when the
// user does not take tasks.
func (s *Server) myWorker(r *http.Request) (*backend.Worker, error) {
	u := SessionFrom(r.Context()).User
	w, err := s.router.WorkerByUserID(r.Context(), u.ID)
	if backend.ErrorCode(err) == backend.ENotFound {
		return nil, backend.Errorf(backend.EForbidden, "%s is not set up to take tasks; an admin can add them as a worker.", u.Name)
	}
	return w, err
}

func (s *Server) handleMyWorker(w http.ResponseWriter, r *http.Request) {
	wk, err := s.myWorker(r)
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, wk)
}

// ActivityRequest is the body of POST /api/me/activity.
type ActivityRequest struct {
	Activity string `json:"activity"`
}

func (s *Server) handleSetActivity(w http.ResponseWriter, r *http.Request) {
	var req ActivityRequest
	if err := decodeJSON(w, r, s.MaxBody, &req); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	wk, err := s.myWorker(r)
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	if wk, err = s.router.SetWorkerActivity(r.Context(), wk.ID, req.Activity); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, wk)
}

func (s *Server) handleMyReservations(w http.ResponseWriter, r *http.Request) {
	wk, err := s.myWorker(r)
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	list, err := s.router.Reservations(r.Context(), wk.ID)
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

// ownReservation checks that reservation id belongs to the signed-in user.
func (s *Server) ownReservation(r *http.Request, id string) error {
	wk, err := s.myWorker(r)
	if err != nil {
		return err
	}
	list, err := s.router.Reservations(r.Context(), wk.ID)
	if err != nil {
		return err
	}
	for _, res := range list {
		if res.ID == id {
			return nil
		}
	}
	return backend.Errorf(backend.ENotFound, "Offer %s is not yours or is no longer open.", id)
}

func (s *Server) handleReservation(accept bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if err := s.ownReservation(r, id); err != nil {
			Error(w, r, s.Logger, err)
			return
		}
		var res *backend.Reservation
		var err error
		if accept {
			res, err = s.router.AcceptReservation(r.Context(), id)
		} else {
			res, err = s.router.RejectReservation(r.Context(), id)
		}
		if err != nil {
			Error(w, r, s.Logger, err)
			return
		}
		writeJSON(w, http.StatusOK, res)
	}
}

// ownTask checks that the signed-in user holds the task, or supervises.
func (s *Server) ownTask(r *http.Request, id string) error {
	t, err := s.router.Task(r.Context(), id)
	if err != nil {
		return err
	}
	if SessionFrom(r.Context()).User.Role.AtLeast(backend.RoleSupervisor) {
		return nil
	}
	wk, err := s.myWorker(r)
	if err != nil {
		return err
	}
	if t.WorkerID != wk.ID {
		return backend.Errorf(backend.EForbidden, "Task %s is held by another agent.", id)
	}
	return nil
}

// TaskEndRequest is the body of the wrap-up and complete endpoints.
type TaskEndRequest struct {
	Disposition string `json:"disposition"`
}

func (s *Server) handleTaskEnd(complete bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req TaskEndRequest
		if err := decodeJSON(w, r, s.MaxBody, &req); err != nil {
			Error(w, r, s.Logger, err)
			return
		}
		id := r.PathValue("id")
		if err := s.ownTask(r, id); err != nil {
			Error(w, r, s.Logger, err)
			return
		}
		var t *backend.Task
		var err error
		if complete {
			t, err = s.router.CompleteTask(r.Context(), id, req.Disposition)
		} else {
			t, err = s.router.WrapUp(r.Context(), id, req.Disposition)
		}
		if err != nil {
			Error(w, r, s.Logger, err)
			return
		}
		writeJSON(w, http.StatusOK, t)
	}
}

// TransferRequest is the body of POST /api/tasks/{id}/transfer: one of
// workerId or queueId.
type TransferRequest struct {
	WorkerID string `json:"workerId,omitempty"`
	QueueID  string `json:"queueId,omitempty"`
}

func (s *Server) handleTransfer(w http.ResponseWriter, r *http.Request) {
	var req TransferRequest
	if err := decodeJSON(w, r, s.MaxBody, &req); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	if (req.WorkerID == "") == (req.QueueID == "") {
		Error(w, r, s.Logger, backend.Errorf(backend.EInvalid, "Name exactly one of workerId or queueId to transfer to."))
		return
	}
	id := r.PathValue("id")
	if err := s.ownTask(r, id); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	t, err := s.router.TransferTask(r.Context(), id, backend.TransferTarget{WorkerID: req.WorkerID, QueueID: req.QueueID})
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (s *Server) handleWorkers(w http.ResponseWriter, r *http.Request) {
	list, err := s.router.Workers(r.Context())
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) handleQueues(w http.ResponseWriter, r *http.Request) {
	list, err := s.router.Queues(r.Context())
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) handleActivities(w http.ResponseWriter, r *http.Request) {
	list, err := s.router.Activities(r.Context())
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) handleQueueStats(w http.ResponseWriter, r *http.Request) {
	st, err := s.router.QueueStats(r.Context(), r.PathValue("id"))
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}
