package flow

import (
	"context"
	"fmt"
	"strings"
	"time"

	"switchboard/backend"
)

// seenLimit is how many processed message ids an execution remembers.
const seenLimit = 16

// retryDelay is how long the timer waits before retrying an execution it
// could not advance (a store error).
const retryDelay = 5 * time.Second

// HandleInbound runs the conversation's flow on an inbound message: it
// resumes the execution waiting for a reply, or starts the flow of the
// conversation's channel instance. Messages of one conversation are
// handled one at a time; a message handled before (a redelivery) and
// messages of a conversation an agent holds are ignored. Outbound and
// private messages are ignored, and so are automatic ones (an
// out-of-office reply, a bounce): a bot answering them would start a mail
// loop; they stay in the conversation for people to read.
func (e *Engine) HandleInbound(ctx context.Context, m *backend.Message, conv *backend.Conversation) error {
	if m == nil || conv == nil || m.Direction != backend.DirectionIn || m.Private || m.Automatic {
		return nil
	}
	if m.ConversationID != "" && m.ConversationID != conv.ID {
		return backend.Errorf(backend.EInvalid, "Message %s is not in conversation %s.", m.ID, conv.ID)
	}
	in := &backend.FlowInput{Kind: backend.InputMessage, MessageID: m.ID, Body: m.Text, At: e.now()}
	return e.deliver(ctx, conv, in, false)
}

// HandleMessage is HandleInbound for callers that hold only the message
// (the channel hub's OnInbound); it needs Options.Conversations.
func (e *Engine) HandleMessage(ctx context.Context, m *backend.Message) error {
	if m == nil || m.Direction != backend.DirectionIn || m.Private {
		return nil
	}
	if e.opts.Conversations == nil {
		return fmt.Errorf("flow: handle message: no conversation finder configured")
	}
	conv, err := e.opts.Conversations.FindConversationByID(ctx, m.ConversationID)
	if err != nil {
		return fmt.Errorf("flow: find conversation: %w", err)
	}
	return e.HandleInbound(ctx, m, conv)
}

// Trigger starts the flow of conv's instance through the trigger's
// incomingRequest transition (an API call, such as an outbound campaign),
// with params as {{trigger.request.parameters.…}}. Returns EConflict when
// the conversation is already in a flow or with an agent.
func (e *Engine) Trigger(ctx context.Context, conv *backend.Conversation, params map[string]any) error {
	in := &backend.FlowInput{Kind: backend.InputRequest, Params: params, At: e.now()}
	return e.deliver(ctx, conv, in, true)
}

// Deliver hands any input to the conversation's flow: it resumes a waiting
// execution (the waiting widget decides what the input means) or starts the
// flow through the trigger transition named by in.Kind. HandleInbound and
// Trigger are the usual entry points; voice uses Deliver for call events
// (incomingCall, digits in Params). A timeout kind is refused: only the
// engine's timer fires timeouts.
func (e *Engine) Deliver(ctx context.Context, conv *backend.Conversation, in *backend.FlowInput) error {
	if in == nil || in.Kind == "" || in.Kind == backend.InputTimeout {
		return backend.Errorf(backend.EInvalid, "An input needs a kind other than timeout.")
	}
	if in.At.IsZero() {
		in.At = e.now()
	}
	return e.deliver(ctx, conv, in, in.Kind == backend.InputRequest)
}

// deliver processes one input under the conversation's lock, retrying when
// another runner moved the execution meanwhile. Where the store can save a
// step with its replies in one write (Engine.steps), the input is first run
// without a claim and saved in that one write; if that run reaches outside
// the store or its save fails, the input is run again the strict way: the
// execution claimed (saved as running) before the run, the replies sent on
// their own, the outcome saved after.
func (e *Engine) deliver(ctx context.Context, conv *backend.Conversation, in *backend.FlowInput, onlyNew bool) error {
	unlock := e.lock(conv.ID)
	defer unlock()
	batched := e.steps != nil
	var err error
	for range 5 {
		err = e.deliverOnce(ctx, conv, in, onlyNew, batched)
		if batched && err != nil && ctx.Err() == nil {
			batched = false
			continue
		}
		if backend.ErrorCode(err) != backend.EConflict || onlyNew {
			return err
		}
	}
	return err
}

