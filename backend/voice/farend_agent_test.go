package voice

import (
	"context"
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/pion/dtls/v2"
	"github.com/pion/ice/v2"
	"github.com/pion/srtp/v2"
)

// A far-end agent's handshake: what the engine's WebRTC leg demands before
// media flows (ICE, then DTLS exporting the SRTP keys), done with pion's
// ICE agent and DTLS connection rather than a whole peer connection.

// offerICE is what the far end needs of the engine's offer.
type offerICE struct {
	ufrag, pwd, mid string
	candidates      []string
}

func parseOffer(sdp string) offerICE {
	var o offerICE
	for _, line := range strings.Split(sdp, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "a=ice-ufrag:"):
			o.ufrag = strings.TrimPrefix(line, "a=ice-ufrag:")
		case strings.HasPrefix(line, "a=ice-pwd:"):
			o.pwd = strings.TrimPrefix(line, "a=ice-pwd:")
		case strings.HasPrefix(line, "a=mid:"):
			o.mid = strings.TrimPrefix(line, "a=mid:")
		case strings.HasPrefix(line, "a=candidate:"):
			o.candidates = append(o.candidates, strings.TrimPrefix(line, "a="))
		}
	}
	return o
}

// call sets up one call's far ends against the engine's SIP leg port and
// its agent leg's offer, and returns the agent's answer. The handshake
// (ICE, then DTLS) finishes in the background; f.ready waits for it.
func (f *farEnd) call(legPort int, offer string) (string, error) {
	if port, ok := strings.CutPrefix(offer, "rtp "); ok {
		return f.plainCall(legPort, port)
	}
	o := parseOffer(offer)
	agent, err := ice.NewAgent(&ice.AgentConfig{NetworkTypes: []ice.NetworkType{ice.NetworkTypeUDP4},
		CandidateTypes: []ice.CandidateType{ice.CandidateTypeHost}, UDPMux: f.mux})
	if err != nil {
		return "", err
	}
	fc := &farCall{leg: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: legPort}, agent: agent, ssrc: rand.Uint32()}
	gathered := make(chan struct{})
	var cands []string
	if err := agent.OnCandidate(func(c ice.Candidate) {
		if c == nil {
			close(gathered)
			return
		}
		cands = append(cands, c.Marshal())
	}); err != nil {
		return "", err
	}
	if err := agent.GatherCandidates(); err != nil {
		return "", err
	}
	<-gathered
	for _, line := range o.candidates {
		c, err := ice.UnmarshalCandidate(line)
		if err != nil {
			return "", err
		}
		if err := agent.AddRemoteCandidate(c); err != nil {
			return "", err
		}
	}
	ufrag, pwd, err := agent.GetLocalUserCredentials()
	if err != nil {
		return "", err
	}
	f.mu.Lock()
	f.byLegPort[legPort] = fc
	f.calls = append(f.calls, fc)
	f.mu.Unlock()
	f.ready.Add(1)
	go func() {
		defer f.ready.Done()
		if err := f.handshake(fc, o); err != nil {
			select {
			case f.failed <- err:
			default:
			}
		}
	}()
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=- %d 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE %s\r\na=fingerprint:sha-256 %s\r\n", fc.ssrc, o.mid, strings.ToUpper(f.fingerprint))
	fmt.Fprintf(&b, "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 0.0.0.0\r\na=mid:%s\r\na=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", o.mid, ufrag, pwd)
	fmt.Fprintf(&b, "a=setup:active\r\na=rtcp-mux\r\na=sendrecv\r\na=rtpmap:0 PCMU/8000\r\na=msid:far far\r\na=ssrc:%d cname:far\r\n", fc.ssrc)
	for _, c := range cands {
		fmt.Fprintf(&b, "a=candidate:%s\r\n", c)
	}
	b.WriteString("a=end-of-candidates\r\n")
	return b.String(), nil
}

// plainCall sets up a call whose agent leg is plain RTP at the engine's
// port: the agents' socket sends there unencrypted.
func (f *farEnd) plainCall(legPort int, port string) (string, error) {
	n, err := strconv.Atoi(port)
	if err != nil {
		return "", err
	}
	lo := net.IPv4(127, 0, 0, 1)
	fc := &farCall{leg: &net.UDPAddr{IP: lo, Port: legPort}, peer: &net.UDPAddr{IP: lo, Port: n}, ssrc: rand.Uint32()}
	f.mu.Lock()
	f.byLegPort[legPort], f.byICEPort[n] = fc, fc
	f.calls = append(f.calls, fc)
	f.mu.Unlock()
	return fmt.Sprintf("rtp %d", f.agents.LocalAddr().(*net.UDPAddr).Port), nil
}

// handshake connects ICE (the engine controls it), runs DTLS as the
// client and derives the SRTP keys from it.
func (f *farEnd) handshake(fc *farCall, o offerICE) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := fc.agent.Accept(ctx, o.ufrag, o.pwd)
	if err != nil {
		return fmt.Errorf("ice: %w", err)
	}
	pair, err := fc.agent.GetSelectedCandidatePair()
	if err != nil || pair == nil {
		return fmt.Errorf("ice: no selected pair (%v)", err)
	}
	if fc.dtls, err = dtls.ClientWithContext(ctx, conn, &dtls.Config{Certificates: []tls.Certificate{f.cert}, InsecureSkipVerify: true,
		SRTPProtectionProfiles: []dtls.SRTPProtectionProfile{dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80}}); err != nil {
		return fmt.Errorf("dtls: %w", err)
	}
	profile, ok := fc.dtls.SelectedSRTPProtectionProfile()
	if !ok {
		return fmt.Errorf("dtls: no SRTP profile agreed")
	}
	cfg := srtp.Config{Profile: srtp.ProtectionProfile(profile)}
	st := fc.dtls.ConnectionState()
	if err := cfg.ExtractSessionKeysFromDTLS(&st, true); err != nil {
		return err
	}
	if fc.srtp, err = srtp.CreateContext(cfg.Keys.LocalMasterKey, cfg.Keys.LocalMasterSalt, cfg.Profile); err != nil {
		return err
	}
	fc.peer = &net.UDPAddr{IP: net.ParseIP(pair.Remote.Address()), Port: pair.Remote.Port()}
	f.mu.Lock()
	f.byICEPort[fc.peer.Port] = fc
	f.mu.Unlock()
	return nil
}
