package email_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"switchboard/backend"
	"switchboard/channels/email"
	"switchboard/channels/email/emailtest"
	"switchboard/channels/internal/hubtest"
)

// The tests below run against Debian's Dovecot (dovecot-imapd), started
// once for the package on a private port, each test with its own mailbox
// user, and an SMTP server with STARTTLS and AUTH in the test.
var (
	dovecotOnce sync.Once
	dovecotSrv  *emailtest.Dovecot
	dovecotErr  error
	mailboxes   atomic.Int64
)

func TestMain(m *testing.M) {
	code := m.Run()
	if dovecotSrv != nil {
		dovecotSrv.Close()
	}
	os.Exit(code)
}

// mailbox is a Dovecot mailbox and an SMTP account wired to an email
// channel on a hub.
type mailbox struct {
	env  *hubtest.Env
	dv   *emailtest.Dovecot
	smtp *emailtest.SMTP
	user string
}

func dovecot(t *testing.T) *emailtest.Dovecot {
	t.Helper()
	dovecotOnce.Do(func() { dovecotSrv, dovecotErr = emailtest.StartDovecot() })
	if dovecotErr != nil {
		t.Fatal(dovecotErr)
	}
	return dovecotSrv
}

// newMailbox makes a mailbox user and a channel reading it; password is
// the one the channel logs in with.
func newMailbox(t *testing.T, password string) *mailbox {
	t.Helper()
	dv := dovecot(t)
	mb := &mailbox{dv: dv, user: fmt.Sprintf("support%d", mailboxes.Add(1))}
	if err := dv.AddUser(mb.user, "mailbox-password"); err != nil {
		t.Fatal(err)
	}
	mb.smtp = emailtest.NewSMTP(mb.user, "mailbox-password")
	t.Cleanup(mb.smtp.Close)
	mb.env = hubtest.New(t, email.ID, "support", map[string]any{
		"address": support, "name": "Shop support",
		"imapAddr": dv.Addr, "imapSecurity": "starttls", "imapUsername": mb.user, "imapPassword": password,
		"smtpAddr": mb.smtp.SMTPAddr, "smtpSecurity": "starttls", "smtpUsername": mb.user, "smtpPassword": "mailbox-password",
		"insecureSkipVerify": true,
	}, "")
	start(t, mb.env.Hub)
	return mb
}

func (mb *mailbox) deliver(t *testing.T, raw string) {
	t.Helper()
	if err := mb.dv.Deliver(mb.user, []byte(strings.ReplaceAll(raw, "\n", "\r\n"))); err != nil {
		t.Fatal(err)
	}
}

// stored waits for n messages and returns them.
func (mb *mailbox) stored(t *testing.T, n int) []*backend.Message {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d messages", n), func() bool { return len(mb.env.Messages()) >= n })
	return mb.env.Messages()
}

// byText finds the stored message whose text contains s.
func byText(t *testing.T, msgs []*backend.Message, s string) *backend.Message {
	t.Helper()
	for _, m := range msgs {
		if strings.Contains(m.Text, s) {
			return m
		}
	}
	t.Fatalf("no message contains %q", s)
	return nil
}