func (e *Engine) deliverOnce(ctx context.Context, conv *backend.Conversation, in *backend.FlowInput, onlyNew, batched bool) error {
	x, err := e.store.FindFlowExecution(ctx, conv.ID)
	if backend.ErrorCode(err) == backend.ENotFound {
		x, err = nil, nil
	} else if err != nil {
		return err
	}
	if x != nil && in.MessageID != "" && contains(x.Seen, in.MessageID) {
		return nil // a redelivery
	}
	version := int64(0)
	if x != nil {
		version = x.Version
	}
	now := e.now()
	switch {
	case x != nil && x.Status == backend.FlowAgent:
		if onlyNew {
			return backend.Errorf(backend.EConflict, "An agent holds conversation %s.", conv.ID)
		}
		return nil
	case x != nil && x.Status == backend.FlowRunning:
		if now.Before(x.LeaseUntil) {
			return backend.Errorf(backend.EUnavailable, "The flow of conversation %s is busy elsewhere.", conv.ID)
		}
		if err := e.recover(ctx, x, conv); err != nil {
			return err
		}
		return backend.Errorf(backend.EConflict, "recovered; deliver again")
	case x != nil && x.Status == backend.FlowWaiting && !onlyNew:
		if in.Kind == backend.InputRequest || in.Kind == backend.InputTimeout {
			return nil
		}
		x.Status, x.Pending, x.LeaseUntil = backend.FlowRunning, in, now.Add(e.opts.Lease)
	default: // none yet, or the last one finished: start the flow anew
		if x != nil && !x.Final() {
			return backend.Errorf(backend.EConflict, "Conversation %s is already in a flow.", conv.ID)
		}
		key := backend.FlowKey(conv.Channel, conv.Instance)
		rev, err := e.current(ctx, key)
		if err != nil {
			return err
		}
		p, err := e.program(ctx, key, rev)
		if err != nil {
			return err
		}
		x = &backend.FlowExecution{
			ID: e.opts.NewID("fx"), ConversationID: conv.ID, FlowKey: key, Revision: rev,
			Status: backend.FlowRunning, Widget: p.start, Variables: map[string]any{}, Outputs: map[string]map[string]any{},
			Trigger: in, Pending: in, LeaseUntil: now.Add(e.opts.Lease), Seen: seenOf(x),
		}
	}
	if batched {
		x.Version = version // saved by compare-and-set on the version read
		return e.process(ctx, x, conv, &stepBatch{author: e.author})
	}
	if err := e.store.SaveFlowExecution(ctx, x, version); err != nil {
		return err
	}
	return e.process(ctx, x, conv, nil)
}

// process runs a claimed (running) execution on its pending input and
// saves the result. With batch, the execution was not claimed: its stored
// version is still x.Version, and the replies are saved with the outcome.
func (e *Engine) process(ctx context.Context, x *backend.FlowExecution, conv *backend.Conversation, batch *stepBatch) error {
	in := x.Pending
	claimed := x.Version
	p, err := e.program(ctx, x.FlowKey, x.Revision)
	if err != nil {
		if ctx.Err() != nil || backend.ErrorCode(err) != backend.ENotFound {
			return err
		}
		e.fail(x, err)
	} else if err := e.run(ctx, p, x, conv, in, batch); err != nil {
		return err
	}
	x.Pending, x.LeaseUntil = nil, time.Time{}
	if in.MessageID != "" {
		x.Seen = append(x.Seen, in.MessageID)
		if len(x.Seen) > seenLimit {
			x.Seen = x.Seen[len(x.Seen)-seenLimit:]
		}
	}
	if batch != nil {
		if err := e.steps.SaveFlowStep(ctx, x, claimed, batch.replies); err != nil {
			return fmt.Errorf("save flow step: %w", err)
		}
		for _, t := range batch.traces {
			e.opts.Trace(t)
		}
	} else if err := e.store.SaveFlowExecution(ctx, x, claimed); err != nil {
		return fmt.Errorf("save flow execution: %w", err)
	}
	if x.Status == backend.FlowWaiting && !x.TimeoutAt.IsZero() {
		e.schedule(x.TimeoutAt)
	}
	return nil
}

// recover takes over an execution whose runner's lease ran out and
// processes its pending input again (sends carry the same idempotency
// keys, so they are not repeated).
func (e *Engine) recover(ctx context.Context, x *backend.FlowExecution, conv *backend.Conversation) error {
	if x.Pending == nil {
		x.Status, x.Error = backend.FlowFailed, "interrupted with nothing to resume"
		return e.store.SaveFlowExecution(ctx, x, x.Version)
	}
	x.LeaseUntil = e.now().Add(e.opts.Lease)
	if err := e.store.SaveFlowExecution(ctx, x, x.Version); err != nil {
		return err
	}
	return e.process(ctx, x, conv, nil)
}

// Start fires the timeouts that passed while the engine was down, takes
// over executions interrupted by a crash, and from then on fires each
// wait-for-reply timeout when it falls due. ctx bounds that background work.
func (e *Engine) Start(ctx context.Context) error {
	e.mu.Lock()
	if e.started || e.closed {
		e.mu.Unlock()
		return fmt.Errorf("flow: engine already started or closed")
	}
	e.started, e.ctx = true, ctx
	e.mu.Unlock()
	if e.opts.TakeOverOnStart {
		e.TakeOver(ctx)
	}
	e.fireDue()
	return nil
}

