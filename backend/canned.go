package backend

import (
	"context"
	"time"
)

// EventCannedUpserted carries a CannedResponse.
const EventCannedUpserted = "canned.upserted"

// CannedResponse is a saved reply agents insert by shortcut. Its text may
// hold placeholders such as {{contact.name}} and {{agent.name}}.
type CannedResponse struct {
	ID        string    `json:"id"`
	Shortcut  string    `json:"shortcut"`
	Title     string    `json:"title"`
	Text      string    `json:"text"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// CannedService manages canned responses.
type CannedService interface {
	// PutCannedResponse creates or replaces one. Returns EInvalid for an
	// empty shortcut or text and EConflict for a shortcut in use.
	PutCannedResponse(ctx context.Context, c *CannedResponse) error
	// FindCannedResponses lists them by shortcut.
	FindCannedResponses(ctx context.Context) ([]*CannedResponse, error)
}
