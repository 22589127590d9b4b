// Package emailtest runs mail servers on loopback for email connector
// tests: Debian's Dovecot (Dovecot, a real IMAP server the test starts),
// go-imap's in-memory IMAP server, and an SMTP server (go-smtp's) that
// records every mail it accepts. All offer STARTTLS with a self-signed
// certificate and require a login.
package emailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Mail is one message the SMTP sink accepted.
type Mail struct {
	From string
	To   []string
	Data []byte
}

// Server is a mail host with one account: the in-memory IMAP server and
// an SMTP server.
type Server struct {
	IMAPAddr string
	*SMTP

	user *imapmemserver.User
	imap *imapserver.Server
}

// SMTP is an SMTP submission server with one account (STARTTLS, AUTH
// PLAIN) that keeps every mail it accepts.
type SMTP struct {
	SMTPAddr           string
	Username, Password string

	smtp    *smtp.Server
	mu      sync.Mutex
	sent    []Mail
	failRcp int    // answer the next n RCPT with 451
	refuse  string // answer RCPT to this address with 550
}

// NewSMTP starts an SMTP server for one account.
func NewSMTP(username, password string) *SMTP {
	s := &SMTP{Username: username, Password: password}
	s.smtp = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	s.smtp.Domain = "localhost"
	s.smtp.TLSConfig = &tls.Config{Certificates: []tls.Certificate{selfSigned()}}
	s.smtp.ReadTimeout, s.smtp.WriteTimeout = 10*time.Second, 10*time.Second
	sl := listen()
	s.SMTPAddr = sl.Addr().String()
	go s.smtp.Serve(sl)
	return s
}

// Close stops the SMTP server.
func (s *SMTP) Close() { s.smtp.Close() }

// insecureTLS accepts the test servers' self-signed certificates.
func insecureTLS() *tls.Config { return &tls.Config{InsecureSkipVerify: true} }

// NewServer starts both servers for one account.
func NewServer(username, password string) *Server {
	s := &Server{SMTP: NewSMTP(username, password)}
	cert := selfSigned()
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}}

	mem := imapmemserver.New()
	s.user = imapmemserver.NewUser(username, password)
	s.user.Create("INBOX", nil)
	mem.AddUser(s.user)
	s.imap = imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:      imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		TLSConfig: tlsCfg,
		Logger:    discard{},
	})
	ln := listen()
	s.IMAPAddr = ln.Addr().String()
	go s.imap.Serve(ln)
	return s
}

type discard struct{}

func (discard) Printf(string, ...any) {}

func listen() net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	return ln
}

// Close stops both servers.
func (s *Server) Close() {
	s.imap.Close()
	s.SMTP.Close()
}

type literal struct {
	*bytes.Reader
}

func (l literal) Size() int64 { return l.Reader.Size() }

// Deliver puts a raw mail into the INBOX, as an arriving mail.
func (s *Server) Deliver(raw []byte) error {
	_, err := s.user.Append("INBOX", literal{bytes.NewReader(raw)}, &imap.AppendOptions{Time: time.Now()})
	return err
}

// Sent returns the mails the SMTP server accepted.
func (s *SMTP) Sent() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.sent...)
}

// FailRcpt answers the next n RCPT commands with 451 (try again later).
func (s *SMTP) FailRcpt(n int) {
	s.mu.Lock()
	s.failRcp = n
	s.mu.Unlock()
}

// RefuseRcpt answers RCPT to addr with 550 (no such user) from now on.
func (s *SMTP) RefuseRcpt(addr string) {
	s.mu.Lock()
	s.refuse = addr
	s.mu.Unlock()
}

type session struct {
	s      *SMTP
	authed bool
	from   string
	to     []string
}

func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != ss.s.Username || password != ss.s.Password {
			return errors.New("invalid credentials")
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	if ss.s.failRcp > 0 {
		ss.s.failRcp--
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
	}
	if ss.s.refuse != "" && strings.EqualFold(to, ss.s.refuse) {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "User unknown"}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.s.mu.Lock()
	ss.s.sent = append(ss.s.sent, Mail{From: ss.from, To: ss.to, Data: b})
	ss.s.mu.Unlock()
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

// selfSigned makes a throwaway certificate for 127.0.0.1.
func selfSigned() tls.Certificate {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
