package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/sqlite"
)

// holdWriter occupies the writer with a transaction that waits until
// release is called, so that what is submitted meanwhile waits for the
// next batch. done receives that transaction's result.
func holdWriter(t *testing.T, db *sqlite.DB) (release func(), done <-chan error) {
	t.Helper()
	started, hold := make(chan struct{}), make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- db.Update(context.Background(), func(tx *sqlite.Tx) error {
			close(started)
			<-hold
			return nil
		})
	}()
	<-started
	var once sync.Once
	release = func() { once.Do(func() { close(hold) }) }
	t.Cleanup(release)
	return release, errc
}

// waitQueued waits until n transactions wait for the writer.
func waitQueued(t *testing.T, db *sqlite.DB, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for db.WriterStats().Queued < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d transactions queued, want %d", db.WriterStats().Queued, n)
		}
		runtime.Gosched()
	}
}

// appendOp is a transaction that appends one test event named id.
func appendOp(id string, fail error) func(tx *sqlite.Tx) error {
	return func(tx *sqlite.Tx) error {
		if err := tx.AppendEvent(context.Background(), "test.op", id, map[string]string{"id": id}); err != nil {
			return err
		}
		return fail
	}
}

// eventIDs returns the entity ids of the test events after since, in
// sequence order, checking that the sequence has no gaps.
func eventIDs(t *testing.T, db *sqlite.DB, since int64) []string {
	t.Helper()
	events, err := db.EventsSince(context.Background(), since, 10000)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i, e := range events {
		if e.Seq != since+int64(i)+1 {
			t.Fatalf("event %d has seq %d after %d: a gap in the feed", i, e.Seq, since)
		}
		if e.Type == "test.op" {
			ids = append(ids, e.EntityID)
		}
	}
	return ids
}

// A transaction that fails inside a batch rolls back its own work only:
// the others of the batch commit, in one commit, and the feed has no gap
// where the failed one's events were.
func TestWriter_FailureRollsBackOnlyItsOwnWork(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	since, _ := db.LastSeq(ctx)
	release, held := holdWriter(t, db)
	before := db.WriterStats()
	boom := backend.Errorf(backend.EConflict, "refused")
	type result struct {
		id       string
		err      error
		panicked any
	}
	results := make(chan result, 8)
	submit := func(id string, fn func(tx *sqlite.Tx) error) {
		go func() {
			r := result{id: id}
			defer func() {
				r.panicked = recover()
				results <- r
			}()
			r.err = db.Update(ctx, fn)
		}()
	}
	for i, fail := range []error{nil, nil, boom, nil, nil} {
		submit(fmt.Sprintf("op%d", i), appendOp(fmt.Sprintf("op%d", i), fail))
		waitQueued(t, db, i+1)
	}
	submit("panics", func(tx *sqlite.Tx) error {
		appendOp("panics", nil)(tx)
		panic("a bug in one transaction")
	})
	waitQueued(t, db, 6)
	release()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	got := map[string]result{}
	for range 6 {
		r := <-results
		got[r.id] = r
	}
	for id, r := range got {
		switch id {
		case "op2":
			if !errors.Is(r.err, boom) {
				t.Errorf("op2: %v, want its own error", r.err)
			}
		case "panics":
			if r.panicked == nil {
				t.Error("a panicking transaction did not panic in its caller")
			}
		default:
			if r.err != nil || r.panicked != nil {
				t.Errorf("%s: %v %v, want committed", id, r.err, r.panicked)
			}
		}
	}
	if ids := fmt.Sprint(eventIDs(t, db, since)); ids != "[op0 op1 op3 op4]" {
		t.Fatalf("committed events %s, want [op0 op1 op3 op4]", ids)
	}
	after := db.WriterStats()
	if after.Batches-before.Batches != 2 || after.Transactions-before.Transactions != 7 {
		t.Fatalf("%d batches for %d transactions, want the holder's and one for the six", after.Batches-before.Batches,
			after.Transactions-before.Transactions)
	}
}

