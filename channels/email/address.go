package email

import (
	"mime"
	"regexp"
	"strings"

	"github.com/emersion/go-message/mail"
)

// Address is one mailbox as a mail named it.
type Address struct {
	Name, Address string
}

var (
	angleAddr = regexp.MustCompile(`<\s*([^<>\s@]+@[^<>\s@]+)\s*>`)
	bareAddr  = regexp.MustCompile(`[^\s<>(),;:"']+@[^\s<>(),;:"']+\.[^\s<>(),;:"'.]+`)
	words     = new(mime.WordDecoder)
)

// parseAddresses reads an address header the way mail clients do: by the
// standard first, and when that fails (an unquoted comma in a name,
// "Doe, Jane <jane@example.net>", stray brackets), by the addresses it can
// find, each in angle brackets or bare, with the text before a bracket as
// its name. ok is false when the standard refused the header.
func parseAddresses(h mail.Header, key string) (list []Address, ok bool) {
	std, err := h.AddressList(key)
	if err == nil {
		for _, a := range std {
			if a.Address != "" {
				list = append(list, Address{Name: a.Name, Address: strings.ToLower(a.Address)})
			}
		}
		return list, true
	}
	raw := h.Get(key)
	if dec, err := words.DecodeHeader(raw); err == nil {
		raw = dec
	}
	return lenientAddresses(raw), false
}

// lenientAddresses finds the addresses in a header value no parser took.
func lenientAddresses(raw string) []Address {
	var list []Address
	seen := map[string]bool{}
	add := func(name, addr string) {
		addr = strings.ToLower(strings.Trim(addr, "."))
		if addr == "" || seen[addr] {
			return
		}
		seen[addr] = true
		list = append(list, Address{Name: strings.Trim(strings.TrimSpace(name), `"' `), Address: addr})
	}
	rest := raw
	for _, m := range angleAddr.FindAllStringSubmatchIndex(raw, -1) {
		// The name is what stands before the bracket since the previous
		// address; an unquoted comma inside it belongs to the name.
		name := raw[:m[0]]
		if i := strings.LastIndex(name, ">"); i >= 0 {
			name = strings.TrimLeft(name[i+1:], " ,;")
		}
		add(name, raw[m[2]:m[3]])
		rest = strings.Replace(rest, raw[m[0]:m[1]], " ", 1)
	}
	for _, a := range bareAddr.FindAllString(rest, -1) {
		add("", a)
	}
	return list
}

// firstAddress returns the first readable address of one of the headers,
// in order, and whether the first header present was read by the standard.
func firstAddress(h mail.Header, keys ...string) (Address, string, bool) {
	for _, k := range keys {
		if h.Get(k) == "" {
			continue
		}
		list, ok := parseAddresses(h, k)
		if len(list) > 0 {
			return list[0], k, ok
		}
	}
	return Address{}, "", false
}
