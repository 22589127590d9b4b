package app

import (
	"net/url"

	"switchboard/backend"
)

// RoutingSetup is everything the routing screens show.
type RoutingSetup struct {
	Queues     []backend.Queue    `json:"queues"`
	Workflows  []backend.Workflow `json:"workflows"`
	Workers    []backend.Worker   `json:"workers"`
	Users      []backend.User     `json:"users"`
	Activities []backend.Activity `json:"activities"`
}

// RoutingSetup reads queues, workflows, workers, users and activities from
// the engine (admins).
func (a *App) RoutingSetup() (RoutingSetup, error) {
	var out RoutingSetup
	for _, r := range []struct {
		path string
		out  any
	}{{"/api/queues", &out.Queues}, {"/api/workflows", &out.Workflows}, {"/api/workers", &out.Workers},
		{"/api/users", &out.Users}, {"/api/activities", &out.Activities}} {
		if err := a.api("GET", r.path, nil, r.out); err != nil {
			return out, err
		}
	}
	return out, nil
}

// save creates (empty id: POST to base) or replaces (PUT base/id) an entity.
func (a *App) save(base, id string, in, out any) error {
	if id == "" {
		return a.api("POST", base, in, out)
	}
	return a.api("PUT", base+"/"+url.PathEscape(id), in, out)
}

// QueueInput is a queue as the routing screen edits it.
type QueueInput struct {
	Name           string `json:"name"`
	TargetWorkers  string `json:"targetWorkers"`
	OrderBy        string `json:"orderBy,omitempty"`
	OrderAscending bool   `json:"orderAscending,omitempty"`
	LIFO           bool   `json:"lifo,omitempty"`
	SLASeconds     int    `json:"slaSeconds,omitempty"`
	// AlertWaitSeconds and AlertWaiting are the supervisor view's
	// thresholds (longest wait; waiting tasks).
	AlertWaitSeconds int `json:"alertWaitSeconds,omitempty"`
	AlertWaiting     int `json:"alertWaiting,omitempty"`
}

// SaveQueue creates (empty id) or changes a queue.
func (a *App) SaveQueue(id string, q QueueInput) (backend.Queue, error) {
	var out backend.Queue
	return out, a.save("/api/queues", id, q, &out)
}

// DeleteQueue removes a queue no workflow targets and no task waits in.
func (a *App) DeleteQueue(id string) error {
	return a.api("DELETE", "/api/queues/"+url.PathEscape(id), nil, nil)
}

// QueuePreview is a target expression's check: valid, or expr's message,
// and the workers it matches today.
type QueuePreview struct {
	Valid   bool             `json:"valid"`
	Error   string           `json:"error,omitempty"`
	Workers []backend.Worker `json:"workers"`
}

// PreviewQueue checks a target expression and lists the workers it matches.
func (a *App) PreviewQueue(expression string) (QueuePreview, error) {
	var out QueuePreview
	return out, a.api("POST", "/api/queues/preview", map[string]string{"expression": expression}, &out)
}

// WorkflowInput is a workflow as the routing screen edits it.
type WorkflowInput struct {
	Name                      string                   `json:"name"`
	Filters                   []backend.WorkflowFilter `json:"filters"`
	Default                   []backend.WorkflowTarget `json:"default"`
	ReservationTimeoutSeconds int                      `json:"reservationTimeoutSeconds,omitempty"`
}

// SaveWorkflow creates (empty id) or changes a workflow.
func (a *App) SaveWorkflow(id string, wf WorkflowInput) (backend.Workflow, error) {
	var out backend.Workflow
	return out, a.save("/api/workflows", id, wf, &out)
}

// DeleteWorkflow removes a workflow (never the last one).
func (a *App) DeleteWorkflow(id string) error {
	return a.api("DELETE", "/api/workflows/"+url.PathEscape(id), nil, nil)
}

// ImportedWorkflow is a TaskRouter workflow created from its JSON, with
// what was left out.
type ImportedWorkflow struct {
	Workflow backend.Workflow `json:"workflow"`
	Notes    []string         `json:"notes"`
}

// ImportWorkflow creates a workflow from a TaskRouter workflow's
// configuration; queues maps TaskRouter queue SIDs to queue ids.
func (a *App) ImportWorkflow(name, configuration string, queues map[string]string) (ImportedWorkflow, error) {
	var out ImportedWorkflow
	return out, a.api("POST", "/api/workflows/import", map[string]any{"name": name, "configuration": configuration, "queues": queues}, &out)
}

// WorkerInput is an agent's routing profile as the screen edits it.
type WorkerInput struct {
	UserID     string         `json:"userId,omitempty"`
	Name       string         `json:"name"`
	Activity   string         `json:"activity,omitempty"`
	Attributes map[string]any `json:"attributes"`
	Capacity   map[string]int `json:"capacity"`
}

// SaveWorker creates (empty id) or changes a worker.
func (a *App) SaveWorker(id string, w WorkerInput) (backend.Worker, error) {
	var out backend.Worker
	return out, a.save("/api/workers", id, w, &out)
}

// DeleteWorker removes a worker who holds no task (never an agent's).
func (a *App) DeleteWorker(id string) error {
	return a.api("DELETE", "/api/workers/"+url.PathEscape(id), nil, nil)
}
