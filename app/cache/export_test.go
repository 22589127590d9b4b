package cache

import (
	"context"
	"database/sql"
)

// DB exposes the cache's database to the tests, to read rows as stored.
func DB(c *Cache) *sql.DB { return c.db }

// CatchUp runs the Syncer's catch-up over HTTP once: the snapshot for a
// fresh cache, then the feed's pages (no live feed, no outbox).
func CatchUp(s *Syncer, ctx context.Context) error { return s.catchUp(ctx) }
