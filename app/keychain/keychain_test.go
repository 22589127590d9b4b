package keychain_test

import (
	"os"
	"testing"

	"switchboard/app/keychain"
	"switchboard/backend"
)

// requireSecretService skips unless a session bus is there; make test runs
// this package under dbus-run-session with gnome-keyring unlocked, and sets
// SWITCHBOARD_REQUIRE_KEYRING so a missing keyring fails instead of skipping.
func requireSecretService(t *testing.T) {
	t.Helper()
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		if os.Getenv("SWITCHBOARD_REQUIRE_KEYRING") != "" {
			t.Fatal("SWITCHBOARD_REQUIRE_KEYRING is set but there is no D-Bus session bus")
		}
		t.Skip("no D-Bus session bus; run under dbus-run-session with gnome-keyring (make test does)")
	}
}

func TestKeychain_RealSecretService(t *testing.T) {
	requireSecretService(t)
	k := keychain.New("switchboard-test")
	const account = "http://127.0.0.1:1|ana@example.com"
	if _, err := k.Get(account); backend.ErrorCode(err) != backend.ENotFound {
		t.Fatalf("get before set: %v", err)
	}
	if err := k.Set(account, "s3cret-token"); err != nil {
		t.Fatal(err)
	}
	got, err := k.Get(account)
	if err != nil || got != "s3cret-token" {
		t.Fatalf("get = %q, %v", got, err)
	}
	if err := k.Delete(account); err != nil {
		t.Fatal(err)
	}
	if err := k.Delete(account); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := k.Get(account); backend.ErrorCode(err) != backend.ENotFound {
		t.Fatalf("get after delete: %v", err)
	}
}
