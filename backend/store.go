// Package backend holds Switchboard's domain: the types every layer shares,
// the service interfaces the store implements, error codes and event names.
// It imports only the standard library.
package backend

// Store is everything the engine keeps durably. The SQLite implementation
// lives in backend/sqlite; a PostgreSQL one can follow for several nodes.
type Store interface {
	UserService
	ContactService
	ConversationService
	MessageService
	EventService
	CannedService
	AccessService
	AuditService
	LabelService
	InviteService
	CallService
	MediaService
}
