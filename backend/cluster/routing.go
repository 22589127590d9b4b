package cluster

import (
	"context"

	"switchboard/backend"
	"switchboard/backend/routing"
)

// Routing is every routing method the rest of the engine calls: the API's,
// the admin console's, voice's and the flows' hand-over. routing.Engine and
// Router both have them; a routing method added for another caller needs a
// line below too (the leader runs whatever Routing names).
type Routing interface {
	CreateTask(ctx context.Context, in backend.TaskInput) (*backend.Task, error)
	AcceptReservation(ctx context.Context, id string) (*backend.Reservation, error)
	RejectReservation(ctx context.Context, id string) (*backend.Reservation, error)
	WrapUp(ctx context.Context, taskID, disposition string) (*backend.Task, error)
	CompleteTask(ctx context.Context, taskID, disposition string) (*backend.Task, error)
	CancelTask(ctx context.Context, taskID, reason string) (*backend.Task, error)
	TransferTask(ctx context.Context, taskID string, to backend.TransferTarget) (*backend.Task, error)
	Task(ctx context.Context, id string) (*backend.Task, error)
	Tasks(ctx context.Context, f backend.TaskFilter) ([]*backend.Task, error)
	Reservations(ctx context.Context, workerID string) ([]*backend.Reservation, error)
	Worker(ctx context.Context, id string) (*backend.Worker, error)
	WorkerByUserID(ctx context.Context, userID string) (*backend.Worker, error)
	Workers(ctx context.Context) ([]*backend.Worker, error)
	UpsertWorker(ctx context.Context, in *backend.Worker) (*backend.Worker, error)
	DeleteWorker(ctx context.Context, id string) error
	SetWorkerActivity(ctx context.Context, workerID, activity string) (*backend.Worker, error)
	WorkerStats(ctx context.Context, workerID string) (*backend.WorkerStats, error)
	Activities(ctx context.Context) ([]*backend.Activity, error)
	UpsertActivity(ctx context.Context, in backend.Activity) (*backend.Activity, error)
	Queues(ctx context.Context) ([]*backend.Queue, error)
	UpsertQueue(ctx context.Context, in *backend.Queue) (*backend.Queue, error)
	DeleteQueue(ctx context.Context, id string) error
	QueueStats(ctx context.Context, queueID string) (*backend.QueueStats, error)
	Workflows(ctx context.Context) ([]*backend.Workflow, error)
	UpsertWorkflow(ctx context.Context, in *backend.Workflow) (*backend.Workflow, error)
	DeleteWorkflow(ctx context.Context, id string) error
	MatchingWorkers(ctx context.Context, expression string) ([]*backend.Worker, error)
	Live(ctx context.Context) (*backend.RoutingLive, error)
	TakeTask(ctx context.Context, taskID, workerID string) (*backend.Reservation, error)
	AssignTask(ctx context.Context, taskID, workerID string) (*backend.Reservation, error)
	Serves(ctx context.Context, taskID, workerID string) (bool, error)
}

// CreateTask implements Routing.
func (r *Router) CreateTask(ctx context.Context, in backend.TaskInput) (*backend.Task, error) {
	return call(ctx, r, "CreateTask", func(e *routing.Engine) (*backend.Task, error) { return e.CreateTask(ctx, in) }, in)
}

// AcceptReservation implements Routing.
func (r *Router) AcceptReservation(ctx context.Context, id string) (*backend.Reservation, error) {
	return call(ctx, r, "AcceptReservation", func(e *routing.Engine) (*backend.Reservation, error) { return e.AcceptReservation(ctx, id) }, id)
}

// RejectReservation implements Routing.
func (r *Router) RejectReservation(ctx context.Context, id string) (*backend.Reservation, error) {
	return call(ctx, r, "RejectReservation", func(e *routing.Engine) (*backend.Reservation, error) { return e.RejectReservation(ctx, id) }, id)
}

// WrapUp implements Routing.
func (r *Router) WrapUp(ctx context.Context, taskID, disposition string) (*backend.Task, error) {
	return call(ctx, r, "WrapUp", func(e *routing.Engine) (*backend.Task, error) { return e.WrapUp(ctx, taskID, disposition) }, taskID, disposition)
}

