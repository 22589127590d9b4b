package server

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestTrustProxies_ClientAddressAndHeaders(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.1/32")}
	for _, tc := range []struct {
		name, peer, xff string
		wantAddr        string
		wantForwarded   bool
	}{
		{"untrusted peer keeps its address, headers dropped", "198.51.100.7:5555", "203.0.113.9", "198.51.100.7:5555", false},
		{"trusted proxy names the client", "10.1.2.3:4444", "203.0.113.9", "203.0.113.9:0", true},
		{"a spoofed left-most entry is ignored", "10.1.2.3:4444", "1.2.3.4, 203.0.113.9", "203.0.113.9:0", true},
		{"proxies in a chain are skipped", "192.0.2.1:1", "203.0.113.9, 10.9.9.9", "203.0.113.9:0", true},
		{"no X-Forwarded-For: the proxy's own address", "10.1.2.3:4444", "", "10.1.2.3:4444", true},
		{"garbage stops the walk", "10.1.2.3:4444", "nonsense", "10.1.2.3:4444", true},
		{"IPv4-mapped peer", "[::ffff:10.1.2.3]:80", "203.0.113.9", "203.0.113.9:0", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got *http.Request
			h := trustProxies(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r }), trusted)
			req := httptest.NewRequest("POST", "http://engine/hooks/x/y", nil)
			req.RemoteAddr = tc.peer
			if tc.xff != "" {
				req.Header.Set("X-Forwarded-For", tc.xff)
			}
			req.Header.Set("X-Forwarded-Proto", "https")
			req.Header.Set("X-Forwarded-Host", "support.example.com")
			req.Header.Set("Forwarded", "for=1.2.3.4")
			h.ServeHTTP(httptest.NewRecorder(), req)
			if got.RemoteAddr != tc.wantAddr {
				t.Errorf("RemoteAddr = %s, want %s", got.RemoteAddr, tc.wantAddr)
			}
			if has := got.Header.Get("X-Forwarded-Host") != ""; has != tc.wantForwarded {
				t.Errorf("X-Forwarded-Host kept = %v, want %v", has, tc.wantForwarded)
			}
			if !tc.wantForwarded && (got.Header.Get("X-Forwarded-Proto") != "" || got.Header.Get("Forwarded") != "" || got.Header.Get("X-Forwarded-For") != "") {
				t.Errorf("forwarding headers from an untrusted peer survived: %v", got.Header)
			}
		})
	}
}

func TestParseProxy(t *testing.T) {
	for in, want := range map[string]string{"10.0.0.0/8": "10.0.0.0/8", "10.1.2.3/8": "10.0.0.0/8", "192.0.2.1": "192.0.2.1/32",
		"::1": "::1/128", " 2001:db8::/32 ": "2001:db8::/32", "::ffff:192.0.2.1": "192.0.2.1/32"} {
		p, err := ParseProxy(in)
		if err != nil || p.String() != want {
			t.Errorf("ParseProxy(%q) = %v, %v; want %s", in, p, err, want)
		}
	}
	for _, bad := range []string{"", "proxy", "10.0.0.0/33"} {
		if _, err := ParseProxy(bad); err == nil {
			t.Errorf("ParseProxy(%q) accepted", bad)
		}
	}
}
