package api

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"switchboard/backend"
)

// RoutingAdmin is what the admin's routing routes need from the router:
// creating, changing and removing queues, workflows and workers. Each
// change is written with its event on the feed.
type RoutingAdmin interface {
	UpsertQueue(ctx context.Context, q *backend.Queue) (*backend.Queue, error)
	DeleteQueue(ctx context.Context, id string) error
	Workflows(ctx context.Context) ([]*backend.Workflow, error)
	UpsertWorkflow(ctx context.Context, wf *backend.Workflow) (*backend.Workflow, error)
	DeleteWorkflow(ctx context.Context, id string) error
	Worker(ctx context.Context, id string) (*backend.Worker, error)
	UpsertWorker(ctx context.Context, w *backend.Worker) (*backend.Worker, error)
	DeleteWorker(ctx context.Context, id string) error
	// MatchingWorkers returns the workers a target expression matches now.
	MatchingWorkers(ctx context.Context, expression string) ([]*backend.Worker, error)
	Tasks(ctx context.Context, f backend.TaskFilter) ([]*backend.Task, error)
}

// TaskRouterImporter converts a TaskRouter workflow configuration into a
// workflow, with notes on what it left out (routing.ImportTaskRouterWorkflow).
type TaskRouterImporter func(data []byte, name string, queues map[string]string) (*backend.Workflow, []string, error)

// SetRoutingAdmin enables the routing routes: workflows are read by
// supervisors; queues, workflows and workers are changed by admins.
func (s *Server) SetRoutingAdmin(r RoutingAdmin, importTR TaskRouterImporter) {
	s.routing, s.importTR = r, importTR
	s.route("POST /api/queues", Admin, s.handlePutQueue)
	s.route("PUT /api/queues/{id}", Admin, s.handlePutQueue)
	s.route("DELETE /api/queues/{id}", Admin, s.handleDeleteRouting("queue", r.DeleteQueue))
	s.route("POST /api/queues/preview", Admin, s.handlePreviewQueue)
	s.route("GET /api/workflows", Supervisor, s.handleWorkflows)
	s.route("POST /api/workflows", Admin, s.handlePutWorkflow)
	s.route("PUT /api/workflows/{id}", Admin, s.handlePutWorkflow)
	s.route("DELETE /api/workflows/{id}", Admin, s.handleDeleteRouting("workflow", r.DeleteWorkflow))
	s.route("POST /api/workflows/import", Admin, s.handleImportWorkflow)
	s.route("POST /api/workers", Admin, s.handlePutWorker)
	s.route("PUT /api/workers/{id}", Admin, s.handlePutWorker)
	s.route("DELETE /api/workers/{id}", Admin, s.handleDeleteWorker)
}

// QueueRequest is the body of POST /api/queues and PUT /api/queues/{id}.
type QueueRequest struct {
	Name           string `json:"name"`
	TargetWorkers  string `json:"targetWorkers"`
	OrderBy        string `json:"orderBy,omitempty"`
	OrderAscending bool   `json:"orderAscending,omitempty"`
	LIFO           bool   `json:"lifo,omitempty"`
	SLASeconds     int    `json:"slaSeconds,omitempty"`
	// AlertWaitSeconds and AlertWaiting are the live view's thresholds.
	AlertWaitSeconds int `json:"alertWaitSeconds,omitempty"`
	AlertWaiting     int `json:"alertWaiting,omitempty"`
}

// exists checks that PUT names an existing entity, so a typo in an id does
// not create a second one.
func (s *Server) exists(r *http.Request, kind string, find func() (bool, error)) error {
	if r.Method != http.MethodPut {
		return nil
	}
	ok, err := find()
	if err == nil && !ok {
		err = backend.Errorf(backend.ENotFound, "There is no %s %s.", kind, r.PathValue("id"))
	}
	return err
}

func (s *Server) handlePutQueue(w http.ResponseWriter, r *http.Request) {
	var req QueueRequest
	if err := decodeJSON(w, r, s.MaxBody, &req); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	id := r.PathValue("id")
	if err := s.exists(r, "queue", func() (bool, error) {
		qs, err := s.router.Queues(r.Context())
		return slices.ContainsFunc(qs, func(q *backend.Queue) bool { return q.ID == id }), err
	}); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	q, err := s.routing.UpsertQueue(r.Context(), &backend.Queue{ID: id, Name: req.Name, TargetWorkers: req.TargetWorkers,
		OrderBy: req.OrderBy, OrderAscending: req.OrderAscending, LIFO: req.LIFO, SLASeconds: req.SLASeconds,
		AlertWaitSeconds: req.AlertWaitSeconds, AlertWaiting: req.AlertWaiting})
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	s.auditPut(w, r, "queue", q.ID, req, q.Name, q)
}

