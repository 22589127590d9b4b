package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// sendResult counts what the customers' webhooks got.
type sendResult struct {
	due, acked, failed int64
	firstError         string
}

// job is one webhook, due at a time fixed before the run.
type job struct {
	n  int
	at time.Time
}

// sendWebhooks posts rate webhooks a second for the duration from
// o.clients connections. Each webhook is due at start + n/rate: the
// schedule does not wait for answers (open loop), and latencies count from
// the due time, so a queue in front of a slow engine is measured.
func sendWebhooks(ctx context.Context, base string, ws *workspace, o options, rec *recorder) sendResult {
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	total := int(o.rate * o.duration.Seconds())
	jobs := make(chan job, total)
	client := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{
		MaxIdleConnsPerHost: o.clients, MaxConnsPerHost: o.clients, DisableCompression: true}}
	url := base + "/hooks/custom/" + instance
	var acked, failed atomic.Int64
	var mu sync.Mutex
	var firstError string
	var wg sync.WaitGroup
	for range o.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				customer := j.n
				if o.customers > 0 {
					customer = j.n % o.customers
				}
				thread := fmt.Sprintf("c-%s-%d", run, customer)
				rec.sent(thread, j.at)
				err := post(ctx, client, url, webhook(run, j.n, thread))
				if err != nil {
					failed.Add(1)
					mu.Lock()
					if firstError == "" {
						firstError = err.Error()
					}
					mu.Unlock()
					continue
				}
				rec.acked(time.Since(j.at))
				acked.Add(1)
			}
		}()
	}
	start := time.Now()
	interval := time.Duration(float64(time.Second) / o.rate)
schedule:
	for n := range total {
		at := start.Add(time.Duration(n) * interval)
		if wait := time.Until(at); wait > time.Millisecond {
			select {
			case <-ctx.Done():
				break schedule
			case <-time.After(wait):
			}
		}
		jobs <- job{n: n, at: at}
	}
	close(jobs)
	wg.Wait()
	return sendResult{due: int64(total), acked: acked.Load(), failed: failed.Load(), firstError: firstError}
}

// webhook is the custom channel's message event of customer thread.
func webhook(run string, n int, thread string) []byte {
	return fmt.Appendf(nil, `{"type":"message","id":"m-%s-%d","from":{"id":%q,"name":"Customer %d"},"text":"I need an agent, please (%d)"}`,
		run, n, thread, n, n)
}

// post sends one signed webhook and reads the answer; anything but 200 is
// an error.
func post(ctx context.Context, client *http.Client, url string, body []byte) error {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	mac := hmac.New(sha256.New, []byte(channelSecret))
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Switchboard-Timestamp", ts)
	req.Header.Set("X-Switchboard-Signature", "v1="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("webhook: %d %s", resp.StatusCode, bytes.TrimSpace(b))
	}
	return nil
}
