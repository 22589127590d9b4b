package server

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
)

// VoiceFlags adds the call settings to fset (serve's, and the desktop's for
// its embedded engine); call the returned function after fset.Parse.
func VoiceFlags(fset *flag.FlagSet) func() (VoiceConfig, error) {
	sip := fset.String("sip", "", "UDP address SIP trunks send calls to, such as :5060 (empty: no phone calls)")
	ports := fset.String("rtp-ports", "", "UDP port range of call audio, such as 10000-20000 (empty: any port)")
	public := fset.String("public-ip", "", "public IP announced to trunks and softphones when behind a 1:1 NAT")
	bind := fset.String("media-ip", "", "address call audio binds to (default: the SIP address's host)")
	return func() (VoiceConfig, error) {
		vc := VoiceConfig{SIPAddr: *sip, PublicIP: *public, BindIP: *bind}
		if *ports != "" {
			lo, hi, ok := strings.Cut(*ports, "-")
			var err1, err2 error
			vc.RTPPortMin, err1 = strconv.Atoi(lo)
			vc.RTPPortMax, err2 = strconv.Atoi(hi)
			if !ok || err1 != nil || err2 != nil || vc.RTPPortMin < 1024 || vc.RTPPortMax > 65535 || vc.RTPPortMin >= vc.RTPPortMax {
				return vc, fmt.Errorf("--rtp-ports must look like 10000-20000, within 1024-65535")
			}
		}
		return vc, nil
	}
}
