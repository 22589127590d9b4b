package voice

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// registerLoop keeps the engine registered with a trunk's registrar,
// answering digest challenges with the trunk's credentials.
func (s *sipServer) registerLoop(ctx context.Context, name string, c *TrunkConfig) {
	defer s.wg.Done()
	for {
		wait := time.Duration(c.RegisterSeconds) * time.Second * 8 / 10
		if err := s.register(ctx, c); err != nil {
			if ctx.Err() != nil {
				return
			}
			s.e.log.Warn("voice: register", "trunk", name, "error", err)
			wait = 30 * time.Second
		} else {
			s.e.log.Info("voice: registered", "trunk", name, "registrar", c.Registrar)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// register sends one REGISTER (and its digest-authenticated retry).
func (s *sipServer) register(ctx context.Context, c *TrunkConfig) error {
	host, port, _ := sip.ParseAddr(c.Registrar)
	domain := c.Domain
	if domain == "" {
		domain = host
	}
	user := c.Username
	if user == "" {
		user = "switchboard"
	}
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Host: domain, Port: port})
	req.SetDestination(net.JoinHostPort(host, strconv.Itoa(port)))
	aor := sip.Uri{User: user, Host: domain}
	req.AppendHeader(&sip.ToHeader{Address: aor})
	params := sip.NewParams()
	params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(&sip.FromHeader{Address: aor, Params: params})
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{User: user, Host: s.host, Port: s.port}})
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(c.RegisterSeconds)))
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := s.client.Do(rctx, req)
	if err != nil {
		return err
	}
	if (res.StatusCode == sip.StatusUnauthorized || res.StatusCode == sip.StatusProxyAuthRequired) && c.Username != "" {
		if res, err = s.client.DoDigestAuth(rctx, req, res, sipgo.DigestAuth{Username: c.Username, Password: c.Password}); err != nil {
			return err
		}
	}
	if res.StatusCode != sip.StatusOK {
		return fmt.Errorf("registrar answered %d %s", res.StatusCode, res.Reason)
	}
	return nil
}

// keepAlive sends OPTIONS to a trunk's proxy every 30 seconds and logs
// when it stops answering.
func (s *sipServer) keepAlive(ctx context.Context, name string, c *TrunkConfig) {
	defer s.wg.Done()
	up := true
	for {
		host, port, _ := sip.ParseAddr(c.Proxy)
		req := sip.NewRequest(sip.OPTIONS, sip.Uri{Host: host, Port: port})
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		res, err := s.client.Do(rctx, req)
		cancel()
		if ctx.Err() != nil {
			return
		}
		ok := err == nil && res.StatusCode < 500
		if ok != up {
			s.e.log.Warn("voice: trunk keep-alive", "trunk", name, "reachable", ok)
			up = ok
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(30 * time.Second):
		}
	}
}
