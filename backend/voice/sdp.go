package voice

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/pion/sdp/v3"

	"switchboard/backend"
	"switchboard/backend/voice/dsp"
)

// sipMedia is what a SIP peer's SDP says about its audio.
type sipMedia struct {
	addr *net.UDPAddr
	// pt is the G.711 payload type chosen (PCMU preferred), dtmfPT the
	// peer's telephone-event type (0: none).
	pt, dtmfPT uint8
	// direction is sendrecv, sendonly, recvonly or inactive.
	direction string
}

// held reports whether the peer put the call on hold.
func (m *sipMedia) held() bool {
	return m.direction == "sendonly" || m.direction == "inactive" || m.addr.IP.IsUnspecified()
}

// parseSIPOffer reads a peer's SDP. It returns EInvalid (answered with 488)
// when there is no audio line with PCMU or PCMA.
func parseSIPOffer(body []byte) (*sipMedia, error) {
	var s sdp.SessionDescription
	if err := s.Unmarshal(body); err != nil {
		return nil, backend.Errorf(backend.EInvalid, "The SDP is not valid.")
	}
	host := ""
	if s.ConnectionInformation != nil && s.ConnectionInformation.Address != nil {
		host = s.ConnectionInformation.Address.Address
	}
	dir := "sendrecv"
	for _, a := range s.Attributes {
		if isDirection(a.Key) {
			dir = a.Key
		}
	}
	for _, md := range s.MediaDescriptions {
		if md.MediaName.Media != "audio" || md.MediaName.Port.Value == 0 {
			continue
		}
		m := &sipMedia{direction: dir}
		if md.ConnectionInformation != nil && md.ConnectionInformation.Address != nil {
			host = md.ConnectionInformation.Address.Address
		}
		ip := net.ParseIP(host)
		if ip == nil {
			return nil, backend.Errorf(backend.EInvalid, "The SDP's connection address %q is not an IP address.", host)
		}
		m.addr = &net.UDPAddr{IP: ip, Port: md.MediaName.Port.Value}
		pts := map[int]bool{}
		for _, f := range md.MediaName.Formats {
			if n, err := strconv.Atoi(f); err == nil {
				pts[n] = true
			}
		}
		switch {
		case pts[dsp.PayloadPCMU]:
			m.pt = dsp.PayloadPCMU
		case pts[dsp.PayloadPCMA]:
			m.pt = dsp.PayloadPCMA
		default:
			return nil, backend.Errorf(backend.EInvalid, "The call offers no G.711 (PCMU or PCMA) audio.")
		}
		for _, a := range md.Attributes {
			if isDirection(a.Key) {
				m.direction = a.Key
			}
			if a.Key == "rtpmap" {
				pt, codec, _ := strings.Cut(a.Value, " ")
				if n, err := strconv.Atoi(pt); err == nil && pts[n] && strings.EqualFold(codec, "telephone-event/8000") {
					m.dtmfPT = uint8(n)
				}
			}
		}
		return m, nil
	}
	return nil, backend.Errorf(backend.EInvalid, "The call offers no audio.")
}

func isDirection(k string) bool {
	return k == "sendrecv" || k == "sendonly" || k == "recvonly" || k == "inactive"
}

// answerDirection mirrors a peer's direction: hold (sendonly) is answered
// recvonly, inactive with inactive.
func answerDirection(peer string) string {
	switch peer {
	case "sendonly":
		return "recvonly"
	case "recvonly":
		return "sendonly"
	case "inactive":
		return "inactive"
	}
	return "sendrecv"
}

// buildSIPSDP returns our SDP for a SIP leg: audio at ip:port with one G.711
// payload type and, when dtmfPT is set, telephone-event.
func buildSIPSDP(ip string, port int, sessID uint64, version uint64, pt, dtmfPT uint8, direction string) []byte {
	codec := "PCMU"
	if pt == dsp.PayloadPCMA {
		codec = "PCMA"
	}
	formats := strconv.Itoa(int(pt))
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=switchboard %d %d IN IP4 %s\r\ns=Switchboard\r\nc=IN IP4 %s\r\nt=0 0\r\n", sessID, version, ip, ip)
	if dtmfPT != 0 {
		formats += " " + strconv.Itoa(int(dtmfPT))
	}
	fmt.Fprintf(&b, "m=audio %d RTP/AVP %s\r\na=rtpmap:%d %s/8000\r\n", port, formats, pt, codec)
	if dtmfPT != 0 {
		fmt.Fprintf(&b, "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-16\r\n", dtmfPT, dtmfPT)
	}
	fmt.Fprintf(&b, "a=ptime:20\r\na=%s\r\n", direction)
	return []byte(b.String())
}

// newSessionID returns an SDP session id.
func newSessionID() uint64 { return uint64(time.Now().UnixNano()) }
