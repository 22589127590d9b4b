package channels

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// SendError is a failed send, classified for the outbox.
type SendError struct {
	// Status is the platform's HTTP status (0 for a transport error).
	Status int
	// Permanent errors are not retried: the message fails with Reason.
	Permanent bool
	// RetryAfter is the delay the platform asked for (429 / Retry-After).
	RetryAfter time.Duration
	// InDoubt is set when the request may have reached the platform, so a
	// retry could deliver twice unless the platform is idempotent.
	InDoubt bool
	// Reason is a sentence for agents, such as the platform's error message.
	Reason string
	Err    error
}

// Error implements the error interface.
func (e *SendError) Error() string {
	s := fmt.Sprintf("send: status %d: %s", e.Status, e.Reason)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error.
func (e *SendError) Unwrap() error { return e.Err }

// Permanent returns a SendError that is not retried.
func Permanent(reason string) *SendError { return &SendError{Permanent: true, Reason: reason} }

// TransportError classifies an error from http.Client.Do: a failure to
// connect is safely retryable; anything later may have reached the platform.
func TransportError(err error) *SendError {
	// A *url.Error names the URL, which may carry a token (Telegram's
	// /bot<token>/, Meta's access_token): keep only the cause.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	var op *net.OpError
	var dns *net.DNSError
	inDoubt := true
	if (errors.As(err, &op) && op.Op == "dial") || errors.As(err, &dns) {
		inDoubt = false
	}
	return &SendError{InDoubt: inDoubt, Reason: "The platform could not be reached.", Err: err}
}

// maxResponse caps how much of a platform's response is read.
const maxResponse = 1 << 20

// Do sends req and returns the body of a 2xx answer. Any other outcome is a
// *SendError: 429 with the Retry-After delay, 408 and 5xx retryable, other
// 4xx permanent. reason extracts the platform's message from an error body
// (nil: the status text).
func Do(client *http.Client, req *http.Request, reason func(body []byte) string) ([]byte, *http.Response, error) {
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, TransportError(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, resp, &SendError{Status: resp.StatusCode, InDoubt: true, Reason: "The platform's answer was cut off.", Err: err}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return body, resp, nil
	}
	e := &SendError{Status: resp.StatusCode, Reason: http.StatusText(resp.StatusCode)}
	if reason != nil {
		if r := reason(body); r != "" {
			e.Reason = r
		}
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		e.RetryAfter = ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode >= 500:
	default:
		e.Permanent = true
	}
	return body, resp, e
}

// ParseRetryAfter reads a Retry-After header: seconds (decimals allowed) or
// an HTTP date. It returns 0 when absent or unreadable.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s < 0 || s > 86400 {
			return 0
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
