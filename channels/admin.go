package channels

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"switchboard/backend"
)

// ActivityStore is the store's view of a channel instance's traffic; the
// SQLite store implements it. Without it the channel list shows no traffic.
type ActivityStore interface {
	ChannelActivity(ctx context.Context, connector, instance string, now time.Time) (*backend.ChannelActivity, error)
}

// healthBook remembers, per instance, the last error its poller or gateway
// reported, its last successful connection, when it reconnects and
// whether it stopped for good, for the admin console. The zero value is
// ready.
type healthBook struct {
	mu   sync.Mutex
	errs map[string]healthNote
}

type healthNote struct {
	msg string
	at  time.Time
	// connectedAt is the last time the platform accepted the connection.
	connectedAt time.Time
	// retryAt is when the poller reconnects (zero while connected).
	retryAt time.Time
	// stopped: the platform said retrying cannot help (FinalError).
	stopped bool
}

func (b *healthBook) update(key string, fn func(n *healthNote)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.errs == nil {
		b.errs = map[string]healthNote{}
	}
	n := b.errs[key]
	fn(&n)
	b.errs[key] = n
}

// note records an error; retryAt is when the poller tries again (zero:
// it does not reconnect by itself).
func (b *healthBook) note(key, msg string, at, retryAt time.Time) {
	b.update(key, func(n *healthNote) { n.msg, n.at, n.retryAt, n.stopped = msg, at, retryAt, false })
}

// stop records an error after which the poller stopped.
func (b *healthBook) stop(key, msg string, at time.Time) {
	b.update(key, func(n *healthNote) { n.msg, n.at, n.retryAt, n.stopped = msg, at, time.Time{}, true })
}

// connected records a connection the platform accepted.
func (b *healthBook) connected(key string, at time.Time) {
	b.update(key, func(n *healthNote) { n.connectedAt, n.retryAt, n.stopped = at, time.Time{}, false })
}

// healthText is the sentence the channel list shows for a poller's error.
// Connectors keep tokens out of their errors (TransportError drops URLs).
func healthText(err error) string {
	var se *SendError
	if errors.As(err, &se) && se.Reason != "" {
		return se.Reason
	}
	if backend.ErrorCode(err) != backend.EInternal {
		return backend.ErrorMessage(err)
	}
	return err.Error()
}

func (b *healthBook) forget(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.errs, key)
}

func (b *healthBook) last(key string) (healthNote, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, ok := b.errs[key]
	return n, ok
}

// Connectors describes every registered connector for the admin console.
func Connectors() []backend.ConnectorInfo {
	var out []backend.ConnectorInfo
	for _, info := range Registered() {
		out = append(out, backend.ConnectorInfo{ID: info.ID, Title: info.Title, Settings: slices.Clone(info.Settings),
			Webhook: info.Webhook, Testable: info.Testable})
	}
	return out
}

// Connectors implements the admin API's channel console.
func (h *Hub) Connectors() []backend.ConnectorInfo { return Connectors() }

// Statuses lists every configured instance with its state, health and
// webhook URL (built on the public URL, else on base, the address the
// admin reached the engine at). Secrets are redacted.
func (h *Hub) Statuses(ctx context.Context, base string) ([]*backend.ChannelStatus, error) {
	cis, err := h.store.FindChannelInstances(ctx)
	if err != nil {
		return nil, err
	}
	if h.opts.PublicURL != "" {
		base = h.opts.PublicURL
	}
	acts, _ := h.store.(ActivityStore)
	now := h.clock.Now()
	out := []*backend.ChannelStatus{}
	for _, ci := range cis {
		info, _ := Lookup(ci.Connector)
		st := &backend.ChannelStatus{ChannelInstance: *ci, Title: info.Title.En, SecretsSet: secretsSet(ci.Config, info.Secrets)}
		st.Config = RedactConfig(ci.Config, info.Secrets)
		if info.Webhook && base != "" {
			st.WebhookURL = strings.TrimRight(base, "/") + "/hooks/" + ci.Connector + "/" + ci.Instance
		}
		key := ci.Connector + "/" + ci.Instance
		switch {
		case !ci.Enabled:
			st.State = backend.ChannelDisabled
		case h.lookup(ci.Connector, ci.Instance) != nil:
			st.State = backend.ChannelRunning
			if n, ok := h.health.last(key); ok {
				st.Error, st.ErrorAt, st.ConnectedAt, st.RetryAt = n.msg, n.at, n.connectedAt, n.retryAt
				if n.stopped {
					st.State = backend.ChannelStopped
				}
			}
		default:
			st.State = backend.ChannelError
			st.Error = "The configuration no longer works: "
			if _, err := h.build(ci); err != nil {
				st.Error += backend.ErrorMessage(err)
			}
		}
		if acts != nil {
			a, err := acts.ChannelActivity(ctx, ci.Connector, ci.Instance, now)
			if err != nil {
				return nil, err
			}
			st.ChannelActivity = *a
		}
		out = append(out, st)
	}
	return out, nil
}

