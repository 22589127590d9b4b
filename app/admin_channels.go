package app

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"

	"switchboard/backend"
)

// api runs one admin call against the engine (online only).
func (a *App) api(method, path string, in, out any) error {
	return a.online(func(ctx context.Context, s *session) error {
		return s.client.Do(ctx, method, path, in, out)
	})
}

// instancePath is "/api/channels/{connector}/{instance}" with both escaped.
func instancePath(connector, instance string) string {
	return "/api/channels/" + url.PathEscape(connector) + "/" + url.PathEscape(instance)
}

// Connectors describes every connector's settings, for the channel form
// (admins only).
func (a *App) Connectors() ([]backend.ConnectorInfo, error) {
	var out []backend.ConnectorInfo
	return out, a.api("GET", "/api/connectors", nil, &out)
}

// ChannelStatuses lists the configured channels with their state, health
// and webhook URL (admins only).
func (a *App) ChannelStatuses() ([]backend.ChannelStatus, error) {
	out := []backend.ChannelStatus{}
	return out, a.api("GET", "/api/channels/status", nil, &out)
}

// SaveChannel validates and saves a channel's configuration; secrets left
// as "********" keep their stored value.
func (a *App) SaveChannel(connector, instance string, config json.RawMessage, enabled bool) error {
	return a.api("PUT", instancePath(connector, instance), map[string]any{"config": config, "enabled": enabled}, nil)
}

// TestChannel checks a channel's credentials with its platform: the
// unsaved config when given, else the saved one.
func (a *App) TestChannel(connector, instance string, config json.RawMessage) (backend.ChannelTest, error) {
	var out backend.ChannelTest
	body := map[string]any{}
	if len(config) > 0 && string(config) != "null" {
		body["config"] = config
	}
	return out, a.api("POST", instancePath(connector, instance)+"/test", body, &out)
}

// SetChannelEnabled turns a channel on or off.
func (a *App) SetChannelEnabled(connector, instance string, enabled bool) error {
	verb := "/disable"
	if enabled {
		verb = "/enable"
	}
	return a.api("POST", instancePath(connector, instance)+verb, nil, nil)
}

// RemoveChannel deletes a channel; its conversations stay.
func (a *App) RemoveChannel(connector, instance string) error {
	return a.api("DELETE", instancePath(connector, instance), nil, nil)
}

// EngineURL is the address of the engine this app is signed in to (for
// the web chat snippet and its preview).
func (a *App) EngineURL() (string, error) {
	s, err := a.current()
	if err != nil {
		return "", a.toUI(err)
	}
	return s.client.BaseURL, nil
}

// ImportedFlow is a Twilio Studio export mapped onto a flow, not saved,
// with the report of what could not be mapped.
type ImportedFlow struct {
	Flow   json.RawMessage `json:"flow"`
	Report json.RawMessage `json:"report"`
}

// ImportStudio maps a Twilio Studio export (the file's text) onto a flow.
func (a *App) ImportStudio(export string) (ImportedFlow, error) {
	var out ImportedFlow
	if !json.Valid([]byte(export)) {
		return out, a.toUI(backend.Errorf(backend.EInvalid, "The file is not a JSON Studio export."))
	}
	return out, a.api("POST", "/api/flows/import", json.RawMessage(export), &out)
}

// AuditLog returns up to 100 audit entries older than before (0: newest).
func (a *App) AuditLog(before int64) ([]backend.AuditEntry, error) {
	out := []backend.AuditEntry{}
	path := "/api/audit?limit=100"
	if before > 0 {
		path += "&before=" + strconv.FormatInt(before, 10)
	}
	return out, a.api("GET", path, nil, &out)
}
