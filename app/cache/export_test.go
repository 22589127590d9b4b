package cache

import "database/sql"

// DB exposes the cache's database to the tests, to read rows as stored.
func DB(c *Cache) *sql.DB { return c.db }
