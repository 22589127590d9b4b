package backend

import (
	"context"
	"time"
)

// Contact is one customer, whatever channels they use.
type Contact struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Email      string            `json:"email,omitempty"`
	Phone      string            `json:"phone,omitempty"`
	Attributes map[string]string `json:"attributes"`
	Identities []Identity        `json:"identities"`
	// MergedInto is set when an admin merged this contact into another.
	MergedInto string    `json:"mergedInto,omitempty"`
	CreatedAt  time.Time `json:"createdAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
}

// Identity ties a channel's external user id to a contact. The pair
// (Channel, ExternalID) is unique.
type Identity struct {
	ContactID   string `json:"contactId"`
	Channel     string `json:"channel"`
	ExternalID  string `json:"externalId"`
	DisplayName string `json:"displayName,omitempty"`
}

// ContactService manages contacts and their identities.
type ContactService interface {
	// ResolveIdentity returns the contact owning (channel, externalID),
	// creating the contact and identity when none exists. A phone-number
	// identity is shared by channels that use phone numbers, so SMS and
	// WhatsApp from one number are one contact.
	ResolveIdentity(ctx context.Context, id Identity) (*Contact, error)
	// FindContactByID returns a contact with its identities. Returns ENotFound.
	FindContactByID(ctx context.Context, id string) (*Contact, error)
	// UpdateContact changes name, email, phone and attributes. Returns ENotFound.
	UpdateContact(ctx context.Context, c *Contact) error
	// MergeContacts moves every identity and conversation of src into dst
	// and marks src merged. Returns ENotFound or EInvalid (same contact).
	MergeContacts(ctx context.Context, dst, src string) (*Contact, error)
}