// TakeOver resumes the executions their store lists as left running by a
// process that died (see Options.TakeOverOnStart; with several nodes, a new
// routing leader calls it for the nodes that are gone). One that cannot be
// resumed now is left to its lease, as after any crash.
func (e *Engine) TakeOver(ctx context.Context) {
	running, err := e.store.RunningFlowExecutions(ctx, 1000)
	if err != nil {
		e.log.Error("flow: running executions", "error", err)
		return
	}
	for _, listed := range running {
		if err := e.takeOverOne(ctx, listed); err != nil && backend.ErrorCode(err) != backend.EConflict {
			e.log.Error("flow: take over", "conversation", listed.ConversationID, "error", err)
		}
	}
}

func (e *Engine) takeOverOne(ctx context.Context, listed *backend.FlowExecution) error {
	unlock := e.lock(listed.ConversationID)
	defer unlock()
	x, err := e.store.FindFlowExecution(ctx, listed.ConversationID)
	if err != nil || x.Version != listed.Version || x.Status != backend.FlowRunning {
		return err
	}
	conv, err := e.conversation(ctx, x)
	if err != nil {
		return err
	}
	return e.recover(ctx, x, conv)
}

// Close stops the timer and waits for a timeout in progress to finish.
func (e *Engine) Close() error {
	e.mu.Lock()
	e.closed = true
	if e.stop != nil {
		e.stop()
		e.stop = nil
	}
	e.mu.Unlock()
	e.wg.Wait()
	return nil
}

// schedule makes the timer fire no later than at.
func (e *Engine) schedule(at time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.started || e.closed {
		return
	}
	if e.stop != nil && !e.timerAt.After(at) {
		return
	}
	if e.stop != nil {
		e.stop()
	}
	e.timerAt = at
	e.stop = e.clock.AfterFunc(max(at.Sub(e.now()), 0), e.onTimer)
}

func (e *Engine) onTimer() {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.stop, e.timerAt = nil, time.Time{}
	e.wg.Add(1)
	e.mu.Unlock()
	defer e.wg.Done()
	e.fireDue()
}

// fireDue advances every execution whose timeout or lease passed, then
// sets the timer for the next deadline.
func (e *Engine) fireDue() {
	e.firing.Lock()
	defer e.firing.Unlock()
	e.mu.Lock()
	ctx := e.ctx
	e.mu.Unlock()
	now := e.now()
	failed := false
	for ctx.Err() == nil {
		due, err := e.store.DueFlowExecutions(ctx, now, 100)
		if err != nil {
			e.log.Error("flow: due executions", "error", err)
			failed = true
			break
		}
		for _, x := range due {
			if err := e.handleDue(ctx, x); err != nil && ctx.Err() == nil {
				e.log.Error("flow: timeout", "conversation", x.ConversationID, "error", err)
				failed = true
			}
		}
		if len(due) < 100 || failed {
			break
		}
	}
	if ctx.Err() != nil {
		return
	}
	at, ok, err := e.store.NextFlowDeadline(ctx)
	if err != nil || failed || (ok && !at.After(now)) {
		at, ok = now.Add(retryDelay), true
	}
	if poll := now.Add(e.opts.Poll); !ok || poll.Before(at) {
		at = poll
	}
	e.schedule(at)
}

// handleDue fires one timeout or takes over one interrupted execution,
// unless it moved on since it was listed.
func (e *Engine) handleDue(ctx context.Context, listed *backend.FlowExecution) error {
	unlock := e.lock(listed.ConversationID)
	defer unlock()
	x, err := e.store.FindFlowExecution(ctx, listed.ConversationID)
	if err != nil {
		return err
	}
	if x.Version != listed.Version {
		return nil // a reply (or another node) got there first
	}
	conv, err := e.conversation(ctx, x)
	if err != nil {
		return err
	}
	now := e.now()
	switch {
	case x.Status == backend.FlowWaiting && !x.TimeoutAt.IsZero() && !now.Before(x.TimeoutAt):
		x.Status, x.LeaseUntil = backend.FlowRunning, now.Add(e.opts.Lease)
		x.Pending = &backend.FlowInput{Kind: backend.InputTimeout, At: x.TimeoutAt}
		if err := e.store.SaveFlowExecution(ctx, x, x.Version); err != nil {
			if backend.ErrorCode(err) == backend.EConflict {
				return nil // the reply won the race
			}
			return err
		}
		return e.process(ctx, x, conv, nil)
	case x.Status == backend.FlowRunning && !now.Before(x.LeaseUntil):
		err := e.recover(ctx, x, conv)
		if backend.ErrorCode(err) == backend.EConflict {
			return nil
		}
		return err
	}
	return nil
}

// conversation returns the execution's conversation, or one made from the
// execution when no finder is configured.
func (e *Engine) conversation(ctx context.Context, x *backend.FlowExecution) (*backend.Conversation, error) {
	if e.opts.Conversations != nil {
		return e.opts.Conversations.FindConversationByID(ctx, x.ConversationID)
	}
	ch, inst, _ := strings.Cut(x.FlowKey, "/")
	return &backend.Conversation{ID: x.ConversationID, Channel: ch, Instance: inst}, nil
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func seenOf(x *backend.FlowExecution) []string {
	if x == nil {
		return nil
	}
	return x.Seen
}
