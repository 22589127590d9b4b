package flow

import (
	"encoding/json"
	"sort"

	"switchboard/backend"
)

// DefaultAgentKeywords are the words that ask for a live agent, by
// language. The default flow's split holds them; admins edit the flow to
// change them.
var DefaultAgentKeywords = map[string][]string{
	"en": {"agent", "live agent", "human", "operator", "representative", "real person"},
	"es": {"agente", "humano", "operador", "operadora", "asesor", "persona real"},
	"fr": {"conseiller", "conseillère", "humain", "opérateur", "operateur", "agent humain"},
	"de": {"mitarbeiter", "mensch", "berater", "echte person"},
	"pt": {"atendente", "humano", "operador", "pessoa real"},
	"it": {"operatore", "umano", "persona reale"},
}

// defaultHandoffText is what the customer reads when handed over, by language.
var defaultHandoffText = map[string]string{
	"en": "Connecting you with a live agent. Please hold on.",
	"es": "Le estamos conectando con un agente. Un momento, por favor.",
	"fr": "Nous vous mettons en relation avec un conseiller. Un instant, s'il vous plaît.",
	"de": "Wir verbinden Sie mit einem Mitarbeiter. Einen Moment bitte.",
	"pt": "Estamos a ligá-lo a um atendente. Um momento, por favor.",
	"it": "La stiamo mettendo in contatto con un operatore. Un attimo, per favore.",
}

// DefaultFAQ is the default flow's FAQ bot, to be edited per workspace.
var DefaultFAQ = []FAQEntry{
	{Patterns: []string{"hi", "hello", "hey", "good morning", "good afternoon", "hola", "buenos días", "bonjour", "salut", "hallo", "olá", "oi", "ciao"},
		Answer: `Hi! I'm the virtual assistant. Ask me about opening hours, orders or returns, or type "agent" to talk to a person.`},
	{Patterns: []string{"opening hours", "hours", "open", "close", "closing", "horario", "horaires", "öffnungszeiten"},
		Answer: "We're open Monday to Friday, 9:00 to 18:00."},
	{Patterns: []string{"order status", "my order", "where is my order", "tracking", "delivery", "shipping"},
		Answer: "You can follow your order with the tracking link in your confirmation email."},
	{Patterns: []string{"return", "refund", "exchange", "devolución", "remboursement"},
		Answer: "You can return any item within 30 days; the refund reaches you within 5 working days."},
}

// DefaultFallback is the FAQ bot's answer when it has none.
const DefaultFallback = `Sorry, I didn't get that. Could you rephrase it? Type "agent" to talk to a person.`

// DefaultFlowOptions adjust the default flow.
type DefaultFlowOptions struct {
	// Languages the workspace serves, first the default (default: every
	// language of DefaultAgentKeywords, English first).
	Languages []string
	// Keywords replace the agent keywords of a language.
	Keywords map[string][]string
	// Department is the task's department attribute (default "support").
	Department string
	// FAQ replaces DefaultFAQ.
	FAQ []FAQEntry
	// Fallback replaces DefaultFallback.
	Fallback string
}

// DefaultFlow returns the flow of channel instances that have none of
// their own: a message asking for an agent ("agent", "live agent",
// "human", "operator" and the same in each language) goes to a live agent
// with the language it was asked in; anything else goes to the FAQ bot,
// which hands over to an agent after two questions in a row it cannot
// answer. After an answer the flow waits a day for the next question.
func DefaultFlow(o DefaultFlowOptions) *backend.Flow {
	langs := o.Languages
	if len(langs) == 0 {
		langs = []string{"en"}
		for l := range DefaultAgentKeywords {
			if l != "en" {
				langs = append(langs, l)
			}
		}
		sort.Strings(langs[1:])
	}
	if o.Department == "" {
		o.Department = "support"
	}
	if o.FAQ == nil {
		o.FAQ = DefaultFAQ
	}
	if o.Fallback == "" {
		o.Fallback = DefaultFallback
	}
	handoff := func(l string) string {
		if t := defaultHandoffText[l]; t != "" {
			return t
		}
		return defaultHandoffText["en"]
	}
	f := &backend.Flow{Name: "Default", Description: "Live agent on request, else the FAQ bot; an agent after two unanswered questions."}
	add := widgetAdder(f)
	add("trigger", TypeTrigger, map[string]string{backend.InputMessage: "init"}, nil)
	add("init", TypeSetVariables, map[string]string{EventNext: "check_agent"}, map[string]any{"variables": []kv{
		{"language", langs[0]}, {"department", o.Department}, {"handoff_text", handoff(langs[0])}}})
	var cases []SplitCase
	for _, l := range langs {
		kw := o.Keywords[l]
		if kw == nil {
			kw = DefaultAgentKeywords[l]
		}
		if len(kw) == 0 {
			continue
		}
		cases = append(cases, SplitCase{Event: "agent_" + l, Condition: Condition{Op: OpContainsAny, Values: kw}})
	}
	splitNext := map[string]string{EventNoMatch: "faq"}
	for _, c := range cases {
		splitNext[c.Event] = "lang_" + c.Event[len("agent_"):]
	}
	add("check_agent", TypeSplit, splitNext, SplitProperties{Input: "{{message.body}}", Cases: cases})
	for _, c := range cases {
		l := c.Event[len("agent_"):]
		add("lang_"+l, TypeSetVariables, map[string]string{EventNext: "to_agent"}, map[string]any{"variables": []kv{
			{"language", l}, {"handoff_text", handoff(l)}}})
	}
	add("faq", TypeFAQ, map[string]string{EventAnswered: "wait_question", EventNoMatch: "wait_question", EventHandover: "to_agent"},
		FAQProperties{Entries: o.FAQ, Fallback: o.Fallback, MaxMisses: DefaultMaxMisses})
	add("wait_question", TypeSendAndWait, map[string]string{EventIncoming: "check_agent", EventTimeout: "end", EventFailed: "end"},
		map[string]any{"timeout": 24 * 60 * 60})
	add("to_agent", TypeSendToAgent, map[string]string{EventFailed: "no_agent"}, AgentProperties{
		Channel: "chat", Body: "{{flow.variables.handoff_text}}",
		Attributes: map[string]any{"language": "{{flow.variables.language}}", "department": "{{flow.variables.department}}"}})
	add("no_agent", TypeSendMessage, map[string]string{EventSent: "end", EventFailed: "end"},
		map[string]any{"body": "Sorry, no agent can take your conversation right now. Please try again later."})
	add("end", TypeEnd, nil, nil)
	return f
}

