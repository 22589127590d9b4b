package voice

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"

	"github.com/pion/rtp"
)

// rtpLeg is the media of a SIP leg: one UDP socket from the engine's RTP
// port range, sending to the address the peer's SDP named.
type rtpLeg struct {
	conn   *net.UDPConn
	remote atomic.Pointer[net.UDPAddr]
	ssrc   uint32

	wmu  sync.Mutex
	wbuf []byte

	closeOnce sync.Once
	done      chan struct{}
}

// listenRTP binds a UDP socket on ip at an even port in [lo, hi] (any port
// when both are 0).
func listenRTP(ip net.IP, lo, hi int) (*net.UDPConn, error) {
	if lo == 0 && hi == 0 {
		return net.ListenUDP("udp4", &net.UDPAddr{IP: ip})
	}
	n := (hi-lo)/2 + 1
	start := rand.IntN(n)
	for i := 0; i < n; i++ {
		port := lo + 2*((start+i)%n)
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: ip, Port: port})
		if err == nil {
			return c, nil
		}
	}
	return nil, fmt.Errorf("no free RTP port in %d-%d", lo, hi)
}

func newRTPLeg(conn *net.UDPConn) *rtpLeg {
	return &rtpLeg{conn: conn, ssrc: rand.Uint32(), wbuf: make([]byte, 1500), done: make(chan struct{})}
}

func (l *rtpLeg) port() int { return l.conn.LocalAddr().(*net.UDPAddr).Port }

// writeRTP implements sink.
func (l *rtpLeg) writeRTP(p *rtp.Packet) error {
	to := l.remote.Load()
	if to == nil {
		return nil
	}
	l.wmu.Lock()
	defer l.wmu.Unlock()
	p.SSRC = l.ssrc
	n, err := p.MarshalTo(l.wbuf)
	if err != nil {
		return err
	}
	_, err = l.conn.WriteToUDP(l.wbuf[:n], to)
	return err
}

// run reads packets until the leg closes and hands each to fn; the packet
// is reused after fn returns. Reading allocates nothing per packet (the
// sender's address is not asked for).
func (l *rtpLeg) run(fn func(p *rtp.Packet)) {
	buf := make([]byte, 1500)
	var p rtp.Packet
	for {
		n, err := l.conn.Read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if p.Unmarshal(buf[:n]) != nil || p.Version != 2 {
			continue
		}
		fn(&p)
	}
}

func (l *rtpLeg) close() {
	l.closeOnce.Do(func() {
		close(l.done)
		l.conn.Close()
	})
}