// TestDovecot_NoMailDropped delivers the mails that used to be marked done
// and lost, each as its real bytes, and finds every one in the inbox with
// what could be read, a problem said where the engine could not read all,
// and the original kept to download.
func TestDovecot_NoMailDropped(t *testing.T) {
	mb := newMailbox(t, "mailbox-password")
	png := "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAfbLI3wAAAABJRU5ErkJggg=="
	mails := []string{
		// An unquoted comma in the name, as some clients write it.
		"From: Doe, Jane <jane@example.net>\nTo: support@shop.example\nSubject: Refund\nMessage-ID: <comma@example.net>\n" +
			"Date: Thu, 01 Jan 2026 10:00:00 +0000\n\nPlease refund order 1001.\n",
		// No From at all.
		"To: support@shop.example\nSubject: Who am I\nMessage-ID: <nofrom@example.net>\n\nOrder 1002 arrived broken.\n",
		// The text follows the headers with no blank line.
		"From: bob@example.net\nTo: support@shop.example\nSubject: Broken\nMessage-ID: <noblank@example.net>\n" +
			"My order 1003 is late\nand I want it soon.\n",
		// A multipart with no boundary parameter.
		"From: carl@example.net\nTo: support@shop.example\nSubject: Parts\nMessage-ID: <noboundary@example.net>\nMIME-Version: 1.0\n" +
			"Content-Type: multipart/mixed\n\n--sep42\nContent-Type: text/plain\n\nOrder 1004 please.\n--sep42--\n",
		// Apple Mail: text, an inline picture, more text.
		"From: Dana <dana@example.net>\nTo: support@shop.example\nSubject: Photo\nMessage-ID: <tit@example.net>\nMIME-Version: 1.0\n" +
			"Content-Type: multipart/mixed; boundary=\"Apple-Mail=_A\"\n\n" +
			"--Apple-Mail=_A\nContent-Type: text/plain; charset=us-ascii\n\nHere is the damage:\n" +
			"--Apple-Mail=_A\nContent-Disposition: inline; filename=\"dent.png\"\nContent-Type: image/png; name=\"dent.png\"\nContent-Transfer-Encoding: base64\n\n" + png + "\n" +
			"--Apple-Mail=_A\nContent-Type: text/plain; charset=us-ascii\n\nThe order number is 1005.\n--Apple-Mail=_A--\n",
		// An inline attachment that only names itself in Content-Disposition.
		"From: erin@example.net\nTo: support@shop.example\nSubject: Invoice\nMessage-ID: <inline@example.net>\nMIME-Version: 1.0\n" +
			"Content-Type: multipart/mixed; boundary=b1\n\n--b1\nContent-Type: text/plain\n\nInvoice for 1006 attached.\n" +
			"--b1\nContent-Type: application/pdf\nContent-Disposition: inline; filename=invoice-1006.pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--b1--\n",
	}
	for _, m := range mails {
		mb.deliver(t, m)
	}
	msgs := mb.stored(t, len(mails))
	if len(msgs) != len(mails) {
		t.Fatalf("%d messages stored, want %d", len(msgs), len(mails))
	}

	jane := byText(t, msgs, "refund order 1001")
	if c := mb.env.Contact(jane.ContactID); c.Identities[0].ExternalID != "jane@example.net" || c.Name != "Doe, Jane" || jane.Problem != "" {
		t.Fatalf("unquoted comma: contact %+v, problem %q", c, jane.Problem)
	}
	nofrom := byText(t, msgs, "Order 1002")
	if !strings.Contains(nofrom.Problem, "no sender address") || !hasOriginal(nofrom) {
		t.Fatalf("no From: %+v", nofrom)
	}
	noblank := byText(t, msgs, "order 1003 is late")
	if !strings.Contains(noblank.Text, "I want it soon") || !strings.Contains(noblank.Problem, "no blank line") || !hasOriginal(noblank) {
		t.Fatalf("no blank line: %+v", noblank)
	}
	noboundary := byText(t, msgs, "Order 1004")
	if !strings.Contains(noboundary.Problem, "no boundary") || !hasOriginal(noboundary) || strings.Contains(noboundary.Text, "--sep42") {
		t.Fatalf("no boundary: %+v", noboundary)
	}
	photo := byText(t, msgs, "Here is the damage")
	if !strings.Contains(photo.Text, "The order number is 1005.") || len(photo.Attachments) != 1 || photo.Attachments[0].Name != "dent.png" ||
		photo.Attachments[0].Type != "image/png" || photo.Problem != "" {
		t.Fatalf("text/image/text: %q %+v", photo.Text, photo.Attachments)
	}
	invoice := byText(t, msgs, "Invoice for 1006")
	if len(invoice.Attachments) != 1 || invoice.Attachments[0].Name != "invoice-1006.pdf" {
		t.Fatalf("inline filename: %+v", invoice.Attachments)
	}
	if _, data := mb.env.Media(invoice.Attachments[0].URL); string(data) != "%PDF-1.4\n" {
		t.Fatalf("inline file %q", data)
	}
	// The original of a mail not fully read is the bytes as received.
	orig := original(t, mb, noblank)
	if !bytes.Contains(orig, []byte("Message-ID: <noblank@example.net>")) || !bytes.Contains(orig, []byte("and I want it soon.")) {
		t.Fatalf("original %q", orig)
	}
	// Every mail is flagged imported only after it was stored.
	if n, err := mb.dv.Count(mb.user, email.ImportedFlag); err != nil || n != len(mails) {
		t.Fatalf("%d mails flagged imported (%v)", n, err)
	}
}

