package api

import (
	"context"
	"encoding/json"
	"slices"

	"switchboard/backend"
)

// Policy is the engine's one answer to "may this user read or act on this
// entity". Every route asks it through its Access rule and the change feed
// (sync and WebSocket) through eventScope and feedAccess.
//
// Supervisors and admins read and act on everything; admin-only entities
// (flows, channel configurations, keys, other users' details) never reach
// agents or supervisors' feeds beyond what their role allows. An agent
// reads a conversation assigned to them, offered to them, waiting in a
// queue they serve, or in the history of a customer they work with, and
// acts on it (reply, note, status) only while it is theirs: they hold its
// task, or completed it and nobody has taken it since (or it is another,
// unheld conversation of a customer whose conversation is theirs). Of the
// tasks in queues they serve, an agent sees and may take those that wait
// (pending, reserved to nobody), with their conversation, so they can
// decide to take one; a task reserved or assigned to another agent never
// reaches them. The facts come from durable state that routing keeps in
// step.
type Policy struct {
	store  backend.Store
	router func() Router
}

// Action is what a user wants to do with an entity.
type Action string

// The actions.
const (
	Read Action = "read"
	Act  Action = "act"
)

// privileged reports whether u sees and acts on every conversation.
func privileged(u *backend.User) bool { return u.Role.AtLeast(backend.RoleSupervisor) }

// Conversation allows u to read or act on conversation id. Returns
// ENotFound for an unknown conversation and EForbidden with a sentence.
func (p *Policy) Conversation(ctx context.Context, u *backend.User, act Action, id string) error {
	if privileged(u) {
		return nil
	}
	levels, err := p.store.ConversationAccess(ctx, u.ID, id)
	if err != nil {
		return err
	}
	if (act == Read && len(levels) > 0) || slices.Contains(levels, backend.AccessOwner) || slices.Contains(levels, backend.AccessAssigned) {
		return nil
	}
	if slices.Contains(levels, backend.AccessContact) {
		// Working with the customer, they may answer on another of the
		// customer's channels.
		if ok, err := p.store.HoldsCustomer(ctx, u.ID, id); err != nil || ok {
			return err
		}
	}
	if _, err := p.store.FindConversationByID(ctx, id); err != nil {
		return err
	}
	if act == Act && len(levels) > 0 {
		return backend.Errorf(backend.EForbidden, "You can read this conversation but not work on it: accept it or take it first.")
	}
	return backend.Errorf(backend.EForbidden, "This conversation is not yours: it is not assigned or offered to you and does not wait in a queue you serve.")
}

// Call allows u to read a call (its details, recording and voicemail):
// the agent who had it, and whoever may read its conversation. Others get
// ENotFound, as for a call that does not exist.
func (p *Policy) Call(ctx context.Context, u *backend.User, c *backend.Call) error {
	if privileged(u) || (c.UserID != "" && c.UserID == u.ID) {
		return nil
	}
	if c.ConversationID != "" && p.Conversation(ctx, u, Read, c.ConversationID) == nil {
		return nil
	}
	return backend.Errorf(backend.ENotFound, "Call %s does not exist.", c.ID)
}

// Media allows u to read a kept file: whoever may read its conversation.
// Others get ENotFound, as for a file that does not exist.
func (p *Policy) Media(ctx context.Context, u *backend.User, f *backend.MediaFile) error {
	if privileged(u) || p.Conversation(ctx, u, Read, f.ConversationID) == nil {
		return nil
	}
	return backend.Errorf(backend.ENotFound, "The file does not exist.")
}

// Contact allows u to read a contact: one of its conversations is
// readable to them.
func (p *Policy) Contact(ctx context.Context, u *backend.User, id string) error {
	if privileged(u) {
		return nil
	}
	ok, err := p.store.ContactReadable(ctx, u.ID, id)
	if err != nil || ok {
		return err
	}
	if _, err := p.store.FindContactByID(ctx, id); err != nil {
		return err
	}
	return backend.Errorf(backend.EForbidden, "This customer is not one you work with.")
}

// ConversationFilter narrows a conversation list to what u may read.
func (p *Policy) ConversationFilter(u *backend.User, f *backend.ConversationFilter) {
	if !privileged(u) {
		f.VisibleTo = u.ID
	}
}

