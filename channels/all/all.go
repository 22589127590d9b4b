// Package all registers every channel connector; import it for its side
// effect: import _ "switchboard/channels/all".
package all

import (
	_ "switchboard/channels/custom"    // custom
	_ "switchboard/channels/discord"   // discord
	_ "switchboard/channels/email"     // email
	_ "switchboard/channels/line"      // line
	_ "switchboard/channels/messenger" // messenger, instagram
	_ "switchboard/channels/telegram"  // telegram
	_ "switchboard/channels/twilio"    // sms.twilio, whatsapp.twilio
	_ "switchboard/channels/webchat"   // webchat
	_ "switchboard/channels/whatsapp"  // whatsapp.cloud
)