// CompleteTask implements Routing.
func (r *Router) CompleteTask(ctx context.Context, taskID, disposition string) (*backend.Task, error) {
	return call(ctx, r, "CompleteTask", func(e *routing.Engine) (*backend.Task, error) { return e.CompleteTask(ctx, taskID, disposition) },
		taskID, disposition)
}

// CancelTask implements Routing.
func (r *Router) CancelTask(ctx context.Context, taskID, reason string) (*backend.Task, error) {
	return call(ctx, r, "CancelTask", func(e *routing.Engine) (*backend.Task, error) { return e.CancelTask(ctx, taskID, reason) }, taskID, reason)
}

// TransferTask implements Routing.
func (r *Router) TransferTask(ctx context.Context, taskID string, to backend.TransferTarget) (*backend.Task, error) {
	return call(ctx, r, "TransferTask", func(e *routing.Engine) (*backend.Task, error) { return e.TransferTask(ctx, taskID, to) }, taskID, to)
}

// Task implements Routing.
func (r *Router) Task(ctx context.Context, id string) (*backend.Task, error) {
	return call(ctx, r, "Task", func(e *routing.Engine) (*backend.Task, error) { return e.Task(ctx, id) }, id)
}

// Tasks implements Routing.
func (r *Router) Tasks(ctx context.Context, f backend.TaskFilter) ([]*backend.Task, error) {
	return call(ctx, r, "Tasks", func(e *routing.Engine) ([]*backend.Task, error) { return e.Tasks(ctx, f) }, f)
}

// Reservations implements Routing.
func (r *Router) Reservations(ctx context.Context, workerID string) ([]*backend.Reservation, error) {
	return call(ctx, r, "Reservations", func(e *routing.Engine) ([]*backend.Reservation, error) { return e.Reservations(ctx, workerID) }, workerID)
}

// Worker implements Routing.
func (r *Router) Worker(ctx context.Context, id string) (*backend.Worker, error) {
	return call(ctx, r, "Worker", func(e *routing.Engine) (*backend.Worker, error) { return e.Worker(ctx, id) }, id)
}

// WorkerByUserID implements Routing.
func (r *Router) WorkerByUserID(ctx context.Context, userID string) (*backend.Worker, error) {
	return call(ctx, r, "WorkerByUserID", func(e *routing.Engine) (*backend.Worker, error) { return e.WorkerByUserID(ctx, userID) }, userID)
}

// Workers implements Routing.
func (r *Router) Workers(ctx context.Context) ([]*backend.Worker, error) {
	return call(ctx, r, "Workers", func(e *routing.Engine) ([]*backend.Worker, error) { return e.Workers(ctx) })
}

// UpsertWorker implements Routing.
func (r *Router) UpsertWorker(ctx context.Context, in *backend.Worker) (*backend.Worker, error) {
	return call(ctx, r, "UpsertWorker", func(e *routing.Engine) (*backend.Worker, error) { return e.UpsertWorker(ctx, in) }, in)
}

// DeleteWorker implements Routing.
func (r *Router) DeleteWorker(ctx context.Context, id string) error {
	_, err := call(ctx, r, "DeleteWorker", func(e *routing.Engine) (struct{}, error) { return done(e.DeleteWorker(ctx, id)) }, id)
	return err
}

// SetWorkerActivity implements Routing.
func (r *Router) SetWorkerActivity(ctx context.Context, workerID, activity string) (*backend.Worker, error) {
	return call(ctx, r, "SetWorkerActivity", func(e *routing.Engine) (*backend.Worker, error) { return e.SetWorkerActivity(ctx, workerID, activity) },
		workerID, activity)
}

// WorkerStats implements Routing.
func (r *Router) WorkerStats(ctx context.Context, workerID string) (*backend.WorkerStats, error) {
	return call(ctx, r, "WorkerStats", func(e *routing.Engine) (*backend.WorkerStats, error) { return e.WorkerStats(ctx, workerID) }, workerID)
}

