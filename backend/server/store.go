package server

import (
	"context"
	"errors"
	"net/url"
	"path/filepath"

	"switchboard/backend"
	"switchboard/backend/postgres"
	"switchboard/backend/sqlite"
	"switchboard/channels"
	"switchboard/channels/webchat"
)

// Store is everything the engine keeps: backend/sqlite (one process, the
// default) or backend/postgres (several nodes on one database).
type Store interface {
	backend.Store
	backend.ChannelService
	backend.RoutingStore
	backend.FlowService
	// A flow's step and its bot replies are saved in one write.
	backend.FlowStepService
	webchat.Store
	backend.ReportService
	channels.ActivityStore
	// FindThreadConversation returns the newest unresolved conversation of
	// a platform thread. Returns ENotFound.
	FindThreadConversation(ctx context.Context, channel, instance, threadKey string) (*backend.Conversation, error)
	backend.BacklogReader
	// HasSecrets reports whether the store holds sealed secrets.
	HasSecrets(ctx context.Context) (bool, error)
	Close() error
}

var (
	_ Store = (*sqlite.DB)(nil)
	_ Store = (*postgres.DB)(nil)
)

// CheckStoreURL returns an error when a --store value is not a PostgreSQL
// URL (postgres:// or postgresql://). The error never repeats the value,
// which may hold a password.
func CheckStoreURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return errors.New("--store takes a PostgreSQL URL such as postgres://switchboard@db.example.com/switchboard " +
			"(leave it out for SQLite in --data)")
	}
	return nil
}

// OpenStore opens the store cfg names: PostgreSQL at cfg.Store, or SQLite
// (engine.db in cfg.DataDir) when that is empty.
func OpenStore(ctx context.Context, cfg Config) (Store, error) {
	var db interface {
		Store
		Open(ctx context.Context) error
	}
	if cfg.Store != "" {
		if err := CheckStoreURL(cfg.Store); err != nil {
			return nil, err
		}
		pg := postgres.NewDB(cfg.Store)
		pg.Logger = cfg.Logger
		configure(cfg, &pg.PasswordCost, &pg.Secrets)
		db = pg
	} else {
		if err := PrivateDir(cfg.DataDir); err != nil {
			return nil, err
		}
		lite := sqlite.NewDB(filepath.Join(cfg.DataDir, "engine.db"))
		configure(cfg, &lite.PasswordCost, &lite.Secrets)
		if cfg.LowMemory {
			lite.MaxReaders = 2
		}
		lite.Synchronous = cfg.Synchronous
		lite.Logger = cfg.Logger
		db = lite
	}
	if err := db.Open(ctx); err != nil {
		return nil, err
	}
	return db, nil
}

// configure sets a store's password cost and secret key from cfg.
func configure(cfg Config, cost *int, key *backend.Sealer) {
	if cfg.PasswordCost > 0 {
		*cost = cfg.PasswordCost
	}
	if cfg.SecretKey != nil {
		*key = cfg.SecretKey
	}
}
