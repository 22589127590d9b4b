package app

import (
	"path/filepath"

	"switchboard/backend"
	"switchboard/backend/secret"
)

// engineKey returns the embedded engine's secret key from the OS keyring,
// creating it on the first start. The key seals the engine's channel
// secrets in its database and is never written to disk; each data
// directory has its own.
func (a *App) engineKey() (*secret.Key, error) {
	dir, err := filepath.Abs(a.cfg.DataDir)
	if err != nil {
		return nil, err
	}
	account := "engine-key|" + dir
	text, err := a.keychain.Get(account)
	if backend.ErrorCode(err) == backend.ENotFound {
		if text, err = secret.Generate(); err != nil {
			return nil, err
		}
		err = a.keychain.Set(account, text)
	}
	if err != nil {
		return nil, err
	}
	return secret.Parse(text)
}
