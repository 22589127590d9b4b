// Command loadgen drives a real `switchboard serve` over loopback the way a
// burst of customers would: signed custom-channel webhooks from many
// simulated customers at a fixed arrival rate (open loop: a request is due
// at its time whether or not earlier ones were answered, so a slow engine
// shows as latency instead of hiding it), and simulated agents that stay
// Available, accept every offer that reaches their WebSocket through the
// API and complete the task at once.
//
// It reports the acknowledged webhooks per second and the percentiles of
// (a) webhook → 2xx and (b) webhook → the agent's offer on their socket,
// both measured from the moment each webhook was due, and how far behind
// the engine's stages fell (from its /metrics endpoint, when it has one).
//
//	go run ./scripts/loadgen -bin build/bin/switchboard -rate 1000 -duration 60s
//
// The engine runs in a temporary data directory with a new secret key,
// one admin, one custom channel whose flow hands every conversation to an
// agent, and -agents agents.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"
)

// options are the command's flags.
type options struct {
	bin         string
	rate        float64
	duration    time.Duration
	clients     int
	agents      int
	capacity    int
	customers   int
	synchronous string
	cpuProfile  string
	keepData    bool
	quiet       bool
	check       bool
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "build/bin/switchboard", "the switchboard binary to run as `serve`")
	flag.Float64Var(&o.rate, "rate", 1000, "webhooks per second (open loop)")
	flag.DurationVar(&o.duration, "duration", 60*time.Second, "how long to send")
	flag.IntVar(&o.clients, "clients", 64, "concurrent webhook connections")
	flag.IntVar(&o.agents, "agents", 100, "simulated agents (0: none; conversations wait in the queue)")
	flag.IntVar(&o.capacity, "capacity", 3, "chats each agent takes at once")
	flag.IntVar(&o.customers, "customers", 0, "distinct customers writing in turn (0: every webhook is a new customer, so a new conversation)")
	flag.StringVar(&o.synchronous, "synchronous", "", "the engine's --synchronous setting (empty: its default)")
	flag.StringVar(&o.cpuProfile, "cpu-profile", "", "write the engine's CPU profile to this file")
	flag.BoolVar(&o.keepData, "keep-data", false, "keep the engine's data directory and print where it is")
	flag.BoolVar(&o.quiet, "quiet", false, "print only the report")
	flag.BoolVar(&o.check, "check", false, "exit with an error unless every webhook was acknowledged and every conversation offered (make bench)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// run starts the engine, sets it up, drives the load and prints the report.
func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	if o.rate <= 0 || o.duration <= 0 || o.clients < 1 || o.agents < 0 {
		return fmt.Errorf("-rate and -duration must be positive, -clients at least 1, -agents 0 or more")
	}
	logf := func(format string, args ...any) {
		if !o.quiet {
			fmt.Fprintf(stderr, format+"\n", args...)
		}
	}
	replies, err := startReplyReceiver()
	if err != nil {
		return err
	}
	defer replies.Close()
	eng, err := startEngine(ctx, o, stderr)
	if err != nil {
		return err
	}
	defer eng.stop(logf)
	logf("engine %s listening on %s (data %s)", eng.version, eng.url, eng.dataDir)
	ws, err := setUp(ctx, eng, o, replies.URL)
	if err != nil {
		return err
	}
	rec := newRecorder()
	team, err := startAgents(ctx, eng, ws, o, rec)
	if err != nil {
		return err
	}
	defer team.close()
	logf("%d agents available; sending %.0f webhooks/s for %s from %d clients", o.agents, o.rate, o.duration, o.clients)
	watch := watchStages(ctx, eng.url, ws.adminToken)
	cpuBefore := processCPU(eng.cmd.Process.Pid)
	start := time.Now()
	sent := sendWebhooks(ctx, eng.url, ws, o, rec)
	sendTime := time.Since(start)
	cpuDuring := processCPU(eng.cmd.Process.Pid) - cpuBefore
	logf("sending done after %s; waiting for the stages to catch up", sendTime.Round(time.Millisecond))
	caughtUp := team.waitOffers(ctx, int64(rec.conversations()), 30*time.Second, o.agents > 0)
	stages := watch.stop()
	report(stdout, o, sent, sendTime, rec, team, stages, cpuDuring, caughtUp)
	if o.check {
		if sent.acked != sent.due {
			return fmt.Errorf("check: %d of %d webhooks acknowledged", sent.acked, sent.due)
		}
		if !caughtUp || team.errors.Load() > 0 {
			return fmt.Errorf("check: not every conversation reached an agent (%d API errors)", team.errors.Load())
		}
	}
	return nil
}
