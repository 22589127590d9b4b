package channels

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"switchboard/backend"
)

// DefaultMaxMediaBytes is the largest file the engine keeps unless
// Options.MaxMediaBytes says otherwise.
const DefaultMaxMediaBytes = 25 << 20

// MediaFetcher is a Connector that fetches the files its platform holds
// (inbound attachments with a Ref) with the instance's credentials.
type MediaFetcher interface {
	// FetchMedia downloads the file ref names, at most max bytes. Errors
	// are *SendError: Permanent when the platform no longer has it or it
	// is larger than max, with RetryAfter when the platform asks to wait.
	FetchMedia(ctx context.Context, ref string, max int64) (*Fetched, error)
}

// Fetched is a file downloaded from a platform.
type Fetched struct {
	Data []byte
	// Type is the platform's media type for it ("" when it gave none).
	Type string
	// Name is the file name the platform gave ("" when none).
	Name string
}

// ServeFile answers with a kept file: never rendered as a page of the
// engine's origin, shown inline only when it is a raster image.
func ServeFile(w http.ResponseWriter, name, typ string, data []byte) {
	for k, v := range backend.FileHeaders(name, typ) {
		w.Header().Set(k, v)
	}
	w.Write(data)
}

// Download runs req and returns the file a 2xx answer carries, at most max
// bytes. 404, 410 and 403 (an expired address) mean the platform no longer
// has the file; like Do, 429 and 5xx are retried.
func Download(client *http.Client, req *http.Request, max int64) (*Fetched, error) {
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		se := TransportError(err)
		se.InDoubt = false // reading a file changes nothing on the platform
		return nil, se
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 || resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusNoContent {
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse))
		return nil, downloadStatusError(resp)
	}
	if resp.ContentLength > max {
		return nil, tooLarge(resp.ContentLength, max)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, &SendError{Reason: "The file's download was cut off.", Err: err}
	}
	if int64(len(data)) > max {
		return nil, tooLarge(-1, max)
	}
	f := &Fetched{Data: data}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err == nil {
		f.Type = mt
	}
	if _, p, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); err == nil {
		f.Name = p["filename"]
	}
	return f, nil
}

func downloadStatusError(resp *http.Response) *SendError {
	e := &SendError{Status: resp.StatusCode, Reason: fmt.Sprintf("The platform answered %d %s for the file.", resp.StatusCode, http.StatusText(resp.StatusCode))}
	switch {
	case resp.StatusCode == http.StatusAccepted: // still being prepared (LINE video)
		e.RetryAfter, e.Reason = 5*time.Second, "The platform is still preparing the file."
	case resp.StatusCode == http.StatusNoContent:
		e.Permanent, e.Reason = true, "The platform sent no file."
	case resp.StatusCode == http.StatusTooManyRequests:
		e.RetryAfter = max(ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), time.Second)
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone || resp.StatusCode == http.StatusForbidden:
		e.Permanent = true
		e.Reason = fmt.Sprintf("The platform no longer has this file (%d %s); its address may have expired.", resp.StatusCode, http.StatusText(resp.StatusCode))
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusRequestTimeout:
	default:
		e.Permanent = true
	}
	return e
}

func tooLarge(size, max int64) *SendError {
	if size > 0 {
		return Permanent(fmt.Sprintf("The file (%s) is larger than the %s the engine keeps.", sizeText(size), sizeText(max)))
	}
	return Permanent(fmt.Sprintf("The file is larger than the %s the engine keeps.", sizeText(max)))
}

// sizeText writes a byte count for people (12 KB, 4.5 MB).
func sizeText(n int64) string {
	switch {
	case n >= 1<<20:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(n)/(1<<20)), ".0") + " MB"
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// runMedia fetches the files platforms hold, as they are due, until ctx
// ends: woken by new messages and store commits, else at the next due time.
func (h *Hub) runMedia(ctx context.Context) {
	notify, stop := h.store.Notify()
	defer stop()
	for {
		_, next, err := h.fetchDue(ctx)
		if err != nil && ctx.Err() == nil {
			h.log.Error("media fetch", "error", err)
		}
		wait := time.Minute
		if !next.IsZero() {
			wait = min(max(next.Sub(h.clock.Now()), 10*time.Millisecond), time.Minute)
		}
		select {
		case <-ctx.Done():
			return
		case <-h.wakeMedia:
		case <-notify:
		case <-h.clock.After(wait):
		}
	}
}

// RunMediaFetches makes one attempt at every file due to be fetched now
// and returns how many it tried. Start runs it in the background unless
// Options.ManualMedia; tests call it directly.
func (h *Hub) RunMediaFetches(ctx context.Context) (int, error) {
	n, _, err := h.fetchDue(ctx)
	return n, err
}

// mediaWorkers bounds the downloads under way at once.
const mediaWorkers = 4

func (h *Hub) fetchDue(ctx context.Context) (int, time.Time, error) {
	now := h.clock.Now()
	files, next, err := h.store.ClaimMediaFetches(ctx, now, now.Add(h.opts.Lease), 20)
	if err != nil || len(files) == 0 {
		return 0, next, err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(files))
	sem := make(chan struct{}, mediaWorkers)
	for i, f := range files {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = h.store.SettleMediaFetch(ctx, f.ID, h.fetchOne(ctx, f))
		}()
	}
	wg.Wait()
	return len(files), next, errors.Join(errs...)
}

// fetchOne makes one attempt at one file and says what came of it.
func (h *Hub) fetchOne(ctx context.Context, f *backend.MediaFile) *backend.MediaFetch {
	now := h.clock.Now()
	retry := func(reason string, after time.Duration) *backend.MediaFetch {
		if f.Attempts >= h.opts.MaxAttempts {
			return &backend.MediaFetch{Reason: reason}
		}
		if after <= 0 {
			after = h.backoff(f.Attempts)
		}
		return &backend.MediaFetch{Reason: reason, RetryAt: now.Add(after)}
	}
	inst := h.lookup(f.Channel, f.Instance)
	if inst == nil {
		return retry("The channel is not configured or is disabled, so the file cannot be fetched now.", 0)
	}
	mf, ok := inst.connector.(MediaFetcher)
	if !ok {
		return &backend.MediaFetch{Reason: "This channel cannot fetch files from its platform."}
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	got, err := mf.FetchMedia(ctx, f.Source, h.opts.MaxMediaBytes)
	if err == nil {
		return &backend.MediaFetch{Data: got.Data, Type: got.Type, Name: got.Name}
	}
	var se *SendError
	if !errors.As(err, &se) {
		se = &SendError{Reason: "The file could not be fetched.", Err: err}
	}
	h.log.Warn("media fetch failed", "connector", f.Channel, "instance", f.Instance, "media", f.ID, "attempt", f.Attempts,
		"status", se.Status, "reason", se.Reason)
	if se.Permanent {
		return &backend.MediaFetch{Reason: se.Reason}
	}
	return retry(se.Reason, se.RetryAfter)
}