// worker returns u's routing worker. Returns EForbidden when u takes no
// tasks.
func (p *Policy) worker(ctx context.Context, u *backend.User) (*backend.Worker, error) {
	r := p.router()
	if r == nil {
		return nil, backend.Errorf(backend.EUnavailable, "Routing is not running.")
	}
	w, err := r.WorkerByUserID(ctx, u.ID)
	if backend.ErrorCode(err) == backend.ENotFound {
		return nil, backend.Errorf(backend.EForbidden, "%s is not set up to take tasks; an admin can add them as a worker.", u.Name)
	}
	return w, err
}

// Task allows u to act on a task (wrap-up, complete, transfer): they hold
// it (assigned or wrapping).
func (p *Policy) Task(ctx context.Context, u *backend.User, t *backend.Task) error {
	if privileged(u) {
		return nil
	}
	w, err := p.worker(ctx, u)
	if err != nil {
		return err
	}
	if t.WorkerID != w.ID || (t.State != backend.TaskAssigned && t.State != backend.TaskWrapping) {
		return backend.Errorf(backend.EForbidden, "Task %s is not yours to work on.", t.ID)
	}
	return nil
}

// Take allows u to take a task: it is offered to them, or it waits
// (pending, reserved to nobody) in a queue they serve (TaskClaimer.Serves).
// A task reserved or assigned to another agent is not theirs to take:
// EConflict with ReasonTaskTaken, naming nobody.
func (p *Policy) Take(ctx context.Context, u *backend.User, t *backend.Task) error {
	if privileged(u) {
		return nil
	}
	w, err := p.worker(ctx, u)
	if err != nil {
		return err
	}
	if t.WorkerID == w.ID {
		return nil
	}
	c, ok := p.router().(TaskClaimer)
	if !ok {
		return backend.Errorf(backend.EUnavailable, "This router cannot hand out waiting tasks.")
	}
	serves, err := c.Serves(ctx, t.ID, w.ID)
	if err != nil {
		return err
	}
	if !serves {
		return backend.ReasonErrorf(backend.EForbidden, backend.ReasonNotInQueue, "%s does not serve the queue this task waits in.", w.Name)
	}
	if t.WorkerID != "" || t.State != backend.TaskPending {
		return backend.ReasonErrorf(backend.EConflict, backend.ReasonTaskTaken, "Another agent has this task now.")
	}
	return nil
}

// Reservation allows u to answer an offer: it is made to them.
func (p *Policy) Reservation(ctx context.Context, u *backend.User, res *backend.Reservation) error {
	if privileged(u) {
		return nil
	}
	w, err := p.worker(ctx, u)
	if err != nil {
		return err
	}
	if res.WorkerID != w.ID {
		return backend.Errorf(backend.EForbidden, "Offer %s is made to another agent.", res.ID)
	}
	return nil
}

// scopeKind says who may see an event on the change feed.
type scopeKind int

const (
	scopeInternal     scopeKind = iota // never handed out as it is
	scopeEveryone                      // activities, workers, queues, canned responses
	scopeSupervisors                   // supervisors and admins, and the user it names
	scopeAdmins                        // flows, channel configurations and anything unknown
	scopeConversation                  // whoever may read the conversation
	scopeContact                       // whoever may read one of the contact's conversations
	scopeWorker                        // supervisors, admins and the worker's user
)

// eventScope is what an event is about, for the feed's filter.
type eventScope struct {
	kind scopeKind
	// id names the conversation, contact, worker or user.
	id string
	// contact is a conversation's contact (conversation.upserted only).
	contact string
	// worker is the worker a task is reserved or assigned to
	// (task.upserted only; "" while it waits).
	worker string
}

// eventRefs are the fields of an event's entity the policy reads.
type eventRefs struct {
	ConversationID string `json:"conversationId"`
	ContactID      string `json:"contactId"`
	WorkerID       string `json:"workerId"`
}

