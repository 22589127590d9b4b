package backend

import (
	"errors"
	"fmt"
)

// Error codes shared by every layer. The API maps them to HTTP statuses and
// the desktop shows the Message to the user.
const (
	EInvalid      = "invalid"
	EUnauthorized = "unauthorized"
	EForbidden    = "forbidden"
	ENotFound     = "not_found"
	EConflict     = "conflict"
	ETooLarge     = "too_large"
	ETooMany      = "too_many_requests"
	EUnavailable  = "unavailable"
	EInternal     = "internal"
)

// HTTPStatus returns the HTTP status an error code is answered with (500
// for an unknown code).
func HTTPStatus(code string) int {
	switch code {
	case EInvalid:
		return 400
	case EUnauthorized:
		return 401
	case EForbidden:
		return 403
	case ENotFound:
		return 404
	case EConflict:
		return 409
	case ETooLarge:
		return 413
	case EUnavailable:
		return 503
	}
	return 500
}

// Error is an application error with a code and a sentence meant for people.
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("switchboard error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EInternal
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the message of the first *Error in err's chain, or a
// generic sentence for any other error so internals never reach users.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "An internal error occurred."
}
