package server

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// forwardedHeaders are the headers a proxy sets about the original request.
var forwardedHeaders = []string{"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Port",
	"X-Forwarded-Prefix", "Forwarded", "X-Real-Ip"}

// ParseProxy reads a trusted proxy as an IP address or a CIDR prefix.
func ParseProxy(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("trusted proxy %q is not an IP address or CIDR prefix", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// trustProxies lets only the given proxies speak for the client: from a
// trusted peer, the client's address is the right-most X-Forwarded-For
// entry that is not itself a trusted proxy, and X-Forwarded-Proto/Host stay
// for the webhook URL; from anyone else every forwarding header is dropped,
// so nothing downstream can be fooled by them.
func trustProxies(h http.Handler, trusted []netip.Prefix) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peer, ok := remoteAddr(r.RemoteAddr)
		if !ok || !isTrusted(peer, trusted) {
			for _, name := range forwardedHeaders {
				r.Header.Del(name)
			}
			h.ServeHTTP(w, r)
			return
		}
		if client, ok := forwardedClient(r.Header.Values("X-Forwarded-For"), trusted); ok {
			r.RemoteAddr = net.JoinHostPort(client.String(), "0")
		}
		h.ServeHTTP(w, r)
	})
}

func remoteAddr(s string) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedClient walks X-Forwarded-For from the right (the entries the
// trusted proxies appended) to the first address no trusted proxy owns.
func forwardedClient(values []string, trusted []netip.Prefix) (netip.Addr, bool) {
	var hops []string
	for _, v := range values {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return netip.Addr{}, false
		}
		if a = a.Unmap(); !isTrusted(a, trusted) {
			return a, true
		}
	}
	return netip.Addr{}, false
}