// kindOf returns who may see events of a type, before looking inside. An
// event type the policy does not know is for admins only.
func kindOf(typ string) scopeKind {
	switch typ {
	case backend.EventActivityUpserted, backend.EventWorkerUpserted, backend.EventQueueUpserted, backend.EventCannedUpserted,
		backend.EventWorkerDeleted, backend.EventQueueDeleted, backend.EventCannedDeleted,
		backend.EventLabelUpserted, backend.EventLabelDeleted:
		return scopeEveryone
	case backend.EventUserUpserted, backend.EventQueueStats, backend.EventWorkflowUpserted, backend.EventWorkflowDeleted:
		return scopeSupervisors
	case backend.EventSupervisorLive:
		// The live view names every agent's work: supervisors and admins only.
		return scopeSupervisors
	case backend.EventConversationUpserted, backend.EventFlowExecutionUpserted, backend.EventMessageUpserted, backend.EventTaskUpserted,
		backend.EventCallUpserted:
		return scopeConversation
	case backend.EventContactUpserted:
		return scopeContact
	case backend.EventReservationUpserted, backend.EventWorkerStats, backend.EventOfferMissed:
		return scopeWorker
	case backend.EventAccessChanged, backend.EventSessionRevoked, backend.EventConversationRemoved:
		return scopeInternal
	}
	return scopeAdmins
}

// classify returns the scope of a change-feed event: its kind and the
// conversation, contact, worker or user it is about.
func classify(e *backend.Event) eventScope {
	sc := eventScope{kind: kindOf(e.Type)}
	var r eventRefs
	switch e.Type {
	case backend.EventUserUpserted, backend.EventFlowExecutionUpserted, backend.EventContactUpserted, backend.EventWorkerStats:
		sc.id = e.EntityID
	case backend.EventConversationUpserted:
		json.Unmarshal(e.Data, &r)
		sc.id, sc.contact = e.EntityID, r.ContactID
	case backend.EventMessageUpserted, backend.EventCallUpserted:
		json.Unmarshal(e.Data, &r)
		sc.id = r.ConversationID
	case backend.EventTaskUpserted:
		json.Unmarshal(e.Data, &r)
		if sc.id, sc.worker = r.ConversationID, r.WorkerID; sc.id == "" {
			sc.kind, sc.id = scopeWorker, r.WorkerID
		}
	case backend.EventReservationUpserted, backend.EventOfferMissed:
		json.Unmarshal(e.Data, &r)
		sc.id = r.WorkerID
	}
	return sc
}

// canSee reports whether the user may see e. Supervisors' and admins'
// feeds depend only on the event's type, so its data is not read.
func (a *feedAccess) canSee(e *backend.Event) bool {
	if privileged(&a.user) {
		return a.canRead(eventScope{kind: kindOf(e.Type)})
	}
	return a.canRead(classify(e))
}

// feedAccess is what one user may read on the feed: everything (by role)
// or a set of conversations and the contacts they belong to.
type feedAccess struct {
	user     backend.User
	workerID string
	convs    map[string]string // conversation → contact
	contacts map[string]int    // contact → readable conversations of it
}

// newFeedAccess returns u's feed access from the conversations they may
// read (ignored for supervisors and admins).
func newFeedAccess(u backend.User, workerID string, convs map[string]string) *feedAccess {
	a := &feedAccess{user: u, workerID: workerID, convs: map[string]string{}, contacts: map[string]int{}}
	if !privileged(&u) {
		for conv, contact := range convs {
			a.add(conv, contact)
		}
	}
	return a
}

// add and remove keep the conversation and contact sets together.
func (a *feedAccess) add(conv, contact string) {
	if old, ok := a.convs[conv]; ok {
		if old == contact {
			return
		}
		a.remove(conv)
	}
	a.convs[conv] = contact
	if contact != "" {
		a.contacts[contact]++
	}
}

func (a *feedAccess) remove(conv string) {
	contact, ok := a.convs[conv]
	if !ok {
		return
	}
	delete(a.convs, conv)
	if contact != "" {
		if a.contacts[contact]--; a.contacts[contact] <= 0 {
			delete(a.contacts, contact)
		}
	}
}

// canRead reports whether the user may see an event of scope sc.
func (a *feedAccess) canRead(sc eventScope) bool {
	switch sc.kind {
	case scopeEveryone:
		return true
	case scopeInternal:
		return false
	case scopeAdmins:
		return a.user.Role == backend.RoleAdmin
	}
	if privileged(&a.user) {
		return true
	}
	switch sc.kind {
	case scopeSupervisors:
		return sc.id != "" && sc.id == a.user.ID
	case scopeConversation:
		// A task reserved or assigned to another agent stays theirs, even
		// in a conversation this agent may read.
		if sc.worker != "" && sc.worker != a.workerID {
			return false
		}
		_, ok := a.convs[sc.id]
		return ok
	case scopeContact:
		return a.contacts[sc.id] > 0
	case scopeWorker:
		return sc.id != "" && sc.id == a.workerID
	}
	return false
}
