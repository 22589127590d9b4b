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
	s.route("GET /api/me/worker", SignedIn, s.handleMyWorker)
	s.route("POST /api/me/activity", SignedIn, s.handleSetActivity)
	s.route("GET /api/me/reservations", SignedIn, s.handleMyReservations)
	s.route("POST /api/reservations/{id}/accept", ReservationRule("id"), s.handleReservation(true))
	s.route("POST /api/reservations/{id}/reject", ReservationRule("id"), s.handleReservation(false))
	s.route("POST /api/tasks/{id}/wrapup", TaskRule("id"), s.handleTaskEnd(false))
	s.route("POST /api/tasks/{id}/complete", TaskRule("id"), s.handleTaskEnd(true))
	s.route("POST /api/tasks/{id}/transfer", TaskRule("id"), s.handleTransfer)
	s.route("GET /api/workers", SignedIn, s.handleWorkers)
	s.route("GET /api/queues", SignedIn, s.handleQueues)
	s.route("GET /api/activities", SignedIn, s.handleActivities)
	s.route("GET /api/queues/{id}/stats", Supervisor, s.handleQueueStats)
	if c, ok := r.(TaskClaimer); ok {
		s.claimRoutes(c)
	}
}

// myWorker returns the signed-in user's worker. Returns EForbidden when the
// user does not take tasks.
func (s *Server) myWorker(r *http.Request) (*backend.Worker, error) {
	return s.policy.worker(r.Context(), &SessionFrom(r.Context()).User)
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

// findReservation returns an active reservation. Returns ENotFound.
func (s *Server) findReservation(ctx context.Context, id string) (*backend.Reservation, error) {
	list, err := s.router.Reservations(ctx, "")
	if err != nil {
		return nil, err
	}
	for _, res := range list {
		if res.ID == id {
			return res, nil
		}
	}
	return nil, backend.Errorf(backend.ENotFound, "Offer %s does not exist or is no longer open.", id)
}

func (s *Server) handleReservation(accept bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
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