// Activities implements Routing.
func (r *Router) Activities(ctx context.Context) ([]*backend.Activity, error) {
	return call(ctx, r, "Activities", func(e *routing.Engine) ([]*backend.Activity, error) { return e.Activities(ctx) })
}

// UpsertActivity implements Routing.
func (r *Router) UpsertActivity(ctx context.Context, in backend.Activity) (*backend.Activity, error) {
	return call(ctx, r, "UpsertActivity", func(e *routing.Engine) (*backend.Activity, error) { return e.UpsertActivity(ctx, in) }, in)
}

// Queues implements Routing.
func (r *Router) Queues(ctx context.Context) ([]*backend.Queue, error) {
	return call(ctx, r, "Queues", func(e *routing.Engine) ([]*backend.Queue, error) { return e.Queues(ctx) })
}

// UpsertQueue implements Routing.
func (r *Router) UpsertQueue(ctx context.Context, in *backend.Queue) (*backend.Queue, error) {
	return call(ctx, r, "UpsertQueue", func(e *routing.Engine) (*backend.Queue, error) { return e.UpsertQueue(ctx, in) }, in)
}

// DeleteQueue implements Routing.
func (r *Router) DeleteQueue(ctx context.Context, id string) error {
	_, err := call(ctx, r, "DeleteQueue", func(e *routing.Engine) (struct{}, error) { return done(e.DeleteQueue(ctx, id)) }, id)
	return err
}

// QueueStats implements Routing.
func (r *Router) QueueStats(ctx context.Context, queueID string) (*backend.QueueStats, error) {
	return call(ctx, r, "QueueStats", func(e *routing.Engine) (*backend.QueueStats, error) { return e.QueueStats(ctx, queueID) }, queueID)
}

// Workflows implements Routing.
func (r *Router) Workflows(ctx context.Context) ([]*backend.Workflow, error) {
	return call(ctx, r, "Workflows", func(e *routing.Engine) ([]*backend.Workflow, error) { return e.Workflows(ctx) })
}

// UpsertWorkflow implements Routing.
func (r *Router) UpsertWorkflow(ctx context.Context, in *backend.Workflow) (*backend.Workflow, error) {
	return call(ctx, r, "UpsertWorkflow", func(e *routing.Engine) (*backend.Workflow, error) { return e.UpsertWorkflow(ctx, in) }, in)
}

// DeleteWorkflow implements Routing.
func (r *Router) DeleteWorkflow(ctx context.Context, id string) error {
	_, err := call(ctx, r, "DeleteWorkflow", func(e *routing.Engine) (struct{}, error) { return done(e.DeleteWorkflow(ctx, id)) }, id)
	return err
}

// MatchingWorkers implements Routing.
func (r *Router) MatchingWorkers(ctx context.Context, expression string) ([]*backend.Worker, error) {
	return call(ctx, r, "MatchingWorkers", func(e *routing.Engine) ([]*backend.Worker, error) { return e.MatchingWorkers(ctx, expression) },
		expression)
}

// Live implements Routing: the supervisors' live view, taken by the leader.
func (r *Router) Live(ctx context.Context) (*backend.RoutingLive, error) {
	return call(ctx, r, "Live", func(e *routing.Engine) (*backend.RoutingLive, error) { return e.Live(ctx) })
}

// TakeTask implements Routing.
func (r *Router) TakeTask(ctx context.Context, taskID, workerID string) (*backend.Reservation, error) {
	return call(ctx, r, "TakeTask", func(e *routing.Engine) (*backend.Reservation, error) { return e.TakeTask(ctx, taskID, workerID) },
		taskID, workerID)
}

// AssignTask implements Routing.
func (r *Router) AssignTask(ctx context.Context, taskID, workerID string) (*backend.Reservation, error) {
	return call(ctx, r, "AssignTask", func(e *routing.Engine) (*backend.Reservation, error) { return e.AssignTask(ctx, taskID, workerID) },
		taskID, workerID)
}

// Serves implements Routing.
func (r *Router) Serves(ctx context.Context, taskID, workerID string) (bool, error) {
	return call(ctx, r, "Serves", func(e *routing.Engine) (bool, error) { return e.Serves(ctx, taskID, workerID) }, taskID, workerID)
}
