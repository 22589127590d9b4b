package app

import (
	"context"
	"encoding/json"
	"net/url"
	"sort"
	"strings"

	"switchboard/backend"
)

// FlowInstance is a channel instance whose flow an admin can edit.
type FlowInstance struct {
	Key       string `json:"key"`
	Connector string `json:"connector"`
	Instance  string `json:"instance"`
}

// FlowInstances lists the configured channel instances (admins only).
func (a *App) FlowInstances() ([]FlowInstance, error) {
	var list []backend.ChannelInstance
	if err := a.online(func(ctx context.Context, s *session) error {
		return s.client.Do(ctx, "GET", "/api/channels", nil, &list)
	}); err != nil {
		return nil, err
	}
	out := []FlowInstance{}
	for _, ci := range list {
		out = append(out, FlowInstance{Key: backend.FlowKey(ci.Connector, ci.Instance), Connector: ci.Connector, Instance: ci.Instance})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// FlowDocument is a channel instance's flow as the editor shows it.
type FlowDocument struct {
	Key       string          `json:"key"`
	Flow      json.RawMessage `json:"flow"`
	Revision  int             `json:"revision"`
	IsDefault bool            `json:"isDefault"`
}

// flowPath turns "connector/instance" into the API path.
func flowPath(key string) (string, error) {
	connector, instance, ok := strings.Cut(key, "/")
	if !ok || connector == "" || instance == "" {
		return "", backend.Errorf(backend.EInvalid, "%q is not a channel instance (connector/instance).", key)
	}
	return "/api/flows/" + url.PathEscape(connector) + "/" + url.PathEscape(instance), nil
}

// GetFlow returns the flow of a channel instance (the default when none is set).
func (a *App) GetFlow(key string) (FlowDocument, error) {
	var rev struct {
		Key      string          `json:"key"`
		Revision int             `json:"revision"`
		Flow     json.RawMessage `json:"flow"`
	}
	err := a.online(func(ctx context.Context, s *session) error {
		path, err := flowPath(key)
		if err != nil {
			return err
		}
		return s.client.Do(ctx, "GET", path, nil, &rev)
	})
	return FlowDocument{Key: key, Flow: rev.Flow, Revision: rev.Revision, IsDefault: rev.Revision == 0}, err
}

// SavedFlow says which revision a save made.
type SavedFlow struct {
	Revision int `json:"revision"`
}

// SaveFlow validates and saves a flow; an invalid one is refused with the
// problems listed.
func (a *App) SaveFlow(key, flowJSON string) (SavedFlow, error) {
	var out SavedFlow
	err := a.online(func(ctx context.Context, s *session) error {
		path, err := flowPath(key)
		if err != nil {
			return err
		}
		return s.client.Do(ctx, "PUT", path, json.RawMessage(flowJSON), &out)
	})
	return out, err
}

// FlowTest is a dry run's result: the path each message took.
type FlowTest struct {
	Runs json.RawMessage `json:"runs"`
}

// TestFlow dry-runs messages through a flow: nothing is sent and no task
// is created.
func (a *App) TestFlow(flowJSON string, messages []string) (FlowTest, error) {
	var out FlowTest
	if !json.Valid([]byte(flowJSON)) {
		return out, a.toUI(backend.Errorf(backend.EInvalid, "The flow is not valid JSON."))
	}
	if messages == nil {
		messages = []string{}
	}
	err := a.online(func(ctx context.Context, s *session) error {
		return s.client.Do(ctx, "POST", "/api/flows/test", map[string]any{"flow": json.RawMessage(flowJSON), "messages": messages}, &out)
	})
	return out, err
}
