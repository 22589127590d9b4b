// Package all registers every channel connector; import it for its side
// effect: import _ "switchboard/channels/all".
package all

import (
	_ "switchboard/channels/twilio" // sms.twilio, whatsapp.twilio
)
