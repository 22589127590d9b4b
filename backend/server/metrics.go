package server

import (
	"context"
	"time"

	"switchboard/backend/api"
)

// metrics are the engine's /metrics samples: each stage's backlog and how
// far behind it is, and the store writer's group-commit counters.
func (s *Server) metrics(ctx context.Context) ([]api.Metric, error) {
	now := time.Now()
	b, err := s.Store.Backlog(ctx, now)
	if err != nil {
		return nil, err
	}
	in := s.Channels.InboundBacklog()
	since := func(t time.Time) float64 {
		if t.IsZero() {
			return 0
		}
		return max(now.Sub(t).Seconds(), 0)
	}
	const (
		backlogHelp = "Work a stage has not done yet: inbound = acknowledged messages not yet handed to their flow, " +
			"outbox = replies due to be sent, routing = tasks waiting for an agent, store_writer = transactions waiting for the next commit."
		lagHelp = "How long the oldest work of a stage has waited, in seconds."
	)
	stage := func(name string, backlog, lag float64) []api.Metric {
		l := map[string]string{"stage": name}
		return []api.Metric{
			{Name: "switchboard_stage_backlog", Help: backlogHelp, Type: "gauge", Labels: l, Value: backlog},
			{Name: "switchboard_stage_lag_seconds", Help: lagHelp, Type: "gauge", Labels: l, Value: lag},
		}
	}
	var out []api.Metric
	out = append(out, stage("inbound", float64(in.Pending), in.Oldest.Seconds())...)
	out = append(out, stage("outbox", float64(b.OutboxDue), since(b.OutboxOldestDue))...)
	out = append(out, stage("routing", float64(b.TasksWaiting), since(b.TasksOldest))...)
	out = append(out,
		api.Metric{Name: "switchboard_inbound_held_conversations", Type: "gauge", Value: float64(in.Held),
			Help: "Conversations whose next messages wait for an older message of another conversation to be handed to its flow."},
		api.Metric{Name: "switchboard_feed_sequence", Type: "gauge", Value: float64(b.LastSeq),
			Help: "The change feed's newest sequence."})
	if s.DB == nil {
		return out, nil // PostgreSQL commits each transaction itself: no writer to report
	}
	w := s.DB.WriterStats()
	out = append(out, stage("store_writer", float64(w.Queued), 0)[0])
	return append(out,
		api.Metric{Name: "switchboard_store_commits_total", Type: "counter", Value: float64(w.Batches),
			Help: "Commits the store's writer made (each carries a batch of transactions)."},
		api.Metric{Name: "switchboard_store_transactions_total", Type: "counter", Value: float64(w.Transactions),
			Help: "Write transactions the store's writer committed."},
		api.Metric{Name: "switchboard_store_largest_batch", Type: "gauge", Value: float64(w.LongestBatch),
			Help: "The most transactions one commit carried."},
		api.Metric{Name: "switchboard_store_writer_busy_seconds_total", Type: "counter", Value: w.Busy.Seconds(),
			Help: "Time the store's writer spent running and committing batches."},
		api.Metric{Name: "switchboard_store_checkpoints_total", Type: "counter", Value: float64(w.Checkpoints),
			Help: "Times the store's checkpointer copied the write-ahead log into the database file."},
		api.Metric{Name: "switchboard_store_writer_checkpoints_total", Type: "counter", Value: float64(w.CheckpointsByWriter),
			Help: "Checkpoints the writer ran itself, between batches, because the log had passed its limit."},
		api.Metric{Name: "switchboard_store_wal_pages", Type: "gauge", Value: float64(w.WALPages),
			Help: "Pages in the write-ahead log at the last checkpoint."},
	), nil
}
