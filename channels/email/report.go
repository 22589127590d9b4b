package email

import (
	"bufio"
	"bytes"
	"net/textproto"
	"strings"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
)

// deliveryStatus is what a message/delivery-status part (RFC 3464) says
// about the first recipient it reports on.
type deliveryStatus struct {
	failed     bool
	recipient  string
	code       string
	diagnostic string
}

// parseDeliveryStatus reads the per-message block and the per-recipient
// blocks of a delivery status; the first failed recipient wins.
func parseDeliveryStatus(body []byte) *deliveryStatus {
	st := &deliveryStatus{}
	r := textproto.NewReader(bufio.NewReader(bytes.NewReader(body)))
	for first := true; ; first = false {
		h, err := r.ReadMIMEHeader()
		if len(h) > 0 && !first {
			action := strings.ToLower(strings.TrimSpace(h.Get("Action")))
			if action == "failed" && !st.failed {
				st.failed = true
				st.recipient = afterType(h.Get("Final-Recipient"))
				if st.recipient == "" {
					st.recipient = afterType(h.Get("Original-Recipient"))
				}
				st.code = strings.TrimSpace(h.Get("Status"))
				st.diagnostic = strings.Join(strings.Fields(afterType(h.Get("Diagnostic-Code"))), " ")
			}
		}
		if err != nil {
			return st
		}
	}
}

// afterType strips the "rfc822;" or "smtp;" type of a DSN field.
func afterType(v string) string {
	if _, rest, ok := strings.Cut(v, ";"); ok {
		v = rest
	}
	return strings.TrimSpace(v)
}

// originalID reads the Message-ID of the mail a report returns (its
// headers, or the whole mail).
func originalID(ct string, body []byte) string {
	if ct == "text/rfc822-headers" {
		body = append(append([]byte(nil), body...), "\r\n\r\n"...)
	}
	e, err := message.Read(bytes.NewReader(body))
	if e == nil && err != nil {
		return ""
	}
	h := mail.Header{Header: e.Header}
	id, _ := h.MessageID()
	return id
}

// isAutomatic reports whether a program sent the mail, by RFC 3834's
// Auto-Submitted and the headers mail systems use besides it: X-Autoreply,
// X-Autorespond, Exchange's X-Auto-Response-Suppress, Precedence bulk, junk,
// list or auto_reply, an empty Return-Path (the null sender of bounces),
// a mailer daemon as sender, and reports (bounces, read receipts).
func isAutomatic(h mail.Header, report bool) bool {
	if report {
		return true
	}
	if v := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted"))); v != "" && v != "no" {
		return true
	}
	if h.Get("X-Autoreply") != "" || h.Get("X-Autorespond") != "" || h.Get("X-Autoresponder") != "" {
		return true
	}
	for _, v := range strings.Split(strings.ToLower(h.Get("X-Auto-Response-Suppress")), ",") {
		switch strings.TrimSpace(v) {
		case "all", "oof", "autoreply":
			return true
		}
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("Precedence"))) {
	case "bulk", "junk", "list", "auto_reply":
		return true
	}
	if rp := h.Get("Return-Path"); rp != "" && strings.Trim(strings.TrimSpace(rp), "<>") == "" {
		return true
	}
	if from, _, _ := firstAddress(h, "From"); from.Address != "" {
		local, _, _ := strings.Cut(from.Address, "@")
		if local == "mailer-daemon" || local == "postmaster" {
			return true
		}
	}
	return false
}
