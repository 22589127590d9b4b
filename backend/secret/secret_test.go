package secret_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"switchboard/backend/secret"
)

func mustKey(tb testing.TB) *secret.Key {
	tb.Helper()
	k, err := secret.New()
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func TestSeal_RoundTripAndBinding(t *testing.T) {
	k := mustKey(t)
	sealed := k.Seal([]byte("twilio-auth-token"), "channel:sms.twilio/main")
	if !secret.IsSealed(sealed) || strings.Contains(sealed, "twilio-auth-token") {
		t.Fatalf("sealed = %q", sealed)
	}
	if again := k.Seal([]byte("twilio-auth-token"), "channel:sms.twilio/main"); again == sealed {
		t.Fatal("two seals of one value are equal: the nonce is not random")
	}
	got, err := k.Open(sealed, "channel:sms.twilio/main")
	if err != nil || string(got) != "twilio-auth-token" {
		t.Fatalf("open = %q, %v", got, err)
	}
	if _, err := k.Open(sealed, "channel:sms.twilio/other"); !errors.Is(err, secret.ErrWrongKey) {
		t.Fatalf("open in another context: %v", err)
	}
	if _, err := mustKey(t).Open(sealed, "channel:sms.twilio/main"); !errors.Is(err, secret.ErrWrongKey) {
		t.Fatalf("open with another key: %v", err)
	}
	raw, _ := base64.RawStdEncoding.DecodeString(strings.TrimPrefix(sealed, "sb1:"))
	raw[len(raw)-1] ^= 1
	if _, err := k.Open("sb1:"+base64.RawStdEncoding.EncodeToString(raw), "channel:sms.twilio/main"); !errors.Is(err, secret.ErrWrongKey) {
		t.Fatalf("open of a changed value: %v", err)
	}
	if _, err := k.Open("plain text", "x"); err == nil {
		t.Fatal("a clear value opened")
	}
}

func TestParse_Forms(t *testing.T) {
	raw := bytes.Repeat([]byte{0xfb}, secret.KeySize) // encodes differently in each alphabet
	want := mustParse(t, base64.StdEncoding.EncodeToString(raw)).Seal([]byte("v"), "c")
	for _, text := range []string{
		base64.StdEncoding.EncodeToString(raw), base64.RawStdEncoding.EncodeToString(raw),
		base64.URLEncoding.EncodeToString(raw), base64.RawURLEncoding.EncodeToString(raw),
		hex.EncodeToString(raw), "  " + base64.StdEncoding.EncodeToString(raw) + "\n",
	} {
		if got, err := mustParse(t, text).Open(want, "c"); err != nil || string(got) != "v" {
			t.Errorf("key %q does not open what the same bytes sealed: %v", text, err)
		}
	}
	for _, bad := range []string{"", "short", base64.StdEncoding.EncodeToString(raw[:16]), strings.Repeat("z", 64)} {
		_, err := secret.Parse(bad)
		if err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		} else if bad != "" && strings.Contains(err.Error(), bad) {
			t.Errorf("the error repeats the text: %v", err)
		}
	}
}

func mustParse(t *testing.T, text string) *secret.Key {
	t.Helper()
	k, err := secret.Parse(text)
	if err != nil {
		t.Fatalf("Parse(%q): %v", text, err)
	}
	return k
}

func TestGenerate_ParsesBack(t *testing.T) {
	text, err := secret.Generate()
	if err != nil {
		t.Fatal(err)
	}
	k := mustParse(t, text)
	if k.Text() != text {
		t.Fatalf("Text() = %q, want %q", k.Text(), text)
	}
}

func TestReadFile_RefusesAFileOthersMayRead(t *testing.T) {
	text, _ := secret.Generate()
	path := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(path, []byte(text+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := secret.ReadFile(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a 0644 key file: %v", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := secret.ReadFile(path)
	if err != nil || k.Text() != text {
		t.Fatalf("ReadFile = %v, %v", k, err)
	}
}

func TestKey_NeverPrinted(t *testing.T) {
	k := mustKey(t)
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("key", "k", k, "v", *k)
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s %x", *k, *k, *k, *k, *k), logged.String()} {
		if strings.Contains(s, k.Text()) || strings.Contains(s, fmt.Sprint([]byte(k.Text()))) || !strings.Contains(s, "********") {
			t.Fatalf("the key shows in %q", s)
		}
	}
}

func FuzzOpen(f *testing.F) {
	k, _ := secret.New()
	f.Add(k.Seal([]byte("hello"), "c"), "c")
	f.Add("sb1:", "")
	f.Add("sb1:!!!", "c")
	f.Fuzz(func(t *testing.T, sealed, context string) {
		if plain, err := k.Open(sealed, context); err == nil && k.Seal(plain, context) == sealed {
			t.Fatal("sealing is deterministic")
		}
	})
}
