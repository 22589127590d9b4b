package backend

import "time"

// Text is a sentence shown to admins, in English and Spanish.
type Text struct {
	En string `json:"en"`
	Es string `json:"es"`
}

// ChannelSetting describes one field of a connector's configuration, so the
// admin console builds its form from the connector's own description.
type ChannelSetting struct {
	// Key is the field's JSON name in the configuration.
	Key   string `json:"key"`
	Label Text   `json:"label"`
	Help  Text   `json:"help"`
	// Kind is how the form edits the field: text, secret (write-only),
	// number, bool, select, list, url, email or hostport.
	Kind     string   `json:"kind"`
	Required bool     `json:"required,omitempty"`
	Options  []string `json:"options,omitempty"`
	// Placeholder shows an example value.
	Placeholder string `json:"placeholder,omitempty"`
}

// ConnectorInfo describes a connector type for the admin console.
type ConnectorInfo struct {
	ID       string           `json:"id"`
	Title    Text             `json:"title"`
	Settings []ChannelSetting `json:"settings"`
	// Webhook is true when the platform posts to the instance's webhook URL.
	Webhook bool `json:"webhook"`
	// Testable is true when the connector can test its credentials.
	Testable bool `json:"testable"`
}

// Channel instance states, as the admin console shows them.
const (
	ChannelRunning  = "running"
	ChannelDisabled = "disabled"
	// ChannelError means the instance is enabled but its configuration no
	// longer builds (see ChannelStatus.Error).
	ChannelError = "error"
	// ChannelStopped means the platform refused the instance in a way
	// retrying cannot fix (a revoked token, a refused login): it stays
	// stopped until its settings are saved again (see ChannelStatus.Error).
	ChannelStopped = "stopped"
)

// ChannelActivity is what the store knows about an instance's traffic.
type ChannelActivity struct {
	LastInboundAt time.Time `json:"lastInboundAt,omitzero"`
	LastSentAt    time.Time `json:"lastSentAt,omitzero"`
	// FailedReplies counts replies that failed for good in the last 24 hours.
	FailedReplies int `json:"failedReplies"`
	// RetryingReplies counts replies waiting to be tried again.
	RetryingReplies int `json:"retryingReplies"`
	// LastFailure is the reason of the newest failed or retried reply.
	LastFailure   string    `json:"lastFailure,omitempty"`
	LastFailureAt time.Time `json:"lastFailureAt,omitzero"`
}

// ChannelStatus is a configured instance (secrets redacted) with its state
// and health, for the admin console's channel list.
type ChannelStatus struct {
	ChannelInstance
	Title string `json:"title"`
	State string `json:"state"`
	// Error is why the instance is not running, or the last error its
	// poller or gateway reported.
	Error   string    `json:"error,omitempty"`
	ErrorAt time.Time `json:"errorAt,omitzero"`
	// ConnectedAt is the last time the platform accepted the instance's
	// connection (connectors that hold one: Telegram polling, Discord,
	// email).
	ConnectedAt time.Time `json:"connectedAt,omitzero"`
	// RetryAt is when a dropped connection is tried again.
	RetryAt time.Time `json:"retryAt,omitzero"`
	// WebhookURL is the address to paste into the platform's console
	// (empty for connectors that receive no webhooks).
	WebhookURL string `json:"webhookUrl,omitempty"`
	// SecretsSet lists the secret settings that hold a value.
	SecretsSet []string `json:"secretsSet"`
	ChannelActivity
}

// ChannelTest is the outcome of testing an instance's credentials.
type ChannelTest struct {
	OK bool `json:"ok"`
	// Detail is what the platform said about the account, or why it failed.
	Detail string    `json:"detail"`
	At     time.Time `json:"at"`
}
