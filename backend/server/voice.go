package server

import (
	"context"
	"fmt"
	"net"
	"path/filepath"

	"switchboard/backend"
	"switchboard/backend/voice"
)

// VoiceConfig is how the engine takes calls.
type VoiceConfig struct {
	// SIPAddr is where SIP trunks send calls (UDP), such as ":5060";
	// empty takes no phone calls (web calls still work).
	SIPAddr string
	// RTPPortMin and RTPPortMax bound the UDP ports of call audio (0, 0:
	// any port).
	RTPPortMin, RTPPortMax int
	// PublicIP is announced to trunks and softphones when the engine is
	// behind a 1:1 NAT.
	PublicIP string
	// BindIP is the address media binds to (default: SIPAddr's host).
	BindIP string
}

// startVoice starts the call engine: trunks' calls run their voice flow and
// reach agents through the router; signaling rides on the agents'
// WebSocket.
func (s *Server) startVoice(ctx, runCtx context.Context) (err error) {
	cfg := s.Config.Voice
	opts := voice.Options{DataDir: s.Config.DataDir, SIPAddr: cfg.SIPAddr, PublicIP: cfg.PublicIP,
		RTPPortMin: cfg.RTPPortMin, RTPPortMax: cfg.RTPPortMax, Logger: s.Config.Logger}
	if cfg.BindIP != "" {
		if opts.BindIP = net.ParseIP(cfg.BindIP); opts.BindIP == nil {
			return fmt.Errorf("voice bind address %q is not an IP address", cfg.BindIP)
		}
	}
	if s.Voice, err = voice.New(s.Store, opts); err != nil {
		return err
	}
	s.Voice.SetRouter(s.Routing)
	s.Voice.SetFlows(s.Flows)
	s.Voice.SetSignal(s.API.SendToUser)
	s.Flows.SetCalls(s.Voice)
	s.API.SetVoice(s.Voice)
	if err := s.Voice.Start(ctx); err != nil {
		return fmt.Errorf("start voice: %w", err)
	}
	if s.Config.Demo && cfg.SIPAddr != "" {
		if err := s.seedDemoTrunk(ctx); err != nil {
			return fmt.Errorf("demo trunk: %w", err)
		}
	}
	if addr := s.Voice.SIPAddr(); addr != "" {
		s.Config.Logger.Info("voice: SIP listening", "addr", addr, "recordings", filepath.Join(s.Config.DataDir, "voice"))
	}
	return nil
}

// seedDemoTrunk gives a demo workspace that takes phone calls a trunk
// accepting calls from this machine, so a SIP phone (or sipp) on it can
// call in.
func (s *Server) seedDemoTrunk(ctx context.Context) error {
	list, err := s.Voice.Trunks(ctx)
	if err != nil || len(list) > 0 {
		return err
	}
	return s.Voice.PutTrunk(ctx, &backend.Trunk{Name: "main", Enabled: true, Config: []byte(`{"allow":["127.0.0.1/8"]}`)})
}