func hasOriginal(m *backend.Message) bool {
	for _, a := range m.Attachments {
		if a.Name == "original.eml" && a.Type == "message/rfc822" && strings.HasPrefix(a.URL, backend.MediaPath) {
			return true
		}
	}
	return false
}

func original(t *testing.T, mb *mailbox, m *backend.Message) []byte {
	t.Helper()
	for _, a := range m.Attachments {
		if a.Name == "original.eml" {
			_, data := mb.env.Media(a.URL)
			return data
		}
	}
	t.Fatal("no original kept")
	return nil
}

// TestDovecot_LargeAttachmentKept: a 10 MB attachment is kept and can be
// read in full.
func TestDovecot_LargeAttachmentKept(t *testing.T) {
	mb := newMailbox(t, "mailbox-password")
	big := bytes.Repeat([]byte("0123456789abcdef"), 10<<20/16)
	var enc strings.Builder
	enc.WriteString("From: frank@example.net\nTo: support@shop.example\nSubject: Logs\nMessage-ID: <big@example.net>\nMIME-Version: 1.0\n" +
		"Content-Type: multipart/mixed; boundary=zz\n\n--zz\nContent-Type: text/plain\n\nThe logs.\n--zz\n" +
		"Content-Type: application/octet-stream\nContent-Disposition: attachment; filename=logs.bin\nContent-Transfer-Encoding: base64\n\n")
	for rest := big; len(rest) > 0; { // 76-character lines
		n := min(57, len(rest))
		enc.WriteString(base64.StdEncoding.EncodeToString(rest[:n]) + "\n")
		rest = rest[n:]
	}
	enc.WriteString("--zz--\n")
	mb.deliver(t, enc.String())
	m := mb.stored(t, 1)[0]
	if len(m.Attachments) != 1 || m.Attachments[0].Size != int64(len(big)) || m.Attachments[0].Name != "logs.bin" {
		t.Fatalf("attachments %+v", m.Attachments)
	}
	if _, data := mb.env.Media(m.Attachments[0].URL); !bytes.Equal(data, big) {
		t.Fatalf("kept %d bytes, want %d", len(data), len(big))
	}
}

// TestDovecot_InReplyToOnlyKeepsTheThread: a customer whose mail program
// sends only In-Reply-To stays in one conversation through three rounds,
// and each reply's References follow RFC 5322 §3.6.4.
func TestDovecot_InReplyToOnlyKeepsTheThread(t *testing.T) {
	mb := newMailbox(t, "mailbox-password")
	mb.deliver(t, "From: Gina <gina@example.net>\nTo: support@shop.example\nSubject: Order 2001\nMessage-ID: <g1@example.net>\n\nWhere is order 2001?\n")
	first := mb.stored(t, 1)[0]
	r1 := sendReply(t, mb, first, "It left yesterday.")
	if r1.references() != "<g1@example.net>" {
		t.Fatalf("first reply's References %q", r1.references())
	}
	// Her program keeps only In-Reply-To.
	mb.deliver(t, "From: Gina <gina@example.net>\nTo: support@shop.example\nSubject: Re: Order 2001\nMessage-ID: <g2@example.net>\n"+
		"In-Reply-To: <"+r1.id+">\n\nIt has not arrived.\n")
	second := byText(t, mb.stored(t, 3), "not arrived")
	r2 := sendReply(t, mb, second, "A new one is on its way.")
	if want := "<" + r1.id + "> <g2@example.net>"; r2.references() != want {
		t.Fatalf("References %q, want the parent's In-Reply-To then its id: %q", r2.references(), want)
	}
	// Her next mail names what our reply's References named.
	mb.deliver(t, "From: Gina <gina@example.net>\nTo: support@shop.example\nSubject: Re: Order 2001\nMessage-ID: <g3@example.net>\n"+
		"In-Reply-To: <"+r2.id+">\nReferences: "+r2.references()+" <"+r2.id+">\n\nThanks, it came.\n")
	msgs := mb.stored(t, 5)
	for _, m := range msgs {
		if m.ConversationID != first.ConversationID {
			t.Fatalf("%q went to another conversation", m.Text)
		}
	}
}

