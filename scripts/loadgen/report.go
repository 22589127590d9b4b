package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// recorder keeps the latencies of a run.
type recorder struct {
	mu     sync.Mutex
	first  map[string]time.Time // conversation thread → when its first webhook was due
	acks   []time.Duration
	offers []time.Duration
}

func newRecorder() *recorder { return &recorder{first: map[string]time.Time{}} }

// sent notes that a webhook of thread was due at at.
func (r *recorder) sent(thread string, at time.Time) {
	r.mu.Lock()
	if _, ok := r.first[thread]; !ok {
		r.first[thread] = at
	}
	r.mu.Unlock()
}

// conversations returns how many conversations the run started.
func (r *recorder) conversations() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.first)
}

// acked records a webhook's time to its 200.
func (r *recorder) acked(d time.Duration) {
	r.mu.Lock()
	r.acks = append(r.acks, d)
	r.mu.Unlock()
}

// offered records that thread's conversation reached an agent's socket at
// at; it reports false for a thread this run did not send.
func (r *recorder) offered(thread string, at time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	due, ok := r.first[thread]
	if ok {
		r.offers = append(r.offers, at.Sub(due))
	}
	return ok
}

// percentiles formats p50, p90, p99 and the maximum of ds.
func percentiles(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(p float64) time.Duration { return s[min(len(s)-1, int(p*float64(len(s))))] }
	return fmt.Sprintf("p50 %s, p90 %s, p99 %s, max %s", ms(at(0.5)), ms(at(0.9)), ms(at(0.99)), ms(s[len(s)-1]))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

// stageWatch samples the engine's /metrics during the run.
type stageWatch struct {
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	max    map[string]float64 // metric{labels} → largest value seen
	seen   bool
}

// watchStages polls /metrics every 250 ms for the stages' backlog and lag.
func watchStages(ctx context.Context, base, token string) *stageWatch {
	ctx, cancel := context.WithCancel(ctx)
	w := &stageWatch{cancel: cancel, done: make(chan struct{}), max: map[string]float64{}}
	go func() {
		defer close(w.done)
		for {
			w.sample(ctx, base, token)
			select {
			case <-ctx.Done():
				return
			case <-time.After(250 * time.Millisecond):
			}
		}
	}()
	return w
}

func (w *stageWatch) sample(ctx context.Context, base, token string) {
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := apiClient.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return
	}
	sc := bufio.NewScanner(resp.Body)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen = true
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "switchboard_stage_backlog") && !strings.HasPrefix(line, "switchboard_stage_lag_seconds") {
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		v, err := strconv.ParseFloat(val, 64)
		if !ok || err != nil {
			continue
		}
		w.max[name] = max(w.max[name], v)
	}
}

// stop ends the sampling and returns the largest value of each series.
func (w *stageWatch) stop() map[string]float64 {
	w.cancel()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.seen {
		return nil
	}
	return w.max
}

// report prints the run's figures.
func report(out io.Writer, o options, s sendResult, took time.Duration, rec *recorder, team *agents, stages map[string]float64,
	cpu time.Duration, caughtUp bool) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	fmt.Fprintf(out, "offered:       %d webhooks at %.0f/s over %s from %d clients (%s)\n", s.due, o.rate, o.duration, o.clients, customersText(o))
	fmt.Fprintf(out, "acknowledged:  %d in %.1f s = %.0f msgs/s; failed %d\n", s.acked, took.Seconds(), float64(s.acked)/took.Seconds(), s.failed)
	if s.firstError != "" {
		fmt.Fprintf(out, "first error:   %s\n", s.firstError)
	}
	fmt.Fprintf(out, "webhook → 2xx: %s\n", percentiles(rec.acks))
	if o.agents > 0 {
		fmt.Fprintf(out, "webhook → offer on the agent's socket: %d of %d conversations, %s\n", len(rec.offers), len(rec.first), percentiles(rec.offers))
		if !caughtUp {
			fmt.Fprintf(out, "               %d conversations got no offer within 30 s of the end\n", len(rec.first)-len(rec.offers))
		}
		fmt.Fprintf(out, "agents:        %d accepted, %d completed, %d API errors\n", team.accepted.Load(), team.completed.Load(), team.errors.Load())
	}
	if s.acked > 0 {
		fmt.Fprintf(out, "engine CPU:    %.1f s while sending (%.0f %% of one core), %.3f ms per acknowledged webhook\n",
			cpu.Seconds(), 100*cpu.Seconds()/took.Seconds(), float64(cpu)/float64(time.Millisecond)/float64(s.acked))
	}
	if stages == nil {
		fmt.Fprintln(out, "stages:        the engine has no /metrics")
		return
	}
	var names []string
	for k := range stages {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		fmt.Fprintf(out, "largest %s = %g\n", k, stages[k])
	}
}

func customersText(o options) string {
	if o.customers == 0 {
		return "every webhook a new conversation"
	}
	return fmt.Sprintf("%d customers in turn", o.customers)
}
