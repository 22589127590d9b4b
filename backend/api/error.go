package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"switchboard/backend"
)

// statusCodes maps backend error codes to HTTP statuses.
var statusCodes = map[string]int{
	backend.EInvalid:      http.StatusBadRequest,
	backend.EUnauthorized: http.StatusUnauthorized,
	backend.EForbidden:    http.StatusForbidden,
	backend.ENotFound:     http.StatusNotFound,
	backend.EConflict:     http.StatusConflict,
	backend.ETooLarge:     http.StatusRequestEntityTooLarge,
	backend.ETooMany:      http.StatusTooManyRequests,
	backend.EUnavailable:  http.StatusServiceUnavailable,
	backend.EInternal:     http.StatusInternalServerError,
}

// ErrorResponse is the body of every non-2xx answer.
type ErrorResponse struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		// Reason, when set, names the failure more precisely than the code
		// (backend.ReasonNoCapacity …) for clients that translate it.
		Reason string `json:"reason,omitempty"`
	} `json:"error"`
}

// Error writes err as JSON with the status its code maps to. Errors without
// a code are logged and shown as a generic sentence.
func Error(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	code := backend.ErrorCode(err)
	if code == backend.EInternal {
		log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	status, ok := statusCodes[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	var body ErrorResponse
	body.Error.Code, body.Error.Message, body.Error.Reason = code, backend.ErrorMessage(err), backend.ErrorReason(err)
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// decodeJSON reads a size-limited JSON body into v, rejecting unknown
// fields and trailing data, and turns every failure into a sentence.
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return backend.Errorf(backend.EInvalid, "The body must be JSON (Content-Type application/json), not %s.", ct)
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if dec.More() {
			return backend.Errorf(backend.EInvalid, "The body must hold a single JSON value.")
		}
		return nil
	}
	var maxErr *http.MaxBytesError
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &maxErr):
		return backend.Errorf(backend.ETooLarge, "The body is larger than the limit of %d bytes.", maxErr.Limit)
	case errors.Is(err, io.EOF):
		return backend.Errorf(backend.EInvalid, "The body is empty; a JSON object is required.")
	case errors.As(err, &syntaxErr):
		return backend.Errorf(backend.EInvalid, "The body is not valid JSON at byte %d: %s.", syntaxErr.Offset, syntaxErr.Error())
	case errors.Is(err, io.ErrUnexpectedEOF):
		return backend.Errorf(backend.EInvalid, "The body ends in the middle of a JSON value.")
	case errors.As(err, &typeErr):
		return backend.Errorf(backend.EInvalid, "Field %q must be of type %s, not %s.", typeErr.Field, typeErr.Type, typeErr.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return backend.Errorf(backend.EInvalid, "The body has an unknown field %s.", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return fmt.Errorf("decode body: %w", err)
}
