package channels

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"switchboard/backend"
)

// inboundCursor names the durable cursor of the OnInbound dispatcher.
const inboundCursor = "inbound.dispatch"

// inboundIdle is how long the dispatcher sleeps with nothing to do when no
// commit wakes it.
const inboundIdle = 5 * time.Second

// RunInbound hands every new inbound message to OnInbound, in store order,
// advancing a durable cursor after each, until ctx ends. A message
// OnInbound refuses is retried after a growing wait, before any later one.
// Start runs it unless Options.ManualInbound is set.
func (h *Hub) RunInbound(ctx context.Context) {
	if h.opts.OnInbound == nil {
		return
	}
	notify, stop := h.store.Notify()
	defer stop()
	retry := h.opts.InboundRetry
	for {
		err := h.DispatchInbound(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			h.log.Warn("inbound message not handed over yet; retrying", "error", err, "wait", retry)
			select {
			case <-ctx.Done():
				return
			case <-h.clock.After(retry):
			}
			retry = min(2*retry, inboundIdle)
			continue
		}
		retry = h.opts.InboundRetry
		select {
		case <-ctx.Done():
			return
		case <-h.wakeInbound:
		case <-notify:
		case <-h.clock.After(inboundIdle):
		}
	}
}

// DispatchInbound hands the inbound messages stored since the last call to
// OnInbound and returns when it has caught up. It stops at the first
// message OnInbound refuses (leaving the cursor before it) and returns that
// error; see Options.OnInbound. Start calls it in the background; tests may
// call it directly.
func (h *Hub) DispatchInbound(ctx context.Context) error {
	if h.opts.OnInbound == nil {
		return nil
	}
	cursor, err := h.store.ChannelCursor(ctx, inboundCursor)
	if err != nil {
		return err
	}
	for ctx.Err() == nil {
		msgs, seqs, err := h.store.InboundAfter(ctx, cursor, 100)
		if err != nil || len(msgs) == 0 {
			return err
		}
		for i, m := range msgs {
			if err := h.opts.OnInbound(ctx, m); err != nil {
				if code := backend.ErrorCode(err); ctx.Err() != nil || (code != backend.EInvalid && code != backend.ENotFound) {
					return fmt.Errorf("hand over message %s: %w", m.ID, err)
				}
				h.log.Error("inbound message can never be handled; moving past it", "message", m.ID, "error", err)
			}
			cursor = seqs[i]
			if err := h.store.SetChannelCursor(ctx, inboundCursor, cursor); err != nil {
				return err
			}
		}
	}
	return ctx.Err()
}

// outboxState is the sender's memory of platform back-pressure.
type outboxState struct {
	mu     sync.Mutex
	paused map[string]time.Time // instance key → resume time after a 429
}

// runOutbox enqueues new outbound messages and sends what is due, sleeping
// until the next due time or a store commit.
func (h *Hub) runOutbox(ctx context.Context) {
	notify, stop := h.store.Notify()
	defer stop()
	for {
		if _, err := h.RunOutbox(ctx); err != nil && ctx.Err() == nil {
			h.log.Error("outbox", "error", err)
		}
		wait := time.Minute
		if at, ok, err := h.store.NextOutboxDue(ctx); err == nil && ok {
			wait = max(at.Sub(h.clock.Now()), 10*time.Millisecond)
			wait = min(wait, time.Minute)
		}
		select {
		case <-ctx.Done():
			return
		case <-h.wakeOutbox:
		case <-notify:
		case <-h.clock.After(wait):
		}
	}
}

// RunOutbox moves newly stored outbound messages into the outbox and makes
// one delivery attempt for every job due now. It returns how many jobs it
// handled. Start calls it in the background; tests call it directly with an
// injected clock.
func (h *Hub) RunOutbox(ctx context.Context) (int, error) {
	now := h.clock.Now()
	if _, err := h.store.EnqueueOutbox(ctx, now); err != nil {
		return 0, err
	}
	jobs, err := h.store.ClaimOutbox(ctx, now, now.Add(h.opts.Lease), 100)
	if err != nil || len(jobs) == 0 {
		return 0, err
	}
	// One goroutine per instance keeps each instance's sends in order and
	// its rate limit simple; instances proceed in parallel.
	byInstance := map[string][]*backend.OutboxJob{}
	var order []string
	for _, j := range jobs {
		k := j.Conversation.Channel + "/" + j.Conversation.Instance
		if _, ok := byInstance[k]; !ok {
			order = append(order, k)
		}
		byInstance[k] = append(byInstance[k], j)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(order))
	for i, k := range order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, j := range byInstance[k] {
				if err := h.sendJob(ctx, k, j); err != nil && errs[i] == nil {
					errs[i] = err
				}
			}
		}()
	}
	wg.Wait()
	return len(jobs), errors.Join(errs...)
}

