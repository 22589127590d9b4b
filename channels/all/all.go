// Package all registers every channel connector; import it for its side
// effect: import _ "switchboard/channels/all".
package all

import (
	_ "switchboard/channels/messenger" // messenger, instagram
	_ "switchboard/channels/twilio"    // sms.twilio, whatsapp.twilio
	_ "switchboard/channels/whatsapp"  // whatsapp.cloud
)
