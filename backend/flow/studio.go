package flow

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"switchboard/backend"
)

// ImportReport says how a Twilio Studio export was mapped.
type ImportReport struct {
	// Mapped counts the Studio widgets imported with their behaviour.
	Mapped int `json:"mapped"`
	// Issues lists what could not be mapped, or was mapped loosely.
	Issues []ImportIssue `json:"issues"`
	// Problems are the imported flow's validation problems, to fix before
	// it can be saved (empty when it is valid).
	Problems []Problem `json:"problems"`
	// Variables lists every Studio variable found and what it became;
	// those without a To are also in Issues.
	Variables []VariableMapping `json:"variables"`
}

// ImportIssue is one thing the import could not carry over exactly.
type ImportIssue struct {
	Widget  string `json:"widget"`
	Type    string `json:"type"`
	Message string `json:"message"`
}

type studioFlow struct {
	Description  string        `json:"description"`
	InitialState string        `json:"initial_state"`
	States       []studioState `json:"states"`
}

type studioState struct {
	Name        string                     `json:"name"`
	Type        string                     `json:"type"`
	Transitions []studioTransition         `json:"transitions"`
	Properties  map[string]json.RawMessage `json:"properties"`
}

type studioTransition struct {
	Event      string            `json:"event"`
	Next       string            `json:"next"`
	Conditions []studioCondition `json:"conditions"`
}

type studioCondition struct {
	FriendlyName string   `json:"friendly_name"`
	Arguments    []string `json:"arguments"`
	Type         string   `json:"type"`
	Value        string   `json:"value"`
}

// IsStudioExport reports whether data looks like a Twilio Studio flow
// export (a JSON object with "states").
func IsStudioExport(data []byte) bool {
	var probe struct {
		States json.RawMessage `json:"states"`
	}
	return json.Unmarshal(data, &probe) == nil && len(probe.States) > 0 && probe.States[0] == '['
}

// ImportStudio maps a Twilio Studio flow export onto Switchboard widgets:
// trigger, send-message, send-and-wait-for-reply, split-based-on,
// set-variables, make-http-request and send-to-flex (as send-to-agent).
// Widgets of other types become end widgets; the report lists them and
// everything else not carried over. Studio variables in texts are rewritten
// to their Switchboard paths (the ones Flex's Messaging Flow uses
// included); each one without an equivalent is reported. Unwired Studio transitions (which end
// a Studio execution) go to an end widget. The returned flow may still be
// invalid: see the report's Problems.
func ImportStudio(data []byte) (*backend.Flow, *ImportReport, error) {
	if len(data) > MaxFlowBytes {
		return nil, nil, backend.Errorf(backend.EInvalid, "The export is larger than %d bytes.", MaxFlowBytes)
	}
	var sf studioFlow
	if err := json.Unmarshal(data, &sf); err != nil {
		return nil, nil, backend.Errorf(backend.EInvalid, "The Studio export is not valid JSON: %v.", err)
	}
	if len(sf.States) == 0 {
		return nil, nil, backend.Errorf(backend.EInvalid, "The Studio export has no states.")
	}
	im := &importer{rep: &ImportReport{Issues: []ImportIssue{}, Problems: []Problem{}, Variables: []VariableMapping{}}, names: map[string]string{}, used: map[string]bool{}}
	for _, st := range sf.States {
		im.names[st.Name] = im.uniqueName(st.Name)
	}
	f := &backend.Flow{Name: "Imported from Twilio Studio", Description: sf.Description}
	for _, st := range sf.States {
		f.Widgets = append(f.Widgets, im.widget(st))
	}
	if sf.InitialState != "" {
		f.Start = im.names[sf.InitialState]
	}
	if im.endName != "" {
		f.Widgets = append(f.Widgets, backend.FlowWidget{Name: im.endName, Type: TypeEnd})
	}
	if _, err := Compile(f, DefaultRegistry()); err != nil {
		var ve *ValidationError
		if !errors.As(err, &ve) {
			return nil, nil, err
		}
		im.rep.Problems = ve.Problems
	}
	return f, im.rep, nil
}

type importer struct {
	rep     *ImportReport
	names   map[string]string // Studio name → widget name
	used    map[string]bool
	endName string
}

var badNameChars = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

func (im *importer) uniqueName(n string) string {
	base := badNameChars.ReplaceAllString(n, "_")
	if base == "" {
		base = "widget"
	}
	if len(base) > 60 {
		base = base[:60]
	}
	name := base
	for i := 2; im.used[name]; i++ {
		name = base + "_" + strconv.Itoa(i)
	}
	im.used[name] = true
	return name
}

func (im *importer) issue(st studioState, format string, args ...any) {
	im.rep.Issues = append(im.rep.Issues, ImportIssue{Widget: st.Name, Type: st.Type, Message: fmt.Sprintf(format, args...)})
}

