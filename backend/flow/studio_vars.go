package flow

import (
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strings"

	"switchboard/backend"
)

// VariableMapping says what one Studio variable became in the import. To
// is empty when Switchboard has no equivalent (it then renders empty).
type VariableMapping struct {
	Widget string `json:"widget"`
	From   string `json:"from"`
	To     string `json:"to,omitempty"`
}

// studioPaths maps the Studio variables Flex flows rely on to Switchboard
// paths, by lower-case Studio path. Flex's default Messaging Flow sends
// {{trigger.message.ChannelAttributes.from}}, .channel_type and
// {{trigger.message.ChannelSid}} as the task's name, channelType and
// channelSid; Conversations-based flows use trigger.conversation.*.
var studioPaths = map[string]string{
	"trigger.message.channelattributes.from":         "trigger.message.from",
	"trigger.message.channelattributes.channel_type": "trigger.message.channel",
	"trigger.message.channelsid":                     "conversation.id",
	"trigger.message.from":                           "trigger.message.from",
	"trigger.message.to":                             "flow.channel.address",
	"trigger.message.body":                           "trigger.message.body",
	"trigger.message.messagesid":                     "trigger.message.messageId",
	"trigger.message.sid":                            "trigger.message.messageId",
	"trigger.message.conversationsid":                "conversation.id",
	"trigger.conversation.conversationsid":           "conversation.id",
	"trigger.conversation.author":                    "trigger.message.from",
	"trigger.conversation.body":                      "trigger.message.body",
	"trigger.conversation.source":                    "trigger.message.channel",
	"trigger.conversation.messagesid":                "trigger.message.messageId",
	"flow.channel.address":                           "flow.channel.address",
	"contact.channel.address":                        "contact.channel.address",
	"flow.sid":                                       "flow.sid",
}

// studioPrefixes map whole families of paths: what follows the prefix is kept.
var studioPrefixes = []struct{ from, to string }{
	{"flow.variables.", "flow.variables."},
	{"flow.data.", "trigger.request.parameters."},
	{"trigger.request.parameters.", "trigger.request.parameters."},
}

var (
	placeholder = regexp.MustCompile(`\{\{(.*?)\}\}`)
	liquidTag   = regexp.MustCompile(`\{%.*?%\}`)
)

// mapVariables rewrites the Studio variables in every text of w's
// properties to their Switchboard paths, and reports each variable and
// each Liquid tag it could not map.
func (im *importer) mapVariables(st studioState, w *backend.FlowWidget) {
	if len(w.Properties) == 0 {
		return
	}
	var props any
	if json.Unmarshal(w.Properties, &props) != nil {
		return
	}
	props = im.rewrite(st, w.Name, props)
	w.Properties, _ = json.Marshal(props)
}

func (im *importer) rewrite(st studioState, widget string, v any) any {
	switch x := v.(type) {
	case string:
		return im.rewriteText(st, widget, x)
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) { // in a stable order, for the report
			x[k] = im.rewrite(st, widget, x[k])
		}
	case []any:
		for i, e := range x {
			x[i] = im.rewrite(st, widget, e)
		}
	}
	return v
}

func (im *importer) rewriteText(st studioState, widget, text string) string {
	for _, tag := range liquidTag.FindAllString(text, -1) {
		im.issue(st, "Liquid tag %s is not supported: it is left as text", tag)
	}
	return placeholder.ReplaceAllStringFunc(text, func(m string) string {
		inner := m[2 : len(m)-2]
		path, filters, _ := strings.Cut(inner, "|")
		path = strings.TrimSpace(path)
		to, ok := im.mapPath(path)
		im.rep.Variables = append(im.rep.Variables, VariableMapping{Widget: widget, From: path, To: to})
		if !ok {
			im.issue(st, "variable {{%s}} has no Switchboard equivalent: it renders empty", path)
			return m
		}
		if filters != "" {
			return "{{" + to + " |" + filters + "}}"
		}
		return "{{" + to + "}}"
	})
}

// mapPath returns the Switchboard path of a Studio variable.
func (im *importer) mapPath(path string) (string, bool) {
	lower := strings.ToLower(path)
	if to, ok := studioPaths[lower]; ok {
		return to, true
	}
	for _, p := range studioPrefixes {
		if strings.HasPrefix(lower, p.from) && len(path) > len(p.from) {
			return p.to + path[len(p.from):], true
		}
	}
	if rest, ok := strings.CutPrefix(path, "widgets."); ok {
		name, tail, _ := strings.Cut(rest, ".")
		if renamed, known := im.names[name]; known && tail != "" {
			return "widgets." + renamed + "." + tail, true
		}
	}
	return "", false
}
