package email

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"switchboard/backend"
	"switchboard/channels"
)

// ImportedFlag is the IMAP keyword set on every imported mail, after the
// store has it: the durable "seen by Switchboard" mark, independent of the
// \Seen flag people use in their mail client and of UIDVALIDITY changes.
const ImportedFlag imap.Flag = "$SwitchboardImported"

// batch bounds how many mails one fetch reads.
const batch = 50

// idleRestart re-issues IDLE before servers drop an idle session (30 min).
const idleRestart = 25 * time.Minute

// pollState is what the poller keeps between runs: the mailbox's
// UIDVALIDITY and the highest UID imported under it.
type pollState struct {
	UIDValidity uint32 `json:"uidValidity"`
	LastUID     uint32 `json:"lastUid"`
}

// Poll implements channels.Poller: it imports the mails not yet imported,
// then waits in IDLE (or polls) for more, until ctx ends. A mail is flagged
// imported only after it was stored, so a crash re-imports at most what
// the store already deduplicates by Message-ID; the highest UID imported is
// saved too, so after a restart (or on a server that keeps no custom
// flags) only newer mail is read. A login the server refuses stops the
// poller: retrying cannot fix a wrong password.
func (c *Connector) Poll(ctx context.Context, link channels.PollLink) error {
	wake := make(chan struct{}, 1)
	opts := &imapclient.Options{
		TLSConfig: c.tlsConfig(c.cfg.IMAPAddr),
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					select {
					case wake <- struct{}{}:
					default:
					}
				}
			},
		},
	}
	cl, err := c.dialIMAP(opts)
	if err != nil {
		return fmt.Errorf("imap dial: %w", err)
	}
	defer cl.Close()
	stop := context.AfterFunc(ctx, func() { cl.Close() })
	defer stop()
	if err := cl.Login(c.cfg.IMAPUsername, c.cfg.IMAPPassword.Reveal()).Wait(); err != nil {
		var ie *imap.Error
		if errors.As(err, &ie) && (ie.Code == imap.ResponseCodeAuthenticationFailed || ie.Code == imap.ResponseCodeAuthorizationFailed ||
			ie.Code == imap.ResponseCodeExpired || ie.Type == imap.StatusResponseTypeNo && ie.Code == "") {
			return &channels.FinalError{Reason: fmt.Sprintf("The IMAP server refused the login of %s (%s). Correct the user name or password and save the channel.",
				c.cfg.IMAPUsername, ie.Text), Err: err}
		}
		return fmt.Errorf("imap login: %w", err)
	}
	sel, err := cl.Select(c.cfg.Mailbox, nil).Wait()
	if err != nil {
		return fmt.Errorf("imap select %s: %w", c.cfg.Mailbox, err)
	}
	canFlag := slices.Contains(sel.PermanentFlags, imap.FlagWildcard) || slices.Contains(sel.PermanentFlags, ImportedFlag)
	if !canFlag {
		c.log.Warn("imap server keeps no custom flags: after a restart, mail is re-read and deduplicated by Message-ID", "mailbox", c.cfg.Mailbox)
	}
	link.Connected()
	var st pollState
	if raw, err := link.State(ctx); err != nil {
		return err
	} else if raw != nil {
		json.Unmarshal(raw, &st)
	}
	c.mu.Lock()
	if c.uidValidity == 0 && st.UIDValidity == sel.UIDValidity {
		c.uidValidity, c.lastUID = st.UIDValidity, st.LastUID
	}
	if c.uidValidity != sel.UIDValidity { // a new mailbox, or UIDs renumbered: resync
		c.uidValidity, c.lastUID = sel.UIDValidity, 0
	}
	c.mu.Unlock()
	idle := !c.cfg.NoIdle && cl.Caps().Has(imap.CapIdle)
	for ctx.Err() == nil {
		for {
			n, err := c.importNew(ctx, cl, canFlag, link)
			if err != nil {
				return err
			}
			if n < batch {
				break
			}
		}
		if idle {
			err = c.idle(ctx, cl, wake)
		} else {
			err = c.wait(ctx, cl, wake)
		}
		if err != nil && ctx.Err() == nil {
			return err
		}
	}
	return ctx.Err()
}

