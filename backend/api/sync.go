package api

import (
	"context"
	"net/http"
	"strconv"

	"switchboard/backend"
)

// SyncPageSize is the default and largest page of the sync feed.
const SyncPageSize = 1000

// SyncResponse is one page of the change feed, as the signed-in user may
// see it.
type SyncResponse struct {
	Events []backend.Event `json:"events"`
	// Next is the log position to ask for next: the last event the page
	// looked at, whether or not it was for this user.
	Next int64 `json:"next"`
	// More says whether events after Next existed when the page was read.
	More bool `json:"more"`
	// Head is the feed's newest sequence when the page was read; with
	// since and Next it tells a client how far a first sync has come.
	Head int64 `json:"head"`
	// Engine names the feed: a client whose cursor belongs to another
	// engine or epoch, or is above Head, starts again from 0.
	Engine backend.FeedIdentity `json:"engine"`
}

func (s *Server) handleSync(w http.ResponseWriter, r *http.Request) {
	since, err := queryInt(r, "since", 0)
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	limit, err := queryInt(r, "limit", SyncPageSize)
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	if since < 0 || limit < 1 || limit > SyncPageSize {
		Error(w, r, s.Logger, backend.Errorf(backend.EInvalid, "since must be 0 or more and limit between 1 and %d.", SyncPageSize))
		return
	}
	// Head and identity are read first: events committed in between only
	// make the page end past Head, never the other way round.
	head, id, err := s.feedPosition(r.Context())
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	u := SessionFrom(r.Context()).User
	events, _, next, more, err := readPage(r.Context(), s.Store, u, s.workerID(r.Context(), u.ID), since, 0, int(limit))
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	if events == nil {
		events = []backend.Event{}
	}
	// A page that moved past head read events committed after it; a
	// cursor above head (a store restored from an older backup) leaves
	// head as it is, so the client sees it is ahead of the engine.
	if next > since {
		head = max(head, next)
	}
	writeJSON(w, http.StatusOK, SyncResponse{Events: events, Next: next, More: more, Head: head, Engine: id})
}

// feedPosition returns the change feed's newest sequence and identity.
func (s *Server) feedPosition(ctx context.Context) (int64, backend.FeedIdentity, error) {
	head, err := s.Store.LastSeq(ctx)
	if err != nil {
		return 0, backend.FeedIdentity{}, err
	}
	id, err := s.Store.FeedIdentity(ctx)
	return head, id, err
}

func queryInt(r *http.Request, name string, def int64) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, backend.Errorf(backend.EInvalid, "Query parameter %s must be a whole number, not %q.", name, v)
	}
	return n, nil
}
