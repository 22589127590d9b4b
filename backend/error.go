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

// Reasons refine a code for clients that show their own sentence in the
// user's language: the code says what kind of failure, the reason which one.
const (
	// ReasonNoCapacity: the worker already holds as many tasks of the
	// channel as their capacity allows.
	ReasonNoCapacity = "no_capacity"
	// ReasonTaskTaken: another worker has accepted the task.
	ReasonTaskTaken = "task_taken"
	// ReasonTaskEnded: the task was completed or canceled.
	ReasonTaskEnded = "task_ended"
	// ReasonNotInQueue: the worker does not serve the task's queue.
	ReasonNotInQueue = "not_in_queue"
	// ReasonOfferGone: the offer expired, was withdrawn or was answered.
	ReasonOfferGone = "offer_gone"
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

// Error is an application error with a code, a sentence meant for people
// and, optionally, a Reason: a stable key (one of the Reason constants) a
// client may translate instead of showing the sentence.
type Error struct {
	Code    string
	Message string
	Reason  string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("switchboard error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ReasonErrorf returns an *Error with the given code, reason and formatted
// message.
func ReasonErrorf(code, reason, format string, args ...any) *Error {
	return &Error{Code: code, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// ErrorReason returns the reason of the first *Error in err's chain, or "".
func ErrorReason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
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
