package flow_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/flow"
)

// benchConversations is how many conversations the flow benchmarks take
// turns on; the parallel variants run them all at once, as the channel
// hub hands messages to flows (channels.DefaultInboundParallel).
const benchConversations = 64

// BenchmarkFlowSteps measures widget steps per second through the default
// flow: each message resumes the wait, runs the agent-keyword split and the
// FAQ bot (which sends an answer) and waits again — four steps and one send.
// "mem" keeps executions in a MemStore (the engine's own cost); "sqlite" in
// the real store, with the bot's replies stored as in production. The
// plain variants hand one message at a time; the "parallel" ones run the 64
// conversations at once, one message at a time within each.
func BenchmarkFlowSteps(b *testing.B) {
	memConv := func(i int) *backend.Conversation {
		return &backend.Conversation{ID: fmt.Sprintf("cv_%d", i%benchConversations), Channel: "webchat", Instance: "site"}
	}
	sqliteEngine := func(b *testing.B, steps *atomic.Int64) (*flow.Engine, func(int) *backend.Conversation) {
		db := openDB(b, filepath.Join(b.TempDir(), "engine.db"))
		var convs []*backend.Conversation
		for i := range benchConversations {
			_, conv := inbound(b, db, "webchat", "site", fmt.Sprintf("visitor%d", i), fmt.Sprintf("seed%d", i), "hello")
			convs = append(convs, conv)
		}
		eng := benchEngine(b, db, flow.MessageSender{Messages: db}, steps)
		return eng, func(i int) *backend.Conversation { return convs[i%benchConversations] }
	}
	for _, parallel := range []bool{false, true} {
		run := benchMessages
		suffix := ""
		if parallel {
			run, suffix = benchParallel, "/parallel"
		}
		b.Run("mem"+suffix, func(b *testing.B) {
			var steps atomic.Int64
			run(b, benchEngine(b, flow.NewMemStore(), nopSender{}, &steps), &steps, memConv)
		})
		b.Run("sqlite"+suffix, func(b *testing.B) {
			var steps atomic.Int64
			eng, conv := sqliteEngine(b, &steps)
			run(b, eng, &steps, conv)
		})
	}
}

type nopSender struct{}

func (nopSender) Send(context.Context, *backend.Conversation, string, string) error { return nil }

func benchEngine(b *testing.B, store backend.FlowService, s flow.Sender, steps *atomic.Int64) *flow.Engine {
	eng, err := flow.NewEngine(store, flow.Options{
		Clock: flow.NewFakeClock(t0), Sender: s, Logger: slog.New(slog.DiscardHandler),
		Trace: func(flow.TraceStep) { steps.Add(1) },
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { eng.Close() })
	return eng
}

// benchWarm starts every conversation's flow: they then wait for questions.
func benchWarm(b *testing.B, eng *flow.Engine, steps *atomic.Int64, conv func(i int) *backend.Conversation) {
	for i := range benchConversations {
		m := &backend.Message{ID: fmt.Sprintf("warm%d", i), Direction: backend.DirectionIn, Text: "hi"}
		if err := eng.HandleInbound(context.Background(), m, conv(i)); err != nil {
			b.Fatal(err)
		}
	}
	steps.Store(0)
}

func benchQuestion(i int) *backend.Message {
	return &backend.Message{ID: fmt.Sprintf("m%d", i), Direction: backend.DirectionIn, Text: "what are your opening hours?"}
}

// benchReport reports steps per second and per message, and the process's
// CPU time (user and system, every goroutine: engine, store, SQLite) per
// message since cpu0, which a machine shared with other work changes less
// than the throughput.
func benchReport(b *testing.B, steps *atomic.Int64, cpu0 time.Duration) {
	b.ReportMetric(float64(steps.Load())/b.Elapsed().Seconds(), "steps/s")
	b.ReportMetric(float64(steps.Load())/float64(b.N), "steps/msg")
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-us/msg")
}

// processCPU returns the CPU time the process used so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchMessages(b *testing.B, eng *flow.Engine, steps *atomic.Int64, conv func(i int) *backend.Conversation) {
	benchWarm(b, eng, steps, conv)
	cpu0 := processCPU(b)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := eng.HandleInbound(context.Background(), benchQuestion(i), conv(i)); err != nil {
			b.Fatal(err)
		}
	}
	benchReport(b, steps, cpu0)
}

// benchParallel hands b.N messages to the 64 conversations at once: one
// goroutine per conversation, each handing its conversation's messages
// one after the other.
func benchParallel(b *testing.B, eng *flow.Engine, steps *atomic.Int64, conv func(i int) *backend.Conversation) {
	benchWarm(b, eng, steps, conv)
	var next atomic.Int64
	errs := make(chan error, benchConversations)
	var wg sync.WaitGroup
	cpu0 := processCPU(b)
	b.ResetTimer()
	for c := range benchConversations {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				if err := eng.HandleInbound(context.Background(), benchQuestion(i), conv(c)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	benchReport(b, steps, cpu0)
}