// sendJob makes one attempt at one job and records the outcome.
func (h *Hub) sendJob(ctx context.Context, key string, j *backend.OutboxJob) error {
	now := h.clock.Now()
	inst := h.lookup(j.Conversation.Channel, j.Conversation.Instance)
	if inst == nil {
		_, err := h.store.FailOutbox(ctx, j.ID, "The channel is not configured or is disabled.")
		return err
	}
	_, idempotent := inst.connector.(IdempotentSender)
	if j.InDoubt && !idempotent {
		_, err := h.store.FailOutbox(ctx, j.ID, "Sending was interrupted and the platform cannot deduplicate, so the message was not sent again; it may or may not have arrived.")
		return err
	}
	h.outbox.mu.Lock()
	resume := h.outbox.paused[key]
	h.outbox.mu.Unlock()
	if resume.After(now) {
		return h.store.RetryOutbox(ctx, j.ID, resume, "", false)
	}
	if wait := inst.limiter.take(now); wait > 0 {
		return h.store.RetryOutbox(ctx, j.ID, now.Add(wait), "", false)
	}
	files, err := h.outboundFiles(ctx, inst, j.Message.Attachments)
	var sent *Sent
	if err == nil {
		sent, err = inst.connector.Send(ctx, &Outbound{
			MessageID: j.Message.ID, IdempotencyKey: j.IdempotencyKey, ThreadKey: j.Conversation.ThreadKey,
			Text: j.Message.Text, Attachments: j.Message.Attachments, Files: files, Cc: j.Message.Cc,
			LastInbound: j.LastInbound, InDoubt: j.InDoubt,
		})
	}
	if err == nil {
		if sent == nil {
			sent = &Sent{}
		}
		_, err := h.store.CompleteOutbox(ctx, j.ID, sent.ExternalID, sent.Status)
		return err
	}
	var se *SendError
	if !errors.As(err, &se) {
		se = &SendError{Reason: "The message could not be sent.", Err: err}
	}
	h.log.Warn("send failed", "connector", j.Conversation.Channel, "instance", j.Conversation.Instance,
		"message", j.Message.ID, "attempt", j.Attempts, "status", se.Status, "reason", se.Reason, "retryAfter", se.RetryAfter)
	switch {
	case se.Permanent:
		_, err := h.store.FailOutbox(ctx, j.ID, se.Reason)
		return err
	case se.InDoubt && !idempotent:
		_, err := h.store.FailOutbox(ctx, j.ID, "The platform did not confirm the send and cannot deduplicate, so it was not sent again: "+se.Reason)
		return err
	case j.Attempts >= h.opts.MaxAttempts:
		_, err := h.store.FailOutbox(ctx, j.ID, se.Reason)
		return err
	case se.RetryAfter > 0:
		at := now.Add(se.RetryAfter)
		h.outbox.mu.Lock()
		h.outbox.paused[key] = at
		h.outbox.mu.Unlock()
		return h.store.RetryOutbox(ctx, j.ID, at, se.Reason, true)
	default:
		return h.store.RetryOutbox(ctx, j.ID, now.Add(h.backoff(j.Attempts)), se.Reason, true)
	}
}

// backoff returns the delay after the given attempt: Backoff doubled per
// attempt, capped at MaxBackoff.
func (h *Hub) backoff(attempt int) time.Duration {
	d := float64(h.opts.Backoff) * math.Pow(2, float64(attempt-1))
	if d > float64(h.opts.MaxBackoff) {
		return h.opts.MaxBackoff
	}
	return time.Duration(d)
}

// limiter is a token bucket on the injected clock.
type limiter struct {
	mu     sync.Mutex
	rate   float64 // tokens per second; 0 = unlimited
	burst  float64
	tokens float64
	last   time.Time
}

func newLimiter(rate float64, burst int) *limiter {
	if burst < 1 {
		burst = 1
	}
	return &limiter{rate: rate, burst: float64(burst), tokens: float64(burst)}
}

// take spends a token and returns 0, or returns how long until one is free.
func (l *limiter) take(now time.Time) time.Duration {
	if l.rate <= 0 {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() {
		l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	}
	l.last = now
	if l.tokens >= 1 {
		l.tokens--
		return 0
	}
	return time.Duration((1 - l.tokens) / l.rate * float64(time.Second))
}
