// Package flow is Switchboard's Studio-style flow engine. Every inbound
// conversation of a channel instance runs through that instance's flow (or
// the default flow), which answers, asks and waits, calls an external bot,
// or hands the conversation to a live agent by creating a routing task.
//
// # Flow JSON
//
// A flow is widgets joined by named transitions (backend.Flow):
//
//	{"name": "Support", "widgets": [
//	  {"name": "trigger", "type": "trigger", "transitions": {"incomingMessage": "ask"}},
//	  {"name": "ask", "type": "send-and-wait-for-reply",
//	   "properties": {"body": "Order number?", "timeout": 600},
//	   "transitions": {"incomingMessage": "check", "timeout": "end", "failed": "end"}},
//	  {"name": "check", "type": "split",
//	   "properties": {"input": "{{widgets.ask.inbound.body}}",
//	     "cases": [{"event": "order", "op": "regex", "value": "^[A-Z]-\\d+$"}]},
//	   "transitions": {"order": "agent", "noMatch": "ask"}},
//	  {"name": "agent", "type": "send-to-agent",
//	   "properties": {"attributes": {"department": "orders", "language": "en"}, "priority": 5},
//	   "transitions": {"failed": "end"}},
//	  {"name": "end", "type": "end"}]}
//
// Widget types and their events: trigger (incomingMessage, incomingCall,
// incomingRequest; each optional), split (one event per case, noMatch;
// operators containsAny, notContainsAny, contains, notContains, equals,
// notEquals, equalsAny, notEqualsAny, startsWith, notStartsWith, regex,
// isBlank, isNotBlank, lt, le, gt, ge, eq), send-message (sent, failed),
// send-and-wait-for-reply (incomingMessage, timeout, failed), set-variables
// (next), make-http-request (success, failed, timeout), faq-bot (answered,
// noMatch, handover), send-to-agent (failed; success ends the flow with the
// conversation in an agent's hands), business-hours (open, closed: the time
// of day and week in a time zone, with closed dates) and end. Text properties are templates:
// {{message.body}}, {{trigger.message.body}}, {{flow.variables.x}},
// {{widgets.name.key}}, {{contact.attributes.x}}, {{conversation.id}}.
// Registry maps type names to implementations.
//
// Voice widgets act on the conversation's live call through CallControl
// (the voice engine) and resume on callEvent inputs: say-play
// (audioComplete, hangup), gather-input-on-call (keypress with
// {{widgets.name.Digits}}, timeout after its retries, hangup),
// record-voicemail (recordingComplete, hangup), enqueue-call (failed;
// success hands the call to the router as a voice task) and hangup.
// Phone trunks without a flow of their own run DefaultVoiceFlow.
//
// Compile (and SetFlow before saving) rejects unknown widgets, missing,
// unknown and dangling transitions, unreachable widgets, loops with no
// waiting widget in them, bad regular expressions and bad templates.
// ImportStudio maps a Twilio Studio export onto these widgets and reports
// what it could not map.
//
// # Execution
//
// Each conversation's state (current widget, variables, widget outputs,
// timeout) is a backend.FlowExecution in the store. An input first claims
// the execution (status running, with a lease) by compare-and-set on its
// version, then runs widgets until one waits, ends or hands over, and saves
// by compare-and-set again. So a reply and a timeout racing for the same
// wait advance it once; a restart resumes waiting executions and fires
// their timeouts once; a run cut short by a crash is run again from its
// claim when the lease ends, with the same idempotency keys for its sends.
// Within one engine a per-conversation lock keeps one step at a time.
package flow
