package app

import (
	"context"
	"net/url"
	"sort"
	"time"

	"switchboard/app/cache"
	"switchboard/backend"
)

// Dispositions are the wrap-up codes an agent picks from: outcomes, named
// so they read differently from the actions beside them (no "Resolved"
// next to a Resolve button). The UI shows each in the agent's language.
var Dispositions = []string{"issue_solved", "needs_follow_up", "passed_to_specialist", "customer_went_quiet", "spam"}

// OfferedTask is what an offer (open or missed) shows of its task.
type OfferedTask struct {
	ReservationID  string `json:"reservationId"`
	TaskID         string `json:"taskId"`
	ConversationID string `json:"conversationId"`
	Channel        string `json:"channel"`
	TaskChannel    string `json:"taskChannel"`
	ContactName    string `json:"contactName"`
	Preview        string `json:"preview"`
	QueueName      string `json:"queueName"`
}

// Offer is a task offered to the signed-in agent, waiting for an answer.
type Offer struct {
	OfferedTask
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// Offers lists the signed-in agent's open offers, oldest first, from the cache.
func (a *App) Offers() ([]Offer, error) {
	s, err := a.current()
	if err != nil {
		return nil, a.toUI(err)
	}
	offers, err := a.offers(context.Background(), s)
	return offers, a.toUI(err)
}

func (a *App) offers(ctx context.Context, s *session) ([]Offer, error) {
	out := []Offer{}
	w, names, err := workAndQueues(ctx, s)
	if err != nil || w == nil {
		return out, err
	}
	res, err := s.cache.PendingReservations(ctx, w.ID)
	if err != nil {
		return nil, err
	}
	for _, r := range res {
		conv := ""
		if t, err := s.cache.Task(ctx, r.TaskID); err == nil {
			conv = t.ConversationID
		}
		task, err := offered(ctx, s, r.ID, r.TaskID, conv, r.Channel, names[r.QueueID])
		if err != nil {
			return nil, err
		}
		out = append(out, Offer{OfferedTask: task, CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt})
	}
	return out, nil
}

// workAndQueues returns the signed-in user's worker (nil when they take no
// tasks) and the queue names by id.
func workAndQueues(ctx context.Context, s *session) (*backend.Worker, map[string]string, error) {
	w, err := s.cache.WorkerByUser(ctx, s.user.ID)
	if backend.ErrorCode(err) == backend.ENotFound {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	queues, err := s.cache.Queues(ctx)
	if err != nil {
		return nil, nil, err
	}
	names := map[string]string{}
	for _, q := range queues {
		names[q.ID] = q.Name
	}
	return w, names, nil
}

// offered describes one offer's task from the cache.
func offered(ctx context.Context, s *session, reservationID, taskID, conversationID, taskChannel, queue string) (OfferedTask, error) {
	o := OfferedTask{ReservationID: reservationID, TaskID: taskID, ConversationID: conversationID, TaskChannel: taskChannel, QueueName: queue}
	if conversationID == "" {
		return o, nil
	}
	var err error
	o.Channel, o.ContactName, o.Preview, err = describe(ctx, s, conversationID, taskChannel)
	return o, err
}

// describe returns what an offer shows of a task's conversation: the
// platform channel, the customer's name and the first message (a caller's
// number for a call). It reads only the summary: it runs after every sync.
func describe(ctx context.Context, s *session, conversationID, taskChannel string) (channel, contact, preview string, err error) {
	list, err := s.cache.Conversations(ctx, cache.Filter{ID: conversationID})
	if err != nil || len(list) != 1 {
		return "", "", "", err
	}
	if preview, err = s.cache.FirstInbound(ctx, conversationID); err != nil {
		return "", "", "", err
	}
	if preview == "" && taskChannel == backend.ChannelVoice {
		preview = list[0].ThreadKey
	}
	return list[0].Channel, list[0].ContactName, preview, nil
}

// AcceptOffer accepts an offer; the conversation becomes the agent's.
func (a *App) AcceptOffer(reservationID string) error {
	return a.online(func(ctx context.Context, s *session) error {
		return s.client.Do(ctx, "POST", "/api/reservations/"+url.PathEscape(reservationID)+"/accept", nil, nil)
	})
}

// RejectOffer declines an offer; the router offers the task to someone else.
func (a *App) RejectOffer(reservationID string) error {
	return a.online(func(ctx context.Context, s *session) error {
		return s.client.Do(ctx, "POST", "/api/reservations/"+url.PathEscape(reservationID)+"/reject", nil, nil)
	})
}

// online runs an engine call that cannot wait in the outbox, with a clear
// sentence when the engine is unreachable.
func (a *App) online(fn func(ctx context.Context, s *session) error) error {
	s, err := a.current()
	if err != nil {
		return a.toUI(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err = fn(ctx, s)
	if backend.ErrorCode(err) == backend.EUnavailable {
		err = backend.Errorf(backend.EUnavailable, "You are offline: this needs the server. Replies you write still queue and send when you are back.")
	}
	return a.toUI(err)
}

// ActivityOption is an activity the agent can switch to.
type ActivityOption struct {
	Name      string `json:"name"`
	Available bool   `json:"available"`
}

// WorkerInfo is the signed-in agent as the router sees them.
type WorkerInfo struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Activity  string `json:"activity"`
	Available bool   `json:"available"`
}

// AgentState is the agent's worker, the activities and wrap-up codes.
type AgentState struct {
	Worker       *WorkerInfo      `json:"worker"`
	Activities   []ActivityOption `json:"activities"`
	Dispositions []string         `json:"dispositions"`
}

// AgentState returns the signed-in agent's routing state from the cache.
func (a *App) AgentState() (AgentState, error) {
	s, err := a.current()
	if err != nil {
		return AgentState{}, a.toUI(err)
	}
	st, err := a.agentState(context.Background(), s)
	return st, a.toUI(err)
}

func (a *App) agentState(ctx context.Context, s *session) (AgentState, error) {
	st := AgentState{Activities: []ActivityOption{}, Dispositions: Dispositions}
	if w, err := s.cache.WorkerByUser(ctx, s.user.ID); err == nil {
		st.Worker = &WorkerInfo{ID: w.ID, Name: w.Name, Activity: w.Activity, Available: w.Available}
	} else if backend.ErrorCode(err) != backend.ENotFound {
		return st, err
	}
	acts, err := s.cache.Activities(ctx)
	if err != nil {
		return st, err
	}
	sort.Slice(acts, func(i, j int) bool {
		if acts[i].Available != acts[j].Available {
			return acts[i].Available
		}
		return acts[i].Name < acts[j].Name
	})
	for _, act := range acts {
		st.Activities = append(st.Activities, ActivityOption{Name: act.Name, Available: act.Available})
	}
	return st, nil
}

// SetActivity switches the agent's activity (Available, Break, Offline …).
func (a *App) SetActivity(name string) (AgentState, error) {
	var w backend.Worker
	if err := a.online(func(ctx context.Context, s *session) error {
		return s.client.Do(ctx, "POST", "/api/me/activity", map[string]string{"activity": name}, &w)
	}); err != nil {
		return AgentState{}, err
	}
	st, err := a.AgentState()
	if err == nil && st.Worker != nil {
		st.Worker.Activity, st.Worker.Available = w.Activity, w.Available
	}
	return st, err
}

// WrapUp ends the work on a task with a disposition; the agent's capacity
// stays taken until CompleteTask.
func (a *App) WrapUp(taskID, disposition string) error {
	return a.online(func(ctx context.Context, s *session) error {
		return s.client.Do(ctx, "POST", "/api/tasks/"+url.PathEscape(taskID)+"/wrapup", map[string]string{"disposition": disposition}, nil)
	})
}

// CompleteTask finishes a task and frees the agent's capacity.
func (a *App) CompleteTask(taskID, disposition string) error {
	return a.online(func(ctx context.Context, s *session) error {
		return s.client.Do(ctx, "POST", "/api/tasks/"+url.PathEscape(taskID)+"/complete", map[string]string{"disposition": disposition}, nil)
	})
}

// TransferTarget names an agent or a queue to transfer a task to.
type TransferTarget struct {
	WorkerID string `json:"workerId,omitempty"`
	QueueID  string `json:"queueId,omitempty"`
}

// TransferTask hands a task to another agent or back to a queue.
func (a *App) TransferTask(taskID string, to TransferTarget) error {
	return a.online(func(ctx context.Context, s *session) error {
		return s.client.Do(ctx, "POST", "/api/tasks/"+url.PathEscape(taskID)+"/transfer", to, nil)
	})
}

// TransferOption is one agent or queue a task can go to.
type TransferOption struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Available bool   `json:"available,omitempty"`
}

// TransferTargets lists the other agents and the queues.
type TransferTargets struct {
	Workers []TransferOption `json:"workers"`
	Queues  []TransferOption `json:"queues"`
}

// TransferTargets returns who and where a task can be transferred to.
func (a *App) TransferTargets() (TransferTargets, error) {
	s, err := a.current()
	if err != nil {
		return TransferTargets{}, a.toUI(err)
	}
	ctx := context.Background()
	out := TransferTargets{Workers: []TransferOption{}, Queues: []TransferOption{}}
	ws, err := s.cache.Workers(ctx)
	if err != nil {
		return out, a.toUI(err)
	}
	for _, w := range ws {
		if w.UserID != s.user.ID {
			out.Workers = append(out.Workers, TransferOption{ID: w.ID, Name: w.Name, Available: w.Available})
		}
	}
	qs, err := s.cache.Queues(ctx)
	if err != nil {
		return out, a.toUI(err)
	}
	for _, q := range qs {
		out.Queues = append(out.Queues, TransferOption{ID: q.ID, Name: q.Name})
	}
	sort.Slice(out.Workers, func(i, j int) bool { return out.Workers[i].Name < out.Workers[j].Name })
	sort.Slice(out.Queues, func(i, j int) bool { return out.Queues[i].Name < out.Queues[j].Name })
	return out, nil
}

// SetConversationStatus snoozes, resolves or reopens a conversation.
func (a *App) SetConversationStatus(conversationID, status string) (cache.Summary, error) {
	var conv backend.Conversation
	err := a.online(func(ctx context.Context, s *session) error {
		c, err := s.client.SetStatus(ctx, conversationID, status)
		if err == nil {
			conv = *c
		}
		return err
	})
	return cache.Summary{Conversation: conv}, err
}

// SendNote adds a private note for other agents; it never reaches the customer.
func (a *App) SendNote(conversationID, text string) (backend.Message, error) {
	return a.queueMessage(conversationID, text, true)
}

// CannedResponses lists the saved replies.
func (a *App) CannedResponses() ([]cache.CannedResponse, error) {
	s, err := a.current()
	if err != nil {
		return nil, a.toUI(err)
	}
	list, err := s.cache.CannedResponses(context.Background())
	return list, a.toUI(err)
}

// SearchResult is what a search found and how long it took.
type SearchResult struct {
	Hits   []cache.Hit `json:"hits"`
	TookMs float64     `json:"tookMs"`
}

// SearchMessages searches every cached message (works offline).
func (a *App) SearchMessages(query string) (SearchResult, error) {
	s, err := a.current()
	if err != nil {
		return SearchResult{}, a.toUI(err)
	}
	start := time.Now()
	hits, err := s.cache.Search(context.Background(), query, 50)
	return SearchResult{Hits: hits, TookMs: float64(time.Since(start).Microseconds()) / 1000}, a.toUI(err)
}
