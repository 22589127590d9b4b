// Package storetest is the conformance suite of the engine's stores: the
// same tests run against SQLite (backend/sqlite) and PostgreSQL
// (backend/postgres), each package handing Run a Backend that opens its
// store, so the two can never drift.
package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/secret"
)

// Store is everything the suite exercises: every service of the engine's
// store.
type Store interface {
	backend.Store
	backend.ChannelService
	backend.RoutingStore
	backend.FlowService
	backend.FlowStepService
	// ImportInbound stores a batch of inbound messages in one transaction.
	ImportInbound(ctx context.Context, batch []*backend.InboundMessage) (int, error)
	backend.ReportService
	// WebchatKey returns a named web chat server key, made on first use.
	WebchatKey(ctx context.Context, name string) ([]byte, error)
	// The web chat visitors' uploads (channels/webchat's Store).
	PutWebchatUpload(ctx context.Context, id, instance, subject, name, typ string, data []byte, q backend.UploadQuota) error
	AttachWebchatUploads(ctx context.Context, instance, subject string, ids []string, urlOf func(id string) string) ([]backend.Attachment, error)
	WebchatUpload(ctx context.Context, instance, id string) (subject, name, typ string, data []byte, err error)
	DeleteOrphanWebchatUploads(ctx context.Context, cutoff time.Time) (int, error)
	backend.BacklogReader
	// HasSecrets reports whether the store holds secrets.
	HasSecrets(ctx context.Context) (bool, error)
	Close() error
}

// Options say how the suite opens a store.
type Options struct {
	// Key seals secrets; nil opens the store without a key.
	Key *secret.Key
	// Now is the store's clock.
	Now func() time.Time
	// SessionIdle and SessionMaxAge are the session lifetimes (zero: the
	// defaults).
	SessionIdle, SessionMaxAge time.Duration
}

// Backend opens stores of one kind.
type Backend struct {
	// Name says which store, in test names.
	Name string
	// New returns where a new, empty store lives (a file, a database URL).
	New func(tb testing.TB) string
	// Open opens the store at where with o (with a low password cost, for
	// speed). The suite closes it, also at cleanup.
	Open func(tb testing.TB, where string, o Options) (Store, error)
	// Rows counts the rows of one of the store's tables, for the tests of
	// how much a write stores.
	Rows func(tb testing.TB, s Store, table string) int
}

// harness opens stores of a Backend for one test.
type harness struct {
	b Backend
}

// open opens a new store with a new key and the wall clock.
func (h harness) open(t *testing.T) Store {
	t.Helper()
	return h.openWith(t, h.b.New(t), Options{Key: secret.MustNew()})
}

// openClock opens a new store on a clock the test moves.
func (h harness) openClock(t *testing.T, c *clock, o Options) Store {
	t.Helper()
	o.Key, o.Now = secret.MustNew(), c.Now
	return h.openWith(t, h.b.New(t), o)
}

// openWith opens the store at where with o, failing the test on error.
func (h harness) openWith(t *testing.T, where string, o Options) Store {
	t.Helper()
	if o.Now == nil {
		o.Now = time.Now
	}
	s, err := h.b.Open(t, where, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// clock is a time a test sets.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the set time, or the wall clock when none is set.
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.t.IsZero() {
		return time.Now()
	}
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Run runs the whole suite against b, one subtest per store test.
func Run(t *testing.T, b Backend) {
	h := harness{b}
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, harness)
	}{
		{"ReopenKeepsTheLog", testReopenKeepsTheLog},
		{"FeedIdentity_KeptAcrossReopening", testFeedIdentity},
		{"MessageTimes_ThePlatformsNeverTheFuture", testMessageTimes},
		{"NotifyAfterCommit", testNotifyAfterCommit},
		{"StoreInbound_DedupesRedelivery", testStoreInboundDedupesRedelivery},
		{"StoreInbound_PhoneIsOneContactAcrossChannels", testPhoneIsOneContactAcrossChannels},
		{"MergeContacts_JoinsHistories", testMergeContactsJoinsHistories},
		{"StoreOutbound_IdempotentByClientID", testStoreOutboundIdempotentByClientID},
		{"SetDeliveryStatus_OnlyMovesForward", testSetDeliveryStatusOnlyMovesForward},
		{"EventsSince_CarryEntities", testEventsSinceCarryEntities},
		{"SyncSnapshot_WhatTheReaderMayRead", testSyncSnapshot},
		{"PruneEvents_KeepsWhatSessionsHaveNotRead", testPruneEvents},
		{"ImportInbound_OneTransactionWithDedupe", testImportInboundOneTransaction},
		{"Attachments_UnsafeURLsNeverStored", testAttachmentsUnsafeURLsNeverStored},
		{"Media_FetchedOnceAndSettled", testMediaFetchedOnceAndSettled},
		{"Media_RepliesCarryTheirConversationsFiles", testMediaRepliesCarryTheirConversationsFiles},
		{"Media_WebchatUploadsBecomeConversationFiles", testMediaWebchatUploadsBecomeConversationFiles},
		{"PollerState_SavedAndRead", testPollerStateSavedAndRead},
		{"StoreInbound_MailFieldsAndReferencedThread", testInboundMailFieldsAndReferencedThread},
		{"Authenticate", testAuthenticate},
		{"Sessions_IdleAbsoluteRevokedAndPurged", testSessions},
		{"CannedResponses", testCannedResponses},
		{"Access_FollowsRoutingAndTheCustomersHistory", testAccess},
		{"Access_QueueReadersAreOneSharedGroup", testAccessQueueGroups},
		{"Contacts_NewIdentityAsStored", testNewContactAsStored},
		{"FlowStore_Revisions", testFlowRevisions},
		{"FlowStore_ExecutionCompareAndSet", testFlowExecutionCompareAndSet},
		{"FlowStore_StepOneWrite", testFlowStepOneWrite},
		{"Outbox_EnqueueClaimComplete", testOutbox},
		{"Outbox_PeopleBeforeBots", testOutboxPeopleBeforeBots},
		{"Outbox_OnlyStartedSendsAreInDoubt", testOutboxOnlyStartedSendsAreInDoubt},
		{"Backlog_CountsPendingWork", testBacklogCountsPendingWork},
		{"Channel_ThreadStatusAndInboundCursor", testThreadStatusAndInboundCursor},
		{"Routing_SaveAndLoad", testRoutingSaveAndLoad},
		{"Routing_OneActiveReservationPerTask", testRoutingOneActiveReservation},
		{"Routing_WorkerUserIsUnique", testRoutingWorkerUserIsUnique},
		{"Secrets_SealedAndRedacted", testSecretsSealedAndRedacted},
		{"Secrets_WithoutKey", testSecretsWithoutKey},
		{"Report_FiguresByDayWeekAndGroup", testReportFiguresByDayWeekAndGroup},
		{"Report_DaysFollowTheTimeZone", testReportDaysFollowTheTimeZone},
		{"QueueAndAgentFigures_Today", testQueueAndAgentFiguresToday},
		{"QueueHistory_PastHourFromTasks", testQueueHistoryPastHourFromTasks},
		{"Concurrent_OneCustomerOneConversation", testConcurrentOneCustomer},
		{"Concurrent_FeedHasNoGapThatFillsLater", testFeedNoGaps},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, h) })
	}
}
