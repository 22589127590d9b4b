// Command fsynclat measures how long this machine's disk takes to flush a
// small write (fdatasync), the floor under every durable commit: with
// synchronous=FULL each commit of the store's writer waits for one such
// flush of its write-ahead log. It writes a 4 KiB page and flushes it, n
// times, in a file in dir, and prints the percentiles.
//
//	go run ./scripts/fsynclat -dir build -n 2000
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"time"
)

func main() {
	dir := flag.String("dir", os.TempDir(), "a directory on the disk to measure")
	n := flag.Int("n", 2000, "flushes to time")
	flag.Parse()
	f, err := os.CreateTemp(*dir, "fsynclat-*")
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	page := make([]byte, 4096)
	times := make([]time.Duration, 0, *n)
	for i := range *n {
		// A log grows at its end, then starts over: cycle through 1 MiB.
		if _, err := f.WriteAt(page, int64(i%256)*4096); err != nil {
			log.Fatal(err)
		}
		start := time.Now()
		if err := fdatasync(f); err != nil {
			log.Fatal(err)
		}
		times = append(times, time.Since(start))
	}
	slices.Sort(times)
	at := func(p int) time.Duration { return times[min(len(times)-1, len(times)*p/100)].Round(time.Microsecond) }
	abs, _ := filepath.Abs(*dir)
	fmt.Printf("fdatasync of a 4 KiB write in %s, %d times: p50 %v, p90 %v, p99 %v, max %v\n",
		abs, len(times), at(50), at(90), at(99), times[len(times)-1].Round(time.Microsecond))
}
