package backend

import "context"

// Routing event names on the change feed. Each carries the whole entity.
const (
	EventActivityUpserted    = "activity.upserted"
	EventWorkerUpserted      = "worker.upserted"
	EventQueueUpserted       = "queue.upserted"
	EventWorkflowUpserted    = "workflow.upserted"
	EventTaskUpserted        = "task.upserted"
	EventReservationUpserted = "reservation.upserted"
	// EventQueueStats carries a QueueStats; EventWorkerStats a WorkerStats.
	EventQueueStats  = "queue.stats"
	EventWorkerStats = "worker.stats"
	// EventOfferMissed carries a MissedOffer: an offer expired unanswered.
	EventOfferMissed = "offer.missed"
	// EventQueueDeleted, EventWorkflowDeleted and EventWorkerDeleted carry
	// {"id"} of what an admin removed.
	EventQueueDeleted    = "queue.deleted"
	EventWorkflowDeleted = "workflow.deleted"
	EventWorkerDeleted   = "worker.deleted"
)

// RoutingSnapshot is the router's durable state as loaded at start.
type RoutingSnapshot struct {
	Activities []*Activity
	Workers    []*Worker
	Queues     []*Queue
	Workflows  []*Workflow
	// Tasks holds only open tasks (not completed or canceled).
	Tasks []*Task
	// Reservations holds only active ones (pending, accepted, wrapping).
	Reservations   []*Reservation
	QueueCounters  map[string]RoutingCounters
	WorkerCounters map[string]RoutingCounters
}

// RoutingChange is everything one routing decision changed. The store writes
// it in one transaction and appends an upsert event per entity and a stats
// event per QueueStats and WorkerStats (whose counters it keeps).
type RoutingChange struct {
	Activities   []*Activity
	Workers      []*Worker
	Queues       []*Queue
	Workflows    []*Workflow
	Tasks        []*Task
	Reservations []*Reservation
	QueueStats   []*QueueStats
	WorkerStats  []*WorkerStats
	// MissedOffers are offers that expired in this change; each becomes an
	// EventOfferMissed.
	MissedOffers []*MissedOffer
	// Access holds, for every conversation whose tasks changed hands or
	// queues, who works on it now; the store keeps the access policy's
	// levels and the conversation's assignee from it.
	Access []*ConversationAccess
	// AccessComplete says Access covers every conversation with an open
	// task: any other conversation has nobody working on it.
	AccessComplete bool
	// DeletedQueues, DeletedWorkflows and DeletedWorkers name what was
	// removed; each gets a deleted event.
	DeletedQueues    []string
	DeletedWorkflows []string
	DeletedWorkers   []string
}

// Empty reports whether the change holds nothing.
func (c *RoutingChange) Empty() bool {
	return len(c.Activities)+len(c.Workers)+len(c.Queues)+len(c.Workflows)+len(c.Tasks)+
		len(c.Reservations)+len(c.QueueStats)+len(c.WorkerStats)+len(c.MissedOffers)+len(c.Access)+
		len(c.DeletedQueues)+len(c.DeletedWorkflows)+len(c.DeletedWorkers) == 0 && !c.AccessComplete
}

// RoutingStore keeps the router's state. The router holds it in memory and
// writes every decision through SaveRouting.
type RoutingStore interface {
	// LoadRouting returns every activity, worker, queue and workflow, the
	// open tasks, the active reservations and the counters.
	LoadRouting(ctx context.Context) (*RoutingSnapshot, error)
	// SaveRouting writes c in one transaction with its events. It must not
	// keep c. Returns EConflict when a task would hold two active
	// reservations, and leaves the store unchanged on any error.
	SaveRouting(ctx context.Context, c *RoutingChange) error
	// FindTask returns one task, open or not. Returns ENotFound.
	FindTask(ctx context.Context, id string) (*Task, error)
}
