// Command memseed prepares a desktop data directory for the memory
// benchmark (scripts/desktop-memory.sh): the demo workspace in the embedded
// engine's store, plus a number of synthetic customer messages spread over
// conversations and the last thirty days, so the desktop signed in as a
// demo agent syncs them all into its cache.
//
//	go run ./scripts/memseed -data DIR -messages 100000
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"switchboard/backend"
	"switchboard/backend/server"
	"switchboard/backend/sqlite"
)

var vocabulary = strings.Fields(`order parcel delivery refund invoice address payment card account password
	shipping tracking number return exchange size colour price discount coupon store opening hours weekend
	appointment booking cancel change update email phone help please thanks hello urgent late damaged missing
	wrong item replacement warranty support agent manager subscription plan upgrade downgrade billing receipt`)

func main() {
	data := flag.String("data", "", "the desktop's data directory (the engine's store goes in DIR/engine)")
	messages := flag.Int("messages", 100_000, "how many synthetic messages")
	conversations := flag.Int("conversations", 2_000, "over how many conversations")
	flag.Parse()
	if *data == "" {
		fmt.Fprintln(os.Stderr, "usage: memseed -data DIR [-messages N] [-conversations N]")
		os.Exit(2)
	}
	if err := seed(filepath.Join(*data, "engine"), *messages, *conversations); err != nil {
		fmt.Fprintln(os.Stderr, "memseed:", err)
		os.Exit(1)
	}
}

func seed(dir string, messages, conversations int) error {
	ctx := context.Background()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	db := sqlite.NewDB(filepath.Join(dir, "engine.db"))
	if err := db.Open(ctx); err != nil {
		return err
	}
	defer db.Close()
	if err := server.SeedDemo(ctx, db, db.Secrets != nil); err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(1, 2))
	start := time.Now().Add(-30 * 24 * time.Hour)
	step := 30 * 24 * time.Hour / time.Duration(messages)
	var batch []*backend.InboundMessage
	for i := 0; i < messages; i++ {
		who := i % conversations
		words := make([]string, 8+r.IntN(12))
		for j := range words {
			words[j] = vocabulary[r.IntN(len(vocabulary))]
		}
		// A channel the demo's routing leaves alone: the messages are history.
		batch = append(batch, &backend.InboundMessage{Channel: "custom", Instance: "archive", ExternalUserID: fmt.Sprintf("c%d", who),
			DisplayName: fmt.Sprintf("Customer %d", who), ExternalID: fmt.Sprintf("m%d", i), Text: strings.Join(words, " "),
			PlatformAt: start.Add(time.Duration(i) * step)})
		if len(batch) == 2_000 || i == messages-1 {
			if _, err := db.ImportInbound(ctx, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	fmt.Printf("seeded %d messages over %d conversations in %s\n", messages, conversations, dir)
	return nil
}
