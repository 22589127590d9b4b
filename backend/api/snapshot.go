package api

import (
	"bufio"
	"encoding/json"
	"net/http"

	"switchboard/backend"
)

// SnapshotMessages is how many of each conversation's newest messages a
// snapshot holds unless the request asks for another number; older ones
// load when the conversation is opened.
const SnapshotMessages = 50

// maxSnapshotMessages bounds the messages per conversation a request may
// ask for.
const maxSnapshotMessages = 1000

// SnapshotLine is one line of GET /api/sync/snapshot, a stream of JSON
// lines (application/x-ndjson): first Start, then one Event per line, then
// End, or Error when reading failed part way (the snapshot is then
// incomplete and must be taken again).
type SnapshotLine struct {
	Start *SnapshotStart `json:"start,omitempty"`
	Event *backend.Event `json:"event,omitempty"`
	End   *SnapshotEnd   `json:"end,omitempty"`
	Error *ErrorBody     `json:"error,omitempty"`
}

// SnapshotStart opens a snapshot.
type SnapshotStart struct {
	// Seq is the change feed's sequence the snapshot is consistent with:
	// the client follows the feed (GET /api/sync?since=Seq) from it.
	Seq int64 `json:"seq"`
	// Conversations is how many conversations the snapshot may hold (the
	// user's readable ones), for progress.
	Conversations int `json:"conversations"`
	// Messages is the most messages it holds per conversation.
	Messages int `json:"messages"`
	// Engine names the feed Seq belongs to.
	Engine backend.FeedIdentity `json:"engine"`
}

// SnapshotEnd closes a complete snapshot.
type SnapshotEnd struct {
	// Events counts the events sent.
	Events int `json:"events"`
}

// ErrorBody is an error's code and sentence.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// handleSnapshot streams what the signed-in user may see, as change-feed
// events all at the snapshot's sequence, filtered by the same policy as the
// feed (feedAccess.canSee) with the readable conversations read in the
// snapshot's own transaction.
func (s *Server) handleSnapshot(w http.ResponseWriter, r *http.Request) {
	perConv, err := queryInt(r, "messages", SnapshotMessages)
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	if perConv < 1 || perConv > maxSnapshotMessages {
		Error(w, r, s.Logger, backend.Errorf(backend.EInvalid, "messages must be between 1 and %d.", maxSnapshotMessages))
		return
	}
	id, err := s.Store.FeedIdentity(r.Context())
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	u := SessionFrom(r.Context()).User
	req := backend.SnapshotRequest{Messages: int(perConv)}
	if !privileged(&u) {
		req.ReaderID = u.ID
	}
	workerID := s.workerID(r.Context(), u.ID)
	buf := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(buf)
	var acc *feedAccess
	var seq int64
	sent := 0
	err = s.Store.SyncSnapshot(r.Context(), req, backend.SnapshotSink{
		Start: func(st backend.SnapshotStart) error {
			acc, seq = newFeedAccess(u, workerID, st.Readable), st.Seq
			w.Header().Set("Content-Type", "application/x-ndjson")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusOK)
			return enc.Encode(SnapshotLine{Start: &SnapshotStart{Seq: st.Seq, Conversations: st.Conversations, Messages: int(perConv), Engine: id}})
		},
		Event: func(e backend.Event) error {
			if !acc.canSee(&e) {
				return nil
			}
			e.Seq, sent = seq, sent+1
			return writeEventLine(buf, &e)
		},
	})
	switch {
	case err != nil && acc == nil:
		Error(w, r, s.Logger, err) // nothing sent yet: an ordinary error answer
		return
	case err != nil:
		if backend.ErrorCode(err) == backend.EInternal {
			s.Logger.Error("sync snapshot", "err", err)
		}
		enc.Encode(SnapshotLine{Error: &ErrorBody{Code: backend.ErrorCode(err), Message: backend.ErrorMessage(err)}})
	default:
		enc.Encode(SnapshotLine{End: &SnapshotEnd{Events: sent}})
	}
	buf.Flush()
}