// idle waits in IDLE for new mail, restarting it before servers give up.
func (c *Connector) idle(ctx context.Context, cl *imapclient.Client, wake <-chan struct{}) error {
	cmd, err := cl.Idle()
	if err != nil {
		return fmt.Errorf("imap idle: %w", err)
	}
	select {
	case <-ctx.Done():
	case <-wake:
	case <-time.After(idleRestart):
	case <-cl.Closed():
		return fmt.Errorf("imap connection closed")
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("imap idle: %w", err)
	}
	return cmd.Wait()
}

// wait polls: it sleeps, then asks the server for news with NOOP.
func (c *Connector) wait(ctx context.Context, cl *imapclient.Client, wake <-chan struct{}) error {
	select {
	case <-ctx.Done():
		return nil
	case <-wake:
	case <-time.After(time.Duration(c.cfg.PollSeconds) * time.Second):
	}
	return cl.Noop().Wait()
}

// importNew stores up to one batch of mails not yet imported and returns
// how many it read.
func (c *Connector) importNew(ctx context.Context, cl *imapclient.Client, canFlag bool, link channels.PollLink) (int, error) {
	c.mu.Lock()
	last := c.lastUID
	c.mu.Unlock()
	crit := &imap.SearchCriteria{}
	if canFlag {
		crit.NotFlag = []imap.Flag{ImportedFlag}
	}
	if last > 0 {
		crit.UID = []imap.UIDSet{{imap.UIDRange{Start: imap.UID(last + 1), Stop: 0}}}
	}
	found, err := cl.UIDSearch(crit, nil).Wait()
	if err != nil {
		return 0, fmt.Errorf("imap search: %w", err)
	}
	var uids []imap.UID
	for _, u := range found.AllUIDs() {
		if uint32(u) > last { // "N:*" always matches the newest mail
			uids = append(uids, u)
		}
	}
	slices.Sort(uids)
	if len(uids) > batch {
		uids = uids[:batch]
	}
	if len(uids) == 0 {
		return 0, nil
	}
	set := imap.UIDSetNum(uids...)
	msgs, err := cl.Fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
	if err != nil {
		return 0, fmt.Errorf("imap fetch: %w", err)
	}
	wh := &channels.Webhook{}
	var maxUID uint32
	for _, m := range msgs {
		maxUID = max(maxUID, uint32(m.UID))
		if len(m.BodySection) == 0 {
			continue
		}
		// Every mail becomes a message, whatever could not be read of it;
		// a bounce also fails the reply it returns.
		p, _ := ParseMessage(m.BodySection[0].Bytes)
		if strings.EqualFold(p.From, c.cfg.Address) {
			continue // our own copy of a reply
		}
		if len(p.Problems) > 0 {
			c.log.Warn("mail not fully readable, kept with its original", "uid", m.UID, "problems", strings.Join(p.Problems, " "))
		}
		wh.Messages = append(wh.Messages, p.Inbound(uint32(m.UID), c.cfg.Address))
		if b := p.Bounce; b != nil && b.MessageID != "" {
			wh.Statuses = append(wh.Statuses, channels.Status{ExternalID: b.MessageID, Status: backend.DeliveryFailed, Reason: b.Reason()})
		}
	}
	if err := link.Deliver(ctx, wh); err != nil {
		return 0, err
	}
	if canFlag {
		if err := cl.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{ImportedFlag}}, nil).Close(); err != nil {
			return 0, fmt.Errorf("imap store flag: %w", err)
		}
	}
	c.mu.Lock()
	c.lastUID = max(c.lastUID, maxUID)
	st := pollState{UIDValidity: c.uidValidity, LastUID: c.lastUID}
	c.mu.Unlock()
	b, _ := json.Marshal(st)
	if err := link.SaveState(ctx, b); err != nil {
		return 0, err
	}
	return len(uids), nil
}

// dialIMAP connects to the IMAP server with the configured security.
func (c *Connector) dialIMAP(opts *imapclient.Options) (*imapclient.Client, error) {
	switch c.cfg.IMAPSecurity {
	case SecurityTLS:
		return imapclient.DialTLS(c.cfg.IMAPAddr, opts)
	case SecurityStartTLS:
		return imapclient.DialStartTLS(c.cfg.IMAPAddr, opts)
	}
	return imapclient.DialInsecure(c.cfg.IMAPAddr, opts)
}