// DefaultVoiceFlow returns the flow of phone trunks that have none of their
// own: a greeting, the menu "for sales press 1, for support press 2" (asked
// up to three times), then the call waits for an agent with the
// department and language as task attributes. No key, or no agent to
// enqueue to, leads to voicemail.
func DefaultVoiceFlow(o DefaultFlowOptions) *backend.Flow {
	lang := "en"
	if len(o.Languages) > 0 {
		lang = o.Languages[0]
	}
	f := &backend.Flow{Name: "Default voice", Description: "Greeting, menu (1 sales, 2 support), then an agent; voicemail when no key is pressed."}
	add := widgetAdder(f)
	enqueue := map[string]any{"attributes": map[string]any{"language": lang, "department": "{{flow.variables.department}}"}}
	add("trigger", TypeTrigger, map[string]string{backend.InputCall: "greeting"}, nil)
	add("greeting", TypeSayPlay, map[string]string{EventAudioComplete: "menu"}, map[string]any{"play": "greeting", "say": "Thank you for calling."})
	add("menu", TypeGather, map[string]string{EventKeypress: "choice", EventTimeout: "voicemail"},
		map[string]any{"play": "menu", "say": "For sales, press 1. For support, press 2.", "numDigits": 1, "timeout": 5, "retries": 2})
	add("choice", TypeSplit, map[string]string{"sales": "sales", "support": "support", EventNoMatch: "invalid"},
		SplitProperties{Input: "{{widgets.menu.Digits}}", Cases: []SplitCase{
			{Event: "sales", Condition: Condition{Op: OpEquals, Value: "1"}},
			{Event: "support", Condition: Condition{Op: OpEquals, Value: "2"}}}})
	add("invalid", TypeSayPlay, map[string]string{EventAudioComplete: "menu"}, map[string]any{"play": "invalid", "say": "Sorry, that is not an option."})
	add("sales", TypeSetVariables, map[string]string{EventNext: "enqueue"}, map[string]any{"variables": []kv{{"department", "sales"}}})
	add("support", TypeSetVariables, map[string]string{EventNext: "enqueue"}, map[string]any{"variables": []kv{{"department", "support"}}})
	add("enqueue", TypeEnqueue, map[string]string{EventFailed: "voicemail"}, enqueue)
	add("voicemail", TypeRecord, map[string]string{EventRecordingComplete: "goodbye"},
		map[string]any{"play": "voicemail", "maxLength": 120})
	add("goodbye", TypeSayPlay, map[string]string{EventAudioComplete: "hangup"}, map[string]any{"play": "goodbye"})
	add("hangup", TypeHangup, nil, nil)
	return f
}

// kv is one set-variables entry.
type kv struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// widgetAdder returns a function that appends a widget to f, with props
// marshalled as its properties.
func widgetAdder(f *backend.Flow) func(name, typ string, next map[string]string, props any) {
	return func(name, typ string, next map[string]string, props any) {
		w := backend.FlowWidget{Name: name, Type: typ, Transitions: next}
		if props != nil {
			w.Properties, _ = json.Marshal(props)
		}
		f.Widgets = append(f.Widgets, w)
	}
}