// auditPut records a create (POST) or update (PUT) and answers with v.
func (s *Server) auditPut(w http.ResponseWriter, r *http.Request, kind, id string, details any, name string, v any) {
	action, verb, status := kind+".update", "Changed", http.StatusOK
	if r.Method == http.MethodPost {
		action, verb, status = kind+".create", "Created", http.StatusCreated
	}
	s.audit(r, action, kind, id, details, "%s %s %s", verb, kind, name)
	writeJSON(w, status, v)
}

func (s *Server) handleDeleteRouting(kind string, del func(context.Context, string) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if err := del(r.Context(), id); err != nil {
			Error(w, r, s.Logger, err)
			return
		}
		s.audit(r, kind+".delete", kind, id, nil, "Removed %s %s", kind, id)
		w.WriteHeader(http.StatusNoContent)
	}
}

// PreviewRequest is the body of POST /api/queues/preview.
type PreviewRequest struct {
	Expression string `json:"expression"`
}

// PreviewResponse lists the workers a target expression matches now; an
// expression that does not compile gets Valid false and expr's message
// (200, so the console can show it while the admin types).
type PreviewResponse struct {
	Valid   bool              `json:"valid"`
	Error   string            `json:"error,omitempty"`
	Workers []*backend.Worker `json:"workers"`
}

func (s *Server) handlePreviewQueue(w http.ResponseWriter, r *http.Request) {
	var req PreviewRequest
	if err := decodeJSON(w, r, s.MaxBody, &req); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	list, err := s.routing.MatchingWorkers(r.Context(), req.Expression)
	if backend.ErrorCode(err) == backend.EInvalid {
		writeJSON(w, http.StatusOK, PreviewResponse{Error: backend.ErrorMessage(err), Workers: []*backend.Worker{}})
		return
	} else if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, PreviewResponse{Valid: true, Workers: list})
}

func (s *Server) handleWorkflows(w http.ResponseWriter, r *http.Request) {
	list, err := s.routing.Workflows(r.Context())
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	if list == nil {
		list = []*backend.Workflow{}
	}
	writeJSON(w, http.StatusOK, list)
}

// WorkflowRequest is the body of POST /api/workflows and PUT /api/workflows/{id}.
type WorkflowRequest struct {
	Name                      string                   `json:"name"`
	Filters                   []backend.WorkflowFilter `json:"filters"`
	Default                   []backend.WorkflowTarget `json:"default"`
	ReservationTimeoutSeconds int                      `json:"reservationTimeoutSeconds,omitempty"`
}

func (s *Server) handlePutWorkflow(w http.ResponseWriter, r *http.Request) {
	var req WorkflowRequest
	if err := decodeJSON(w, r, s.MaxBody, &req); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	id := r.PathValue("id")
	if err := s.exists(r, "workflow", func() (bool, error) {
		wfs, err := s.routing.Workflows(r.Context())
		return slices.ContainsFunc(wfs, func(wf *backend.Workflow) bool { return wf.ID == id }), err
	}); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	wf, err := s.routing.UpsertWorkflow(r.Context(), &backend.Workflow{ID: id, Name: strings.TrimSpace(req.Name), Filters: req.Filters,
		Default: req.Default, ReservationTimeoutSeconds: req.ReservationTimeoutSeconds})
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	s.auditPut(w, r, "workflow", wf.ID, req, wf.Name, wf)
}

// ImportWorkflowRequest is the body of POST /api/workflows/import: a
// TaskRouter workflow's configuration JSON, the name to give it, and which
// Switchboard queue stands for each TaskRouter queue SID.
type ImportWorkflowRequest struct {
	Name          string            `json:"name"`
	Configuration json.RawMessage   `json:"configuration"`
	Queues        map[string]string `json:"queues"`
}

// ImportWorkflowResponse is the created workflow and what was left out.
type ImportWorkflowResponse struct {
	Workflow *backend.Workflow `json:"workflow"`
	Notes    []string          `json:"notes"`
}

func (s *Server) handleImportWorkflow(w http.ResponseWriter, r *http.Request) {
	var req ImportWorkflowRequest
	if err := decodeJSON(w, r, s.MaxBody, &req); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	if len(req.Configuration) == 0 || strings.TrimSpace(req.Name) == "" {
		Error(w, r, s.Logger, backend.Errorf(backend.EInvalid, "Give the workflow a name and its TaskRouter configuration."))
		return
	}
	config := req.Configuration
	var str string
	if json.Unmarshal(config, &str) == nil { // the configuration field as TaskRouter returns it: a JSON string
		config = json.RawMessage(str)
	}
	wf, notes, err := s.importTR(config, strings.TrimSpace(req.Name), req.Queues)
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	if wf, err = s.routing.UpsertWorkflow(r.Context(), wf); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	if notes == nil {
		notes = []string{}
	}
	s.audit(r, "workflow.import", "workflow", wf.ID, map[string]any{"notes": notes}, "Imported TaskRouter workflow %s", wf.Name)
	writeJSON(w, http.StatusCreated, ImportWorkflowResponse{Workflow: wf, Notes: notes})
}
