package email_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/channels"
	"switchboard/channels/email"
	"switchboard/channels/email/emailtest"
	"switchboard/channels/internal/hubtest"
)

const support = "support@shop.example"

func config(fake *emailtest.Server) map[string]any {
	return map[string]any{
		"address": support, "name": "Shop support",
		"imapAddr": fake.IMAPAddr, "imapSecurity": "starttls", "imapUsername": fake.Username, "imapPassword": fake.Password,
		"smtpAddr": fake.SMTPAddr, "smtpSecurity": "starttls", "smtpUsername": fake.Username, "smtpPassword": fake.Password,
		"insecureSkipVerify": true,
	}
}

func setup(t *testing.T) (*hubtest.Env, *emailtest.Server) {
	t.Helper()
	fake := emailtest.NewServer(support, "pw")
	t.Cleanup(fake.Close)
	env := hubtest.New(t, email.ID, "support", config(fake), "")
	start(t, env.Hub)
	return env, fake
}

func start(t *testing.T, hub *channels.Hub) {
	ctx, cancel := context.WithCancel(context.Background())
	if err := hub.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); hub.Close() })
}

// waitFor waits until ok holds; the deadline only bounds a failing test
// (a 10 MB mail under the race detector on a busy machine takes seconds).
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func mailFrom(from, id, subject, body string, headers ...string) []byte {
	h := fmt.Sprintf("From: Ana Customer <%s>\r\nTo: %s\r\nSubject: %s\r\nDate: Thu, 01 Jan 2026 10:00:00 +0000\r\nMessage-ID: <%s>\r\n", from, support, subject, id)
	for _, x := range headers {
		h += x + "\r\n"
	}
	return []byte(h + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n")
}

func TestInbound_OnceThreadedAndReplied(t *testing.T) {
	env, fake := setup(t)
	fake.Deliver(mailFrom("ana@example.net", "root-1@example.net", "Where is my order?", "Order 42 has not arrived."))
	waitFor(t, "the first mail", func() bool { return len(env.Messages()) == 1 })
	in := env.Messages()[0]
	if in.Text != "Order 42 has not arrived." || in.ExternalID != "root-1@example.net" {
		t.Fatalf("message %+v", in)
	}
	if c := env.Contact(in.ContactID); c.Name != "Ana Customer" || c.Identities[0].ExternalID != "ana@example.net" {
		t.Fatalf("contact %+v", c)
	}

	out := env.Reply(in, "It ships today.")
	env.RunOutbox()
	if m := env.Message(out.ID); m.Status != backend.DeliverySent {
		t.Fatalf("after one pass: %s", m.Status)
	}
	sent := fake.Sent()
	if len(sent) != 1 || sent[0].To[0] != "ana@example.net" || sent[0].From != support {
		t.Fatalf("sent %+v", sent)
	}
	p, err := email.ParseMessage(sent[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	m := env.Message(out.ID)
	if m.Status != backend.DeliverySent || m.ExternalID != p.MessageID {
		t.Fatalf("outbound %+v, mail id %s", m, p.MessageID)
	}
	if p.Subject != "Re: Where is my order?" || p.Text != "It ships today." ||
		len(p.InReplyTo) != 1 || p.InReplyTo[0] != "root-1@example.net" || p.References[len(p.References)-1] != "root-1@example.net" {
		t.Fatalf("reply %+v", p)
	}

	// The customer answers our mail: one client keeps References, another
	// only In-Reply-To; both land in the same conversation.
	fake.Deliver(mailFrom("ana@example.net", "r2@example.net", "Re: Where is my order?", "Thanks!",
		"In-Reply-To: <"+p.MessageID+">", "References: <root-1@example.net> <"+p.MessageID+">"))
	fake.Deliver(mailFrom("ana@example.net", "r3@example.net", "Re: Where is my order?", "One more thing",
		"In-Reply-To: <"+p.MessageID+">"))
	waitFor(t, "both replies", func() bool { return len(env.Messages()) == 4 })
	for _, m := range env.Messages() {
		if m.ConversationID != in.ConversationID {
			t.Fatalf("message %q in another conversation", m.Text)
		}
	}
}

func TestInbound_HTMLSanitizedAttachmentKeptOwnMailSkipped(t *testing.T) {
	env, fake := setup(t)
	raw := "From: bo@example.net\r\nTo: " + support + "\r\nSubject: html\r\nMessage-ID: <h1@example.net>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" +
		"<html><head><style>p{}</style><script>alert(1)</script></head><body><p>Hello <b>there</b></p><a href=\"javascript:evil()\">x</a><a href=\"https://shop.example/o/1\">order</a><img src=\"https://tracker/p.gif\" onerror=\"x()\"></body></html>\r\n" +
		"--XX\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"invoice.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--XX--\r\n"
	fake.Deliver([]byte(raw))
	fake.Deliver(mailFrom(support, "own@shop.example", "copy of our own mail", "x"))
	waitFor(t, "the html mail", func() bool { return len(env.Messages()) == 1 })
	time.Sleep(200 * time.Millisecond)
	msgs := env.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	m := msgs[0]
	if strings.ContainsAny(m.Text, "<>") || strings.Contains(m.Text, "alert") || strings.Contains(m.Text, "javascript") ||
		!strings.Contains(m.Text, "Hello there") || !strings.Contains(m.Text, "[https://shop.example/o/1]") {
		t.Fatalf("text %q", m.Text)
	}
	a := m.Attachments
	if len(a) != 1 || a[0].Name != "invoice.pdf" || a[0].Type != "application/pdf" || !strings.HasPrefix(a[0].URL, backend.MediaPath) {
		t.Fatalf("attachments %+v", a)
	}
	// The part is kept by the engine and served from its own path.
	f, data := env.Media(a[0].URL)
	if f.Name != "invoice.pdf" || f.Type != "application/pdf" || string(data) != "%PDF-1.4\n" {
		t.Fatalf("kept file %+v %q", f, data)
	}
}

// TestRestart_ImportsNothingTwice restarts the engine's channel hub on the
// same store and mailbox and counts.
func TestRestart_ImportsNothingTwice(t *testing.T) {
	env, fake := setup(t)
	for i := 0; i < 7; i++ {
		fake.Deliver(mailFrom("ana@example.net", fmt.Sprintf("a%d@example.net", i), "s", fmt.Sprintf("mail %d", i)))
	}
	waitFor(t, "7 mails", func() bool { return len(env.Messages()) == 7 })
	env.Hub.Close()

	hub, err := channels.NewHub(context.Background(), env.DB, channels.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	start(t, hub)
	fake.Deliver(mailFrom("ana@example.net", "after@example.net", "s", "after the restart"))
	waitFor(t, "the new mail", func() bool { return len(env.Messages()) == 8 })
	time.Sleep(300 * time.Millisecond)
	seen := map[string]bool{}
	for _, m := range env.Messages() {
		if seen[m.ExternalID] {
			t.Fatalf("imported twice: %s", m.ExternalID)
		}
		seen[m.ExternalID] = true
	}
	if len(seen) != 8 {
		t.Fatalf("%d stored", len(seen))
	}
}

func TestSend_TemporaryFailureRetries(t *testing.T) {
	env, fake := setup(t)
	fake.Deliver(mailFrom("ana@example.net", "x@example.net", "s", "hi"))
	waitFor(t, "mail", func() bool { return len(env.Messages()) == 1 })
	out := env.Reply(env.Messages()[0], "answer")
	fake.FailRcpt(1)
	env.RunOutbox()
	if m := env.Message(out.ID); m.Status != backend.DeliveryQueued || len(fake.Sent()) != 0 {
		t.Fatalf("after 451: %s", m.Status)
	}
	env.Clock.Advance(time.Minute)
	if n := env.RunOutbox(); n != 1 {
		t.Fatalf("the retry pass handled %d jobs", n)
	}
	if m := env.Message(out.ID); m.Status != backend.DeliverySent {
		t.Fatalf("after the retry: %s", m.Status)
	}
	if n := len(fake.Sent()); n != 1 {
		t.Fatalf("after retry: %d sent", n)
	}
}

func TestThreadKey(t *testing.T) {
	ours := email.NewMessageID("root@x", support)
	for _, tc := range []struct {
		name    string
		headers []string
		want    string
	}{
		{"new thread", nil, "self@x"},
		{"references root first", []string{"In-Reply-To: <p@x>", "References: <root@x> <p@x>"}, "root@x"},
		{"in-reply-to only", []string{"In-Reply-To: <p@x>"}, "p@x"},
		{"in-reply-to one of ours", []string{"In-Reply-To: <" + ours + ">"}, "root@x"},
		{"references start with ours", []string{"References: <" + ours + ">"}, "root@x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := email.ParseMessage(mailFrom("a@x", "self@x", "s", "b", tc.headers...))
			if err != nil {
				t.Fatal(err)
			}
			if got := p.ThreadKey(); got != tc.want {
				t.Fatalf("thread key %q, want %q", got, tc.want)
			}
		})
	}
}

func FuzzParseMessage(f *testing.F) {
	f.Add(mailFrom("a@x", "id@x", "s", "body", "References: <r@x> <p@x>", "In-Reply-To: <p@x>"))
	f.Add([]byte("From: a@x\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>x<script>y</script></p>\r\n--b--\r\n"))
	f.Add([]byte("From: =?utf-8?q?=C3=A9?= <a@x>\r\nSubject: =?iso-8859-1?q?caf=E9?=\r\nContent-Type: text/plain; charset=koi8-r\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=C1=C2\r\n"))
	f.Add([]byte("From: a@x\r\nIn-Reply-To: <" + email.NewMessageID("root@x", support) + ">\r\n\r\nhi"))
	f.Add([]byte("no headers at all"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := email.ParseMessage(b)
		if err != nil {
			if backend.ErrorCode(err) != backend.EInvalid {
				t.Fatalf("code %s", backend.ErrorCode(err))
			}
			return
		}
		if p.MessageID == "" || p.ThreadKey() == "" || (p.From == "" && len(p.Problems) == 0) {
			t.Fatalf("parsed %+v", p)
		}
		if in := p.Inbound(1, support); in.ExternalID != p.MessageID || in.ExternalUserID == "" {
			t.Fatal("external id")
		}
	})
}
