package channels

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"

	"switchboard/backend"
)

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
		_, limited, err := h.outboxPass(ctx)
		if err != nil && ctx.Err() == nil {
			h.log.Error("outbox", "error", err)
		}
		wait := time.Minute
		if at, ok, err := h.store.NextOutboxDue(ctx); err == nil && ok {
			now := h.clock.Now()
			wait = max(at.Sub(now), 10*time.Millisecond)
			if !at.After(now) {
				// Due, but the platforms' rate limits held some back: let
				// their tokens gather so the next pass sends several in one
				// claim and one commit, not one at a time.
				gather := 1
				if limited {
					gather = outboxGather
				}
				wait = max(wait, h.tokenWait(now, gather))
			}
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
	n, _, err := h.outboxPass(ctx)
	return n, err
}

// outboxPass is RunOutbox; limited reports that the rate limits' budget
// bounded the claim (so more may be due).
func (h *Hub) outboxPass(ctx context.Context) (handled int, limited bool, err error) {
	now := h.clock.Now()
	if _, err := h.store.EnqueueOutbox(ctx, now); err != nil {
		return 0, false, err
	}
	// Claim only when something is due, and no more than the platforms'
	// rate limits let go out now: a job claimed beyond them would only be
	// put back.
	if at, ok, err := h.store.NextOutboxDue(ctx); err != nil || !ok || at.After(now) {
		return 0, false, err
	}
	budget, _ := h.sendBudget(now)
	if budget == 0 {
		return 0, true, nil
	}
	jobs, err := h.store.ClaimOutbox(ctx, now, now.Add(h.opts.Lease), budget)
	if err != nil || len(jobs) == 0 {
		return 0, false, err
	}
	limited = len(jobs) == budget && budget < outboxBatch
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
	// Each instance records an outcome before its next send, so a crash
	// leaves in doubt only the send on the wire; instances run in
	// parallel, so the store commits their outcomes together.
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, k := range order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, j := range byInstance[k] {
				if err := h.attempt(ctx, k, j)(ctx); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return len(jobs), limited, errors.Join(errs...)
}

// outboxGather is how many tokens a rate-limited pass waits for, so a
// backlog goes out in batches.
const outboxGather = 10

// attempt makes one attempt at one job and returns what records its
// outcome in the store.
func (h *Hub) attempt(ctx context.Context, key string, j *backend.OutboxJob) func(context.Context) error {
	now := h.clock.Now()
	inst := h.lookup(j.Conversation.Channel, j.Conversation.Instance)
	fail := func(reason string) func(context.Context) error {
		return func(ctx context.Context) error { _, err := h.store.FailOutbox(ctx, j.ID, reason); return err }
	}
	retry := func(at time.Time, reason string, count bool) func(context.Context) error {
		return func(ctx context.Context) error { return h.store.RetryOutbox(ctx, j.ID, at, reason, count) }
	}
	if inst == nil {
		return fail("The channel is not configured or is disabled.")
	}
	_, idempotent := inst.connector.(IdempotentSender)
	if j.InDoubt && !idempotent {
		return fail("Sending was interrupted and the platform cannot deduplicate, so the message was not sent again; it may or may not have arrived.")
	}
	h.outbox.mu.Lock()
	resume := h.outbox.paused[key]
	h.outbox.mu.Unlock()
	if resume.After(now) {
		return retry(resume, "", false)
	}
	if wait := inst.limiter.take(now); wait > 0 {
		return retry(now.Add(wait), "", false)
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
		return func(ctx context.Context) error {
			_, err := h.store.CompleteOutbox(ctx, j.ID, sent.ExternalID, sent.Status)
			return err
		}
	}
	var se *SendError
	if !errors.As(err, &se) {
		se = &SendError{Reason: "The message could not be sent.", Err: err}
	}
	h.log.Warn("send failed", "connector", j.Conversation.Channel, "instance", j.Conversation.Instance,
		"message", j.Message.ID, "attempt", j.Attempts, "status", se.Status, "reason", se.Reason, "retryAfter", se.RetryAfter)
	switch {
	case se.Permanent:
		return fail(se.Reason)
	case se.InDoubt && !idempotent:
		return fail("The platform did not confirm the send and cannot deduplicate, so it was not sent again: " + se.Reason)
	case j.Attempts >= h.opts.MaxAttempts:
		return fail(se.Reason)
	case se.RetryAfter > 0:
		at := now.Add(se.RetryAfter)
		h.outbox.mu.Lock()
		h.outbox.paused[key] = at
		h.outbox.mu.Unlock()
		return retry(at, se.Reason, true)
	default:
		return retry(now.Add(h.backoff(j.Attempts)), se.Reason, true)
	}
}

// tokenWait returns how long until some running instance's rate limit
// holds want tokens (its burst when smaller); 0 when one does now.
func (h *Hub) tokenWait(now time.Time, want int) time.Duration {
	h.mu.RLock()
	defer h.mu.RUnlock()
	h.outbox.mu.Lock()
	defer h.outbox.mu.Unlock()
	var best time.Duration = -1
	for key, inst := range h.instances {
		wait := inst.limiter.until(now, want)
		if resume := h.outbox.paused[key]; resume.After(now) {
			wait = max(wait, resume.Sub(now))
		}
		if best < 0 || wait < best {
			best = wait
		}
	}
	return max(best, 0)
}

// outboxBatch is the most jobs one pass claims.
const outboxBatch = 100

// sendBudget returns how many jobs the running instances may send now:
// the tokens their rate limits hold (none while one is paused after a
// 429), at most outboxBatch. With none it also says how long until the
// next token.
func (h *Hub) sendBudget(now time.Time) (budget int, next time.Duration) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if len(h.instances) == 0 {
		return outboxBatch, 0 // jobs of instances gone are failed at once
	}
	h.outbox.mu.Lock()
	defer h.outbox.mu.Unlock()
	for key, inst := range h.instances {
		if resume := h.outbox.paused[key]; resume.After(now) {
			if w := resume.Sub(now); next == 0 || w < next {
				next = w
			}
			continue
		}
		n, w := inst.limiter.available(now)
		budget += n
		if budget >= outboxBatch {
			return outboxBatch, 0
		}
		if n == 0 && (next == 0 || w < next) {
			next = w
		}
	}
	if budget > 0 {
		next = 0
	}
	return budget, next
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

// available returns how many whole tokens the bucket holds now (outboxBatch
// when unlimited) and, with none, how long until one is there.
func (l *limiter) available(now time.Time) (int, time.Duration) {
	if l.rate <= 0 {
		return outboxBatch, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.refill(now)
	if l.tokens >= 1 {
		return int(l.tokens), 0
	}
	return 0, time.Duration((1 - l.tokens) / l.rate * float64(time.Second))
}

// refill adds the tokens earned since the last look; l.mu is held.
func (l *limiter) refill(now time.Time) {
	if !l.last.IsZero() && now.After(l.last) {
		l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	}
	if l.last.IsZero() || now.After(l.last) {
		l.last = now
	}
}

// until returns how long until the bucket holds want tokens (its burst
// when smaller).
func (l *limiter) until(now time.Time, want int) time.Duration {
	if l.rate <= 0 {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.refill(now)
	need := min(float64(want), l.burst) - l.tokens
	if need <= 0 {
		return 0
	}
	return time.Duration(need / l.rate * float64(time.Second))
}

// take spends a token and returns 0, or returns how long until one is free.
func (l *limiter) take(now time.Time) time.Duration {
	if l.rate <= 0 {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.refill(now)
	if l.tokens >= 1 {
		l.tokens--
		return 0
	}
	return time.Duration((1 - l.tokens) / l.rate * float64(time.Second))
}
