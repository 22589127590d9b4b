package email

import (
	"context"
	"errors"
	"fmt"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"switchboard/backend"
	"switchboard/channels"
)

var _ channels.Tester = (*Connector)(nil)

// TestConnection implements channels.Tester: it logs in to the IMAP server
// and selects the mailbox to import, then connects to the SMTP server and
// logs in when a user name is set, sending nothing.
func (c *Connector) TestConnection(ctx context.Context) (string, error) {
	n, err := c.testIMAP(ctx)
	if err != nil {
		return "", err
	}
	if err := c.testSMTP(ctx); err != nil {
		return "", err
	}
	return fmt.Sprintf("IMAP login to %s as %s: %s holds %d messages; SMTP %s accepted the connection", c.cfg.IMAPAddr, c.cfg.IMAPUsername, c.cfg.Mailbox, n, c.cfg.SMTPAddr), nil
}

func (c *Connector) testIMAP(ctx context.Context) (uint32, error) {
	cl, err := c.dialIMAP(&imapclient.Options{TLSConfig: c.tlsConfig(c.cfg.IMAPAddr)})
	if err != nil {
		return 0, backend.Errorf(backend.EUnavailable, "The IMAP server %s could not be reached: %v", c.cfg.IMAPAddr, err)
	}
	defer cl.Close()
	stop := context.AfterFunc(ctx, func() { cl.Close() })
	defer stop()
	if err := cl.Login(c.cfg.IMAPUsername, c.cfg.IMAPPassword.Reveal()).Wait(); err != nil {
		return 0, backend.Errorf(backend.EInvalid, "The IMAP server refused the login of %s: %v", c.cfg.IMAPUsername, err)
	}
	sel, err := cl.Select(c.cfg.Mailbox, nil).Wait()
	if err != nil {
		return 0, backend.Errorf(backend.EInvalid, "The IMAP folder %s cannot be opened: %v", c.cfg.Mailbox, err)
	}
	cl.Logout().Wait()
	return sel.NumMessages, nil
}

func (c *Connector) testSMTP(ctx context.Context) error {
	cl, err := c.dialSMTP()
	if err != nil {
		return backend.Errorf(backend.EUnavailable, "The SMTP server %s could not be reached: %v", c.cfg.SMTPAddr, err)
	}
	defer cl.Close()
	stop := context.AfterFunc(ctx, func() { cl.Close() })
	defer stop()
	if c.cfg.SMTPUsername != "" {
		if err := cl.Auth(sasl.NewPlainClient("", c.cfg.SMTPUsername, c.cfg.SMTPPassword.Reveal())); err != nil {
			var se *smtp.SMTPError
			if errors.As(err, &se) {
				return backend.Errorf(backend.EInvalid, "The SMTP server refused the login of %s: %s", c.cfg.SMTPUsername, se.Message)
			}
			return backend.Errorf(backend.EInvalid, "The SMTP login of %s failed: %v", c.cfg.SMTPUsername, err)
		}
	}
	return cl.Quit()
}

// dialSMTP connects to the SMTP server with the configured security.
func (c *Connector) dialSMTP() (*smtp.Client, error) {
	switch c.cfg.SMTPSecurity {
	case SecurityTLS:
		return smtp.DialTLS(c.cfg.SMTPAddr, c.tlsConfig(c.cfg.SMTPAddr))
	case SecurityStartTLS:
		return smtp.DialStartTLS(c.cfg.SMTPAddr, c.tlsConfig(c.cfg.SMTPAddr))
	}
	return smtp.Dial(c.cfg.SMTPAddr)
}
