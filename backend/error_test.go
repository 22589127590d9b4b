package backend_test

import (
	"testing"

	"switchboard/backend"
)

func TestHTTPStatus(t *testing.T) {
	for code, want := range map[string]int{backend.EInvalid: 400, backend.EUnauthorized: 401, backend.EForbidden: 403,
		backend.ENotFound: 404, backend.EConflict: 409, backend.ETooLarge: 413, backend.EUnavailable: 503,
		backend.EInternal: 500, "made-up": 500} {
		if got := backend.HTTPStatus(code); got != want {
			t.Errorf("HTTPStatus(%q) = %d, want %d", code, got, want)
		}
	}
}
