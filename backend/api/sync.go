package api

import (
	"net/http"
	"strconv"

	"switchboard/backend"
)

// SyncPageSize is the default and largest page of the sync feed.
const SyncPageSize = 1000

// SyncResponse is one page of the change feed.
type SyncResponse struct {
	Events []backend.Event `json:"events"`
	// Next is the sequence to ask for next (the last event's, or since).
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
	events, err := s.Store.EventsSince(r.Context(), since, int(limit)+1)
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	resp := SyncResponse{Events: events, Next: since}
	if len(events) > int(limit) {
		resp.Events, resp.More = events[:limit], true
	}
	if resp.Events == nil {
		resp.Events = []backend.Event{}
	}
	if n := len(resp.Events); n > 0 {
		resp.Next = resp.Events[n-1].Seq
	}
	writeJSON(w, http.StatusOK, resp)
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
