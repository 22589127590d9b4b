package meta_test

import (
	"net/http"
	"testing"

	"switchboard/channels"
	"switchboard/channels/meta"
)

// The test vector of CHANNELS.md §11 (computed with standard crypto).
const (
	vectorSecret = "app-secret"
	vectorBody   = `{"object":"page","entry":[{"id":"PAGE1","time":1700000000000,"messaging":[{"sender":{"id":"PSID1"},"recipient":{"id":"PAGE1"},"timestamp":1700000000000,"message":{"mid":"m_1","text":"hi"}}]}]}`
	vectorSig    = "sha256=503182e0f3692536b547c857bbb3f179f8bec7f23f931e20d8b32731b6c49844"
)

func TestSignature_Vector(t *testing.T) {
	if len(vectorBody) != 192 {
		t.Fatalf("vector body is %d bytes", len(vectorBody))
	}
	if got := meta.Sign(vectorSecret, []byte(vectorBody)); got != vectorSig {
		t.Fatalf("got %s", got)
	}
	req := &channels.Request{Header: http.Header{}, Body: []byte(vectorBody)}
	req.Header.Set("X-Hub-Signature-256", vectorSig)
	if err := meta.Verify(vectorSecret, req); err != nil {
		t.Fatal(err)
	}
	req.Body = append([]byte(nil), req.Body...)
	req.Body[len(req.Body)-3] = 'X'
	if err := meta.Verify(vectorSecret, req); err == nil {
		t.Fatal("tampered body accepted")
	}
}

func TestHandshake(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want int
		body string
	}{
		{"https://x/hooks/a/b?hub.mode=subscribe&hub.challenge=8675309&hub.verify_token=tok", 200, "8675309"},
		{"https://x/hooks/a/b?hub.mode=subscribe&hub.challenge=8675309&hub.verify_token=bad", 403, "The verify token does not match this channel's."},
		{"https://x/hooks/a/b?hub.mode=unsubscribe&hub.challenge=1&hub.verify_token=tok", 403, "The verify token does not match this channel's."},
	} {
		status, body := meta.Handshake("tok", &channels.Request{URL: tc.url})
		if status != tc.want || body != tc.body {
			t.Errorf("%s: %d %q", tc.url, status, body)
		}
	}
}

func FuzzSignature(f *testing.F) {
	f.Add(vectorSecret, []byte(vectorBody), vectorSig)
	f.Add("s", []byte{}, "sha256=")
	f.Add("s", []byte("x"), "SHA256=ABC")
	f.Fuzz(func(t *testing.T, secret string, body []byte, header string) {
		meta.ValidSignature(secret, body, header)
		if secret != "" && !meta.ValidSignature(secret, body, meta.Sign(secret, body)) {
			t.Fatal("own signature rejected")
		}
	})
}
