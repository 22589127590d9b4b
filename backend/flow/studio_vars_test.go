package flow_test

import (
	"os"
	"path/filepath"
	"testing"

	"switchboard/backend/flow"
)

// TestImportFlexMessagingFlow imports Flex's default Messaging Flow and
// runs it: the task must get the customer's address, the channel and the
// conversation as name, channelType and channelSid (they came out null
// before the variables were mapped), and the one variable Switchboard has
// no equivalent for (pre-engagement data) must be reported.
func TestImportFlexMessagingFlow(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "studio", "flex_messaging.json"))
	if err != nil {
		t.Fatal(err)
	}
	f, rep, err := flow.ImportStudio(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) > 0 {
		t.Fatalf("the imported flow does not validate: %+v", rep.Problems)
	}
	unmapped := map[string]bool{}
	for _, v := range rep.Variables {
		if v.To == "" {
			unmapped[v.From] = true
		}
	}
	if len(unmapped) != 1 || !unmapped["trigger.message.ChannelAttributes.pre_engagement_data.friendlyName"] {
		t.Errorf("unmapped variables %v, want only the pre-engagement name", unmapped)
	}
	reported := false
	for _, is := range rep.Issues {
		if is.Widget == "SendMessageToAgent" && is.Message == "variable {{trigger.message.ChannelAttributes.pre_engagement_data.friendlyName}} has no Switchboard equivalent: it renders empty" {
			reported = true
		}
	}
	if !reported {
		t.Errorf("the unmapped variable is not among the issues: %+v", rep.Issues)
	}

	h := newHarness(t, f)
	h.say("Hello, I need help with my order")
	calls := h.taskCalls()
	if len(calls) != 1 {
		t.Fatalf("tasks %+v, want one", calls)
	}
	want := map[string]any{"name": "+15550001111", "channelType": "sms.twilio", "channelSid": "cv_1", "customerFriendly": nil}
	for k, v := range want {
		if calls[0].Attrs[k] != v {
			t.Errorf("task attribute %s = %#v, want %#v (all: %v)", k, calls[0].Attrs[k], v, calls[0].Attrs)
		}
	}
}
