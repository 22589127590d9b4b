package flow_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"

	"switchboard/backend"
	"switchboard/backend/flow"
)

// BenchmarkFlowSteps measures widget steps per second through the default
// flow: each message resumes the wait, runs the agent-keyword split and the
// FAQ bot (which sends an answer) and waits again — four steps, two store
// writes (claim and save) and one send. "mem" keeps executions in a
// MemStore (the engine's own cost); "sqlite" in the real store, with the
// bot's replies stored by StoreOutbound as in production.
func BenchmarkFlowSteps(b *testing.B) {
	b.Run("mem", func(b *testing.B) {
		var steps atomic.Int64
		eng := benchEngine(b, flow.NewMemStore(), nopSender{}, &steps)
		benchMessages(b, eng, &steps, func(i int) *backend.Conversation {
			return &backend.Conversation{ID: fmt.Sprintf("cv_%d", i%64), Channel: "webchat", Instance: "site"}
		})
	})
	b.Run("sqlite", func(b *testing.B) {
		db := openDB(b, filepath.Join(b.TempDir(), "engine.db"))
		var convs []*backend.Conversation
		for i := range 64 {
			_, conv := inbound(b, db, "webchat", "site", fmt.Sprintf("visitor%d", i), fmt.Sprintf("seed%d", i), "hello")
			convs = append(convs, conv)
		}
		var steps atomic.Int64
		eng := benchEngine(b, db, flow.MessageSender{Messages: db}, &steps)
		benchMessages(b, eng, &steps, func(i int) *backend.Conversation { return convs[i%64] })
	})
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

func benchMessages(b *testing.B, eng *flow.Engine, steps *atomic.Int64, conv func(i int) *backend.Conversation) {
	ctx := context.Background()
	for i := range 64 { // start every conversation: they then wait for questions
		m := &backend.Message{ID: fmt.Sprintf("warm%d", i), Direction: backend.DirectionIn, Text: "hi"}
		if err := eng.HandleInbound(ctx, m, conv(i)); err != nil {
			b.Fatal(err)
		}
	}
	steps.Store(0)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		m := &backend.Message{ID: fmt.Sprintf("m%d", i), Direction: backend.DirectionIn, Text: "what are your opening hours?"}
		if err := eng.HandleInbound(ctx, m, conv(i)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(steps.Load())/b.Elapsed().Seconds(), "steps/s")
	b.ReportMetric(float64(steps.Load())/float64(b.N), "steps/msg")
}