// target returns the widget a Studio transition goes to; an unwired one
// goes to the shared end widget.
func (im *importer) target(next string) string {
	if next != "" {
		if n, ok := im.names[next]; ok {
			return n
		}
		return next // dangling in Studio too: validation reports it
	}
	if im.endName == "" {
		im.endName = im.uniqueName("end")
	}
	return im.endName
}

func (im *importer) widget(st studioState) backend.FlowWidget {
	w := backend.FlowWidget{Name: im.names[st.Name], Type: st.Type, Transitions: map[string]string{}}
	if w.Name != st.Name {
		im.issue(st, "renamed to %q (names are letters, digits, _ and -)", w.Name)
	}
	var off backend.FlowPosition
	if raw, ok := st.Properties["offset"]; ok && json.Unmarshal(raw, &off) == nil {
		w.Position = &off
	}
	tr := map[string]studioTransition{}
	for _, t := range st.Transitions {
		if _, dup := tr[t.Event]; !dup {
			tr[t.Event] = t
		}
	}
	wire := func(ours, theirs string) {
		w.Transitions[ours] = im.target(tr[theirs].Next)
	}
	var props any
	var ok bool
	switch st.Type {
	case "trigger":
		props, ok = nil, true
		for _, ev := range []string{backend.InputMessage, backend.InputCall, backend.InputRequest} {
			if t := tr[ev]; t.Next != "" {
				w.Transitions[ev] = im.target(t.Next)
			}
		}
		if t := tr["incomingConversationMessage"]; t.Next != "" {
			if w.Transitions[backend.InputMessage] == "" {
				w.Transitions[backend.InputMessage] = im.target(t.Next)
			} else {
				im.issue(st, "incomingConversationMessage dropped: incomingMessage is wired too")
			}
		}
		if t := tr["incomingParent"]; t.Next != "" {
			im.issue(st, "incomingParent dropped: subflows are not supported")
		}
	case "send-message":
		props, ok = map[string]any{"body": im.str(st, "body")}, true
		wire(EventSent, "sent")
		wire(EventFailed, "failed")
		im.ignored(st, "media_url", "media is not imported")
	case "send-and-wait-for-reply":
		p := map[string]any{"body": im.str(st, "body")}
		if n := im.seconds(st, "timeout"); n > 0 {
			p["timeout"] = n
		}
		props, ok = p, true
		wire(EventIncoming, "incomingMessage")
		wire(EventTimeout, "timeout")
		wire(EventFailed, "deliveryFailure")
		im.ignored(st, "media_url", "media is not imported")
	case "set-variables":
		props, ok = im.setVariables(st), true
		wire(EventNext, "next")
	case "split-based-on":
		props, ok = im.split(st, &w), true
	case "make-http-request":
		props, ok = im.http(st), true
		wire(EventSuccess, "success")
		wire(EventFailed, "failed")
		wire(EventTimeout, "failed")
	case "send-to-flex":
		props, ok = im.flex(st, tr, &w), true
	}
	if !ok {
		im.issue(st, "widget type %q is not supported: replaced by an end widget", st.Type)
		w.Type, w.Transitions = TypeEnd, nil
		return w
	}
	w.Type = map[string]string{"split-based-on": TypeSplit, "send-to-flex": TypeSendToAgent}[st.Type]
	if w.Type == "" {
		w.Type = st.Type
	}
	if props != nil {
		w.Properties, _ = json.Marshal(props)
	}
	im.mapVariables(st, &w)
	im.rep.Mapped++
	return w
}

// str returns a string property ("" when missing or not a string).
func (im *importer) str(st studioState, key string) string {
	var s string
	if raw, ok := st.Properties[key]; ok {
		if json.Unmarshal(raw, &s) != nil {
			s = strings.Trim(string(raw), `"`)
		}
	}
	return s
}

// seconds reads a number or numeric string property.
func (im *importer) seconds(st studioState, key string) int {
	s := im.str(st, key)
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil && s != "" {
		im.issue(st, "%s %q is not a number of seconds: the default is used", key, s)
	}
	return n
}

func (im *importer) ignored(st studioState, key, why string) {
	if s := im.str(st, key); s != "" && s != "null" && s != "[]" {
		im.issue(st, "%s: %s", key, why)
	}
}

func (im *importer) setVariables(st studioState) any {
	var vs []struct {
		Key   string          `json:"key"`
		Value json.RawMessage `json:"value"`
	}
	json.Unmarshal(st.Properties["variables"], &vs)
	out := []map[string]string{}
	for _, v := range vs {
		var s string
		if json.Unmarshal(v.Value, &s) != nil {
			s = string(v.Value)
		}
		out = append(out, map[string]string{"key": v.Key, "value": s})
	}
	return map[string]any{"variables": out}
}