// sent is a reply as the SMTP server received it.
type sent struct {
	mail emailtest.Mail
	id   string
	hdr  string
}

func (s sent) references() string { return header(s.hdr, "References") }

func header(hdr, key string) string {
	for _, line := range strings.Split(strings.ReplaceAll(hdr, "\r\n ", " "), "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, key) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// sendReply stores an agent's reply to m, sends it and returns the mail
// the SMTP server got.
func sendReply(t *testing.T, mb *mailbox, m *backend.Message, text string, cc ...[]string) sent {
	t.Helper()
	n := len(mb.smtp.Sent())
	out := &backend.OutboundMessage{ConversationID: m.ConversationID, Text: text, AuthorID: "us_agent", AuthorName: "Agent"}
	if len(cc) > 0 {
		out.Cc = cc[0]
	}
	stored, _, err := mb.env.DB.StoreOutbound(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	mb.env.RunOutbox()
	if got := mb.env.Message(stored.ID); got.Status != backend.DeliverySent {
		t.Fatalf("reply %s: %q", got.Status, got.Error)
	}
	all := mb.smtp.Sent()
	if len(all) != n+1 {
		t.Fatalf("%d mails sent", len(all)-n)
	}
	mail := all[n]
	hdr, _, _ := strings.Cut(string(mail.Data), "\r\n\r\n")
	return sent{mail: mail, id: mb.env.Message(stored.ID).ExternalID, hdr: hdr}
}

// TestDovecot_ReplyAllKeepsTheCustomer: a colleague's reply-all lands in
// the customer's conversation; the agent's reply goes to the colleague
// with the customer copied (reply all), or to the colleague only when the
// agent says so.
func TestDovecot_ReplyAllKeepsTheCustomer(t *testing.T) {
	mb := newMailbox(t, "mailbox-password")
	mb.deliver(t, "From: Hana <hana@example.net>\nTo: support@shop.example\nCc: Ivan <ivan@partner.example>\nSubject: Contract\n"+
		"Message-ID: <h1@example.net>\n\nPlease send the contract.\n")
	first := mb.stored(t, 1)[0]
	if len(first.Cc) != 1 || first.Cc[0] != "ivan@partner.example" {
		t.Fatalf("the first mail's Cc %v", first.Cc)
	}
	mb.deliver(t, "From: Ivan <ivan@partner.example>\nTo: support@shop.example\nCc: Hana <hana@example.net>\nSubject: Re: Contract\n"+
		"Message-ID: <i1@partner.example>\nIn-Reply-To: <h1@example.net>\nReferences: <h1@example.net>\n\nWe need it by Friday.\n")
	ivan := byText(t, mb.stored(t, 2), "Friday")
	if ivan.ConversationID != first.ConversationID || len(ivan.Cc) != 1 || ivan.Cc[0] != "hana@example.net" {
		t.Fatalf("reply-all: %+v", ivan)
	}
	all := sendReply(t, mb, ivan, "Attached by Thursday.")
	if got := strings.Join(all.mail.To, ","); got != "ivan@partner.example,hana@example.net" ||
		!strings.Contains(header(all.hdr, "Cc"), "hana@example.net") || !strings.Contains(header(all.hdr, "To"), "ivan@partner.example") {
		t.Fatalf("reply all went to %s (To %q, Cc %q)", got, header(all.hdr, "To"), header(all.hdr, "Cc"))
	}
	only := sendReply(t, mb, ivan, "Just to you.", []string{})
	if got := strings.Join(only.mail.To, ","); got != "ivan@partner.example" || header(only.hdr, "Cc") != "" {
		t.Fatalf("reply to the sender went to %s", got)
	}
}

// TestDovecot_AutomaticMailMarked: out-of-office replies and lists are
// stored and marked as sent by a program (no bot answers them); a
// person's mail is not.
func TestDovecot_AutomaticMailMarked(t *testing.T) {
	mb := newMailbox(t, "mailbox-password")
	for i, h := range []string{"X-Autoreply: yes", "Precedence: auto_reply", "X-Auto-Response-Suppress: All", "Auto-Submitted: auto-replied",
		"Return-Path: <>", "Precedence: bulk"} {
		mb.deliver(t, fmt.Sprintf("From: away%d@example.net\nTo: support@shop.example\nSubject: Out of office\nMessage-ID: <auto%d@example.net>\n%s\n\nI am away (%d).\n", i, i, h, i))
	}
	mb.deliver(t, "From: joan@example.net\nTo: support@shop.example\nSubject: Hello\nMessage-ID: <person@example.net>\nAuto-Submitted: no\n\nA person writes.\n")
	msgs := mb.stored(t, 7)
	for _, m := range msgs {
		if m.Automatic == strings.Contains(m.Text, "A person writes") {
			t.Errorf("%q automatic=%v", m.Text, m.Automatic)
		}
	}
}

// TestDovecot_BounceFailsTheReply: a delivery status notification for a
// reply marks that reply failed with the server's reason, and the bounce
// itself is kept in the conversation, marked automatic.
func TestDovecot_BounceFailsTheReply(t *testing.T) {
	mb := newMailbox(t, "mailbox-password")
	mb.deliver(t, "From: kim@example.net\nTo: support@shop.example\nSubject: Question\nMessage-ID: <k1@example.net>\n\nHi, question on 3001.\n")
	first := mb.stored(t, 1)[0]
	reply := sendReply(t, mb, first, "Here is the answer.")
	dsn := "Return-Path: <>\nFrom: Mail Delivery System <MAILER-DAEMON@mx.example.net>\nTo: support@shop.example\n" +
		"Subject: Undelivered Mail Returned to Sender\nMessage-ID: <dsn1@mx.example.net>\nAuto-Submitted: auto-replied\nMIME-Version: 1.0\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"RPT\"\n\n" +
		"--RPT\nContent-Type: text/plain\n\nThis is the mail system. Your message could not be delivered to kim@example.net.\n" +
		"--RPT\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\nArrival-Date: Thu, 1 Jan 2026 10:05:00 +0000\n\n" +
		"Final-Recipient: rfc822; kim@example.net\nOriginal-Recipient: rfc822;kim@example.net\nAction: failed\nStatus: 5.1.1\n" +
		"Remote-MTA: dns; mail.example.net\nDiagnostic-Code: smtp; 550 5.1.1 <kim@example.net>: Recipient address rejected: User unknown\n" +
		"--RPT\nContent-Type: text/rfc822-headers\n\nFrom: Shop support <support@shop.example>\nTo: kim@example.net\nSubject: Re: Question\n" +
		"Message-ID: <" + reply.id + ">\n--RPT--\n"
	mb.deliver(t, dsn)
	waitFor(t, "the reply to fail", func() bool {
		for _, m := range mb.env.Messages() {
			if m.ExternalID == reply.id {
				return m.Status == backend.DeliveryFailed
			}
		}
		return false
	})
	for _, m := range mb.stored(t, 3) {
		switch {
		case m.ExternalID == reply.id && !strings.Contains(m.Error, "550 5.1.1") && !strings.Contains(m.Error, "kim@example.net"):
			t.Fatalf("failed reply's reason %q", m.Error)
		case m.ExternalID == "dsn1@mx.example.net" && (!m.Automatic || m.ConversationID != first.ConversationID):
			t.Fatalf("bounce stored as %+v", m)
		}
	}
}
