package api

import (
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
	u := SessionFrom(r.Context()).User
	events, _, next, more, err := readPage(r.Context(), s.Store, u, s.workerID(r.Context(), u.ID), since, 0, int(limit))
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, SyncResponse{Events: events, Next: next, More: more})
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