// secretsSet lists the secret keys of a configuration that hold a value.
func secretsSet(raw json.RawMessage, secrets []string) []string {
	var m map[string]json.RawMessage
	json.Unmarshal(raw, &m)
	out := []string{}
	for _, k := range secrets {
		if v, ok := m[k]; ok && string(v) != `""` && string(v) != "null" {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// SetEnabled turns an instance on or off and reloads: a disabled instance
// refuses webhooks and sends nothing. Returns ENotFound.
func (h *Hub) SetEnabled(ctx context.Context, connector, instance string, enabled bool) (*backend.ChannelInstance, error) {
	ci, err := h.store.FindChannelInstance(ctx, connector, instance)
	if err != nil {
		return nil, err
	}
	ci.Enabled = enabled
	if err := h.store.PutChannelInstance(ctx, ci); err != nil {
		return nil, err
	}
	h.health.forget(connector + "/" + instance)
	info, _ := Lookup(connector)
	ci.Config = RedactConfig(ci.Config, info.Secrets)
	return ci, h.reload(ctx, connector+"/"+instance)
}

// RemoveInstance deletes an instance and reloads. Its conversations and
// messages stay. Returns ENotFound.
func (h *Hub) RemoveInstance(ctx context.Context, connector, instance string) error {
	if err := h.store.DeleteChannelInstance(ctx, connector, instance); err != nil {
		return err
	}
	h.health.forget(connector + "/" + instance)
	return h.Reload(ctx)
}

// TestInstance checks an instance's credentials with its platform. With a
// config, that unsaved configuration is tested (secrets left as the
// Redacted placeholder keep their stored value); without, the stored one.
// A configuration the connector rejects is EInvalid; a connector that
// cannot test gets EInvalid too. A failed test is a ChannelTest with OK
// false, not an error.
func (h *Hub) TestInstance(ctx context.Context, connector, instance string, config json.RawMessage) (*backend.ChannelTest, error) {
	info, ok := Lookup(connector)
	if !ok {
		return nil, backend.Errorf(backend.EInvalid, "There is no %q connector.", connector)
	}
	ci := &backend.ChannelInstance{Connector: connector, Instance: instance, Config: config}
	stored, err := h.store.FindChannelInstance(ctx, connector, instance)
	switch {
	case err == nil && len(config) == 0:
		ci = stored
	case err == nil:
		if ci.Config, err = keepSecrets(config, stored.Config, info.Secrets); err != nil {
			return nil, err
		}
	case backend.ErrorCode(err) != backend.ENotFound:
		return nil, err
	case len(config) == 0:
		return nil, err
	}
	inst, err := h.build(ci)
	if err != nil {
		return nil, err
	}
	t, ok := inst.connector.(Tester)
	if !ok {
		return nil, backend.Errorf(backend.EInvalid, "%s has no connection test; send a test message instead.", info.Title.En)
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	detail, err := t.TestConnection(ctx)
	res := &backend.ChannelTest{OK: err == nil, Detail: detail, At: h.clock.Now().UTC()}
	if err != nil {
		res.Detail = backend.ErrorMessage(err)
	}
	return res, nil
}
