package routing

import (
	"sort"

	"switchboard/backend"
)

// Access follows the work: the engine tells the store, with every decision,
// who now works on each conversation whose tasks changed (the holder, the
// offered worker and the workers who serve the queue a task waits in), so
// the access policy reads it from durable state.

// indexTask and unindexTask keep the open tasks of each conversation.
func (e *Engine) indexTask(t *task) {
	if t.t.ConversationID == "" {
		return
	}
	set := e.byConv[t.t.ConversationID]
	if set == nil {
		set = map[*task]bool{}
		e.byConv[t.t.ConversationID] = set
	}
	set[t] = true
}

func (e *Engine) unindexTask(t *task) {
	if set := e.byConv[t.t.ConversationID]; set != nil {
		delete(set, t)
		if len(set) == 0 {
			delete(e.byConv, t.t.ConversationID)
		}
	}
}

// touchAccess marks a conversation whose workers may have changed.
func (e *Engine) touchAccess(conversationID string) {
	if conversationID == "" {
		return
	}
	if e.dirty.access == nil {
		e.dirty.access = map[string]bool{}
	}
	e.dirty.access[conversationID] = true
}

// touchQueueAccess marks the conversations waiting in q: its members
// changed.
func (e *Engine) touchQueueAccess(q *queue) {
	for _, t := range q.pending {
		e.touchAccess(t.t.ConversationID)
	}
}

// touchWorkerAccess marks every conversation w works on or could pick up,
// after the user w signs in as changed.
func (e *Engine) touchWorkerAccess(w *worker) {
	for _, r := range w.res {
		if t := e.tasks[r.TaskID]; t != nil {
			e.touchAccess(t.t.ConversationID)
		}
	}
	for q := range w.elig {
		if w.elig[q] {
			e.touchQueueAccess(q)
		}
	}
}

// setMember records whether w serves q.
func (q *queue) setMember(w *worker, ok bool) {
	if ok {
		if q.members == nil {
			q.members = map[*worker]bool{}
		}
		q.members[w] = true
	} else {
		delete(q.members, w)
	}
}

// accessOf returns who works on a conversation now, from its open tasks.
func (e *Engine) accessOf(conversationID string) *backend.ConversationAccess {
	users := map[string]string{}
	grant := func(w *worker, level string) {
		if w == nil || w.w.UserID == "" {
			return
		}
		if backend.AccessRank(level) > backend.AccessRank(users[w.w.UserID]) {
			users[w.w.UserID] = level
		}
	}
	for t := range e.byConv[conversationID] {
		if r := t.res; r != nil {
			level := backend.AccessOwner
			if r.State == backend.ReservationPending {
				level = backend.AccessOffered
			}
			grant(e.workers[r.WorkerID], level)
		}
		if q := e.queues[t.t.QueueID]; q != nil && t.t.State == backend.TaskPending {
			for w := range q.members {
				grant(w, backend.AccessQueue)
			}
		}
	}
	return &backend.ConversationAccess{ConversationID: conversationID, Users: users}
}

// accessChanges lists who works on each marked conversation, in a stable
// order, with who just finished it.
func (e *Engine) accessChanges(marked map[string]bool, finished map[string]string) []*backend.ConversationAccess {
	ids := make([]string, 0, len(marked))
	for id := range marked {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]*backend.ConversationAccess, len(ids))
	for i, id := range ids {
		out[i] = e.accessOf(id)
		out[i].Finished = finished[id]
	}
	return out
}

// finishAccess records that w completed t: they stay the assignee of its
// conversation until someone else takes it.
func (e *Engine) finishAccess(t *task, w *worker) {
	if w == nil || w.w.UserID == "" || t.t.ConversationID == "" {
		return
	}
	if e.dirty.finished == nil {
		e.dirty.finished = map[string]string{}
	}
	e.dirty.finished[t.t.ConversationID] = w.w.UserID
}

// markAllAccess marks every conversation with an open task and asks the
// store to forget everyone else's work: the engine's view is complete.
func (e *Engine) markAllAccess() {
	for conv := range e.byConv {
		e.touchAccess(conv)
	}
	e.dirty.accessComplete = true
}
