package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"

	"switchboard/backend"
)

// SnapshotStart opens a sync snapshot: the feed's sequence it is
// consistent with, how many conversations it may hold and the feed's
// identity.
type SnapshotStart struct {
	Seq           int64                `json:"seq"`
	Conversations int                  `json:"conversations"`
	Messages      int                  `json:"messages"`
	Engine        backend.FeedIdentity `json:"engine"`
}

// snapshotLine is one line of GET /api/sync/snapshot.
type snapshotLine struct {
	Start *SnapshotStart `json:"start"`
	Event *backend.Event `json:"event"`
	End   *struct {
		Events int `json:"events"`
	} `json:"end"`
	Error *struct{ Code, Message string } `json:"error"`
}

// Snapshot reads what the signed-in user may see (GET /api/sync/snapshot,
// at most messages of each conversation's newest messages; 0 is the
// engine's default) as it streams in: start once, then event for each
// entity, in order. It returns an error unless the snapshot arrived whole;
// an engine without the route gives ENotFound.
func (c *Client) Snapshot(ctx context.Context, messages int, start func(SnapshotStart) error, event func(backend.Event) error) error {
	path := "/api/sync/snapshot"
	if messages > 0 {
		path += "?" + url.Values{"messages": {fmt.Sprint(messages)}}.Encode()
	}
	return c.send(ctx, "GET", path, "", nil, func(body io.Reader) error {
		dec := json.NewDecoder(body)
		started := false
		for {
			var line snapshotLine
			if err := dec.Decode(&line); err != nil {
				if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
					return backend.Errorf(backend.EUnavailable, "The server's snapshot broke off before its end.")
				}
				return fmt.Errorf("decode snapshot: %w", err)
			}
			switch {
			case line.Start != nil && !started:
				started = true
				if err := start(*line.Start); err != nil {
					return err
				}
			case !started:
				return backend.Errorf(backend.EUnavailable, "The server's snapshot did not say where it starts.")
			case line.Event != nil:
				if err := event(*line.Event); err != nil {
					return err
				}
			case line.End != nil:
				return nil
			case line.Error != nil:
				return &backend.Error{Code: line.Error.Code, Message: line.Error.Message}
			}
		}
	})
}

// Messages returns every message and note of a conversation, oldest first.
func (c *Client) Messages(ctx context.Context, conversationID string) ([]*backend.Message, error) {
	var out []*backend.Message
	return out, c.do(ctx, "GET", "/api/conversations/"+url.PathEscape(conversationID)+"/messages", nil, &out)
}