// A caller is answered only after its batch committed: when the commit
// fails every caller of the batch gets the error and nothing of the batch
// is in the store; when it succeeds, what a caller wrote is readable on
// another connection the moment it is answered.
func TestWriter_NoCallerAnsweredBeforeCommit(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	since, _ := db.LastSeq(ctx)
	diskFull := errors.New("disk full")
	var answered atomic.Int32
	var seenAtCommit []int32
	var visibleAtCommit []int
	db.SetBeforeCommit(func(ops int) error {
		seenAtCommit = append(seenAtCommit, answered.Load())
		events, _ := db.EventsSince(ctx, since, 100)
		visibleAtCommit = append(visibleAtCommit, len(events))
		if ops > 1 {
			return diskFull
		}
		return nil
	})
	release, held := holdWriter(t, db)
	errs := make(chan error, 4)
	for i := range 4 {
		go func() {
			err := db.Update(ctx, appendOp(fmt.Sprintf("lost%d", i), nil))
			answered.Add(1)
			errs <- err
		}()
	}
	waitQueued(t, db, 4)
	release()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if err := <-errs; !errors.Is(err, diskFull) {
			t.Fatalf("a caller of a batch whose commit failed got %v", err)
		}
	}
	if ids := eventIDs(t, db, since); len(ids) != 0 {
		t.Fatalf("a batch that did not commit left %v", ids)
	}
	if seenAtCommit[1] != 0 || visibleAtCommit[1] != 0 {
		t.Fatalf("before the commit %d callers were answered and %d events visible", seenAtCommit[1], visibleAtCommit[1])
	}

	// Committed batches: each caller reads its own event through the
	// read pool as soon as it is answered.
	db.SetBeforeCommit(nil)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("kept%d", i)
			if err := db.Update(ctx, appendOp(id, nil)); err != nil {
				t.Error(err)
				return
			}
			var n int
			if err := db.Reader().QueryRow(`SELECT COUNT(*) FROM events WHERE type = 'test.op' AND entity_id = ?`, id).Scan(&n); err != nil || n != 1 {
				t.Errorf("%s answered but %d rows readable (%v)", id, n, err)
			}
		}()
	}
	wg.Wait()
}

// Concurrent writers, some failing, never leave a gap or a reordering in
// the change feed: a reader following it sees every committed event once,
// in sequence, and each writer's events in the order it wrote them.
func TestWriter_FeedOrderIsPreserved(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	since, _ := db.LastSeq(ctx)
	const writers, each = 8, 40
	notify, stop := db.Notify()
	defer stop()
	var wg sync.WaitGroup
	var committed atomic.Int64
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				var fail error
				if i%5 == 4 {
					fail = errors.New("refused")
				}
				err := db.Update(ctx, appendOp(fmt.Sprintf("w%d-%03d", w, i), fail))
				if (err == nil) != (fail == nil) {
					t.Errorf("writer %d op %d: %v", w, i, err)
				}
				if err == nil {
					committed.Add(1)
				}
			}
		}()
	}
	writersDone := make(chan struct{})
	go func() { wg.Wait(); close(writersDone) }()
	last := map[int]string{}
	seen, cursor := 0, since
	for done := false; ; {
		events, err := db.EventsSince(ctx, cursor, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			if e.Seq != cursor+1 {
				t.Fatalf("feed jumped from %d to %d", cursor, e.Seq)
			}
			cursor = e.Seq
			var w, i int
			if _, err := fmt.Sscanf(e.EntityID, "w%d-%d", &w, &i); err != nil {
				t.Fatalf("event %q: %v", e.EntityID, err)
			}
			if i%5 == 4 {
				t.Fatalf("the failed transaction %s is on the feed", e.EntityID)
			}
			if e.EntityID <= last[w] {
				t.Fatalf("writer %d: %s after %s", w, e.EntityID, last[w])
			}
			last[w] = e.EntityID
			seen++
		}
		if done && len(events) == 0 {
			break
		}
		select {
		case <-notify:
		case <-writersDone:
			done = true
		}
	}
	if int64(seen) != committed.Load() || seen != writers*each*4/5 {
		t.Fatalf("the feed carried %d events, %d were committed", seen, committed.Load())
	}
}

// A caller that gave up before its turn is told so and writes nothing;
// the rest of its batch commits.
func TestWriter_CallerThatLeftBeforeItsTurn(t *testing.T) {
	db := MustOpenDB(t)
	since, _ := db.LastSeq(context.Background())
	release, held := holdWriter(t, db)
	gone, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 2)
	go func() { errs <- db.Update(gone, appendOp("gone", nil)) }()
	waitQueued(t, db, 1)
	go func() { errs <- db.Update(context.Background(), appendOp("stays", nil)) }()
	waitQueued(t, db, 2)
	cancel()
	release()
	<-held
	got := []error{<-errs, <-errs}
	if !(errors.Is(got[0], context.Canceled) != errors.Is(got[1], context.Canceled)) || (got[0] != nil && got[1] != nil) {
		t.Fatalf("results %v, want one canceled and one committed", got)
	}
	if ids := fmt.Sprint(eventIDs(t, db, since)); ids != "[stays]" {
		t.Fatalf("committed %s", ids)
	}
}

// The engine's default makes a commit durable before it returns.
func TestWriter_SynchronousFullByDefault(t *testing.T) {
	db := MustOpenDB(t)
	v, err := db.WriterPragma(context.Background(), "synchronous")
	if err != nil || v != "2" {
		t.Fatalf("synchronous = %q (%v), want 2 (FULL)", v, err)
	}
}
