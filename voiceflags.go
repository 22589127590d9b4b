package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"

	"switchboard/backend/server"
)

// voiceFlags adds the serve command's call settings to fset; parse the
// returned function's result after fset.Parse.
func voiceFlags(fset *flag.FlagSet) func() (server.VoiceConfig, error) {
	sip := fset.String("sip", "", "UDP address SIP trunks send calls to, such as :5060 (empty: no phone calls)")
	ports := fset.String("rtp-ports", "", "UDP port range of call audio, such as 10000-20000 (empty: any port)")
	public := fset.String("public-ip", "", "public IP announced to trunks and softphones when behind a 1:1 NAT")
	bind := fset.String("media-ip", "", "address call audio binds to (default: the SIP address's host)")
	return func() (server.VoiceConfig, error) {
		vc := server.VoiceConfig{SIPAddr: *sip, PublicIP: *public, BindIP: *bind}
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

// audioFlag adds the desktop's sound-device choice to fset.
func audioFlag(fset *flag.FlagSet) *string {
	return fset.String("audio", "", "sound devices for calls: empty for the system's, null (miniaudio's null backend, no sound card), none")
}