// studioOps maps Studio split condition types to ours.
var studioOps = map[string]string{
	"equal_to": OpEquals, "not_equal_to": OpNotEquals, "matches_any_of": OpEqualsAny,
	"does_not_match_any_of": OpNotEqualsAny, "is_blank": OpIsBlank, "is_not_blank": OpIsNotBlank,
	"regex": OpRegex, "contains": OpContains, "does_not_contain": OpNotContains,
	"starts_with": OpStartsWith, "does_not_start_with": OpNotStartsWith,
	"less_than": OpLess, "greater_than": OpGreater,
}

func (im *importer) split(st studioState, w *backend.FlowWidget) any {
	input := im.str(st, "input")
	p := SplitProperties{Input: input}
	n := 0
	for _, t := range st.Transitions {
		switch t.Event {
		case "noMatch":
			w.Transitions[EventNoMatch] = im.target(t.Next)
			continue
		case "match":
		default:
			im.issue(st, "transition %q dropped", t.Event)
			continue
		}
		c := SplitCase{}
		good := true
		for _, sc := range t.Conditions {
			op := studioOps[sc.Type]
			if op == "" {
				im.issue(st, "condition %q (%s) is not supported: its branch is dropped", sc.FriendlyName, sc.Type)
				good = false
				break
			}
			cond := Condition{Op: op, Value: sc.Value}
			if len(sc.Arguments) > 0 && sc.Arguments[0] != input {
				cond.Input = sc.Arguments[0]
			}
			if op == OpEqualsAny || op == OpNotEqualsAny {
				for _, v := range strings.Split(sc.Value, ",") {
					cond.Values = append(cond.Values, strings.TrimSpace(v))
				}
				cond.Value = ""
			}
			c.Conditions = append(c.Conditions, cond)
		}
		if !good || len(c.Conditions) == 0 {
			if good {
				im.issue(st, "a match transition without conditions is dropped")
			}
			continue
		}
		n++
		c.Event = "match"
		if n > 1 {
			c.Event = "match_" + strconv.Itoa(n)
		}
		if len(c.Conditions) == 1 {
			c.Condition, c.Conditions = c.Conditions[0], nil
		}
		p.Cases = append(p.Cases, c)
		w.Transitions[c.Event] = im.target(t.Next)
	}
	if _, ok := w.Transitions[EventNoMatch]; !ok {
		w.Transitions[EventNoMatch] = im.target("")
	}
	return p
}

func (im *importer) http(st studioState) any {
	p := map[string]any{"url": im.str(st, "url")}
	if m := im.str(st, "method"); m != "" {
		p["method"] = strings.ToUpper(m)
	}
	ct := strings.ToLower(im.str(st, "content_type"))
	var params []struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	}
	json.Unmarshal(st.Properties["parameters"], &params)
	switch {
	case strings.HasPrefix(ct, "application/x-www-form-urlencoded") && len(params) > 0:
		form := map[string]string{}
		for _, kv := range params {
			form[kv.Key] = kv.Value
		}
		p["form"] = form
	case im.str(st, "body") != "":
		p["body"] = im.str(st, "body")
		if ct != "" {
			p["contentType"] = ct
		}
	}
	if im.str(st, "add_twilio_auth") == "true" {
		im.issue(st, "add_twilio_auth: Twilio credentials are not sent; add an Authorization header")
	}
	return p
}

func (im *importer) flex(st studioState, tr map[string]studioTransition, w *backend.FlowWidget) any {
	p := map[string]any{"channel": "chat"}
	if raw := im.str(st, "attributes"); strings.TrimSpace(raw) != "" {
		var attrs map[string]any
		if err := json.Unmarshal([]byte(raw), &attrs); err != nil {
			im.issue(st, "attributes are not a JSON object once unrendered (%v): set them again", err)
		} else {
			p["attributes"] = attrs
		}
	}
	if pr := im.str(st, "priority"); pr != "" {
		p["priority"] = pr
	}
	for _, k := range []string{"workflow", "channel"} {
		if im.str(st, k) != "" {
			im.issue(st, "%s %q is a Twilio id: the task goes to the default workflow on channel chat", k, im.str(st, k))
		}
	}
	failed := tr["failedToEnqueue"].Next
	if alt := tr["callFailure"].Next; failed == "" {
		failed = alt
	} else if alt != "" && alt != failed {
		im.issue(st, "callFailure dropped: failed follows failedToEnqueue")
	}
	w.Transitions[EventFailed] = im.target(failed)
	if tr["callComplete"].Next != "" {
		im.issue(st, "callComplete dropped: the flow ends when the agent takes over")
	}
	return p
}
