package flow

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"switchboard/backend"
)

const testUsage = `usage: switchboard flow test FLOW.json --message "text" [--message "text" …] [flags]

Shows the path messages take through a flow, widget by widget, without
sending anything. FLOW.json is a Switchboard flow, a Twilio Studio export
(imported first, with a report), or "default" for the built-in default flow.

flags:
`

// multiFlag collects a repeated string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ", ") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

// RunTestCommand implements `switchboard flow test`: args are what follows
// "flow test". It prints the path each message takes and what each widget
// would do, sending nothing: replies and tasks are only printed, and HTTP
// widgets get a canned response unless --http-live is given. It returns the
// process exit code: 0, 1 when the flow is invalid or cannot be read, 2 on
// a usage error.
func RunTestCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("flow test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, testUsage); fs.PrintDefaults() }
	var messages, attrs multiFlag
	fs.Var(&messages, "message", "an inbound message (repeat for a conversation)")
	fs.Var(&attrs, "contact-attr", "a contact attribute key=value (repeatable)")
	noReply := fs.Bool("no-reply", false, "after the messages, let a pending wait-for-reply time out")
	live := fs.Bool("http-live", false, "let HTTP widgets really call their URLs")
	canned := fs.String("http-response", "{}", "the JSON body HTTP widgets get when not live (status 200)")
	channel := fs.String("channel", "webchat/test", "the channel instance, connector/instance")
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(positional) != 1 || (len(messages) == 0 && !*noReply) {
		fs.Usage()
		return 2
	}
	def, err := loadForTest(positional[0], stdout)
	if err != nil {
		fmt.Fprintf(stderr, "flow test: %s\n", describe(err))
		return 1
	}
	contact := &backend.Contact{ID: "ct_test", Name: "Test Customer", Attributes: map[string]string{}}
	for _, a := range attrs {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			fmt.Fprintf(stderr, "flow test: --contact-attr %q is not key=value\n", a)
			return 2
		}
		contact.Attributes[k] = v
	}
	connector, instance, _ := strings.Cut(*channel, "/")
	conv := &backend.Conversation{ID: "cv_test", ContactID: contact.ID, Channel: connector, Instance: instance, ThreadKey: "test-customer"}
	return dryRun(def, conv, contact, messages, *noReply, *live, *canned, stdout, stderr)
}

// loadForTest reads a flow file, importing a Studio export.
func loadForTest(path string, stdout io.Writer) (*backend.Flow, error) {
	if path == "default" {
		return DefaultFlow(DefaultFlowOptions{}), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if !IsStudioExport(data) {
		return Parse(data)
	}
	f, rep, err := ImportStudio(data)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "imported a Twilio Studio export: %d widgets mapped, %d issues\n", rep.Mapped, len(rep.Issues))
	for _, is := range rep.Issues {
		fmt.Fprintf(stdout, "  %s (%s): %s\n", is.Widget, is.Type, is.Message)
	}
	return f, nil
}

func describe(err error) string {
	var ve *ValidationError
	if errors.As(err, &ve) {
		var b strings.Builder
		b.WriteString("the flow is invalid:")
		for _, p := range ve.Problems {
			if p.Widget != "" {
				fmt.Fprintf(&b, "\n  %s: %s", p.Widget, p.Message)
			} else {
				fmt.Fprintf(&b, "\n  %s", p.Message)
			}
		}
		return b.String()
	}
	if code := backend.ErrorCode(err); code != backend.EInternal {
		return backend.ErrorMessage(err)
	}
	return err.Error()
}

func dryRun(def *backend.Flow, conv *backend.Conversation, contact *backend.Contact, messages []string,
	noReply, live bool, canned string, stdout, stderr io.Writer) int {
	ctx := context.Background()
	clock := NewFakeClock(time.Now().UTC())
	var doer HTTPDoer = &http.Client{}
	if !live {
		doer = cannedDoer(canned)
	}
	eng, err := NewEngine(NewMemStore(), dryRunOptions(def, clock, contact, doer, func(t TraceStep) { printStep(stdout, t) }))
	if err != nil {
		fmt.Fprintf(stderr, "flow test: %s\n", describe(errors.Unwrap(err)))
		return 1
	}
	defer eng.Close()
	if err := eng.Start(ctx); err != nil {
		fmt.Fprintf(stderr, "flow test: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "flow %q: %d widgets, valid\n", def.Name, len(def.Widgets))
	for i, text := range messages {
		fmt.Fprintf(stdout, "\nmessage %d: %q\n", i+1, text)
		before, _ := eng.Execution(ctx, conv.ID)
		m := &backend.Message{ID: fmt.Sprintf("msg_%d", i+1), ConversationID: conv.ID, Direction: backend.DirectionIn, Text: text}
		if err := eng.HandleInbound(ctx, m, conv); err != nil {
			fmt.Fprintf(stderr, "flow test: %s\n", describe(err))
			return 1
		}
		if x, _ := eng.Execution(ctx, conv.ID); before != nil && x != nil && x.Version == before.Version {
			fmt.Fprintf(stdout, "  (the flow ignores it: %s)\n", ignoredWhy(x))
		}
	}
	if noReply {
		x, err := eng.Execution(ctx, conv.ID)
		if err != nil || x.Status != backend.FlowWaiting || x.TimeoutAt.IsZero() {
			fmt.Fprintf(stdout, "\nno reply: nothing is waiting\n")
		} else {
			fmt.Fprintf(stdout, "\nno reply for %s:\n", x.TimeoutAt.Sub(clock.Now()).Round(time.Second))
			clock.Advance(x.TimeoutAt.Sub(clock.Now()))
		}
	}
	fmt.Fprintln(stdout, "\ndry run: nothing was sent and no task was created")
	return 0
}

// dryRunOptions configure an engine that sends nothing and creates no
// task: the flow test command and Simulate use it.
func dryRunOptions(def *backend.Flow, clock Clock, contact *backend.Contact, doer HTTPDoer, trace func(TraceStep)) Options {
	return Options{
		Clock: clock, Poll: 365 * 24 * time.Hour, Logger: slog.New(slog.DiscardHandler),
		Sender: SenderFunc(func(context.Context, *backend.Conversation, string, string) error { return nil }),
		Tasks: TaskCreatorFunc(func(context.Context, string, string, map[string]any, int) (string, error) {
			return "task (dry run)", nil
		}),
		HTTP:        doer,
		Contacts:    contactFunc(func(string) (*backend.Contact, error) { return contact, nil }),
		Trace:       trace,
		DefaultFlow: def,
	}
}

func ignoredWhy(x *backend.FlowExecution) string {
	if x.Status == backend.FlowAgent {
		return "an agent holds the conversation"
	}
	return "already handled"
}

func printStep(w io.Writer, t TraceStep) {
	fmt.Fprintf(w, "  %s (%s)", t.Widget, t.Type)
	for _, a := range t.Actions {
		fmt.Fprintf(w, "\n      %s", a)
	}
	switch {
	case t.Error != "":
		fmt.Fprintf(w, "\n    ✗ failed: %s\n", t.Error)
	case t.Status == backend.FlowWaiting:
		fmt.Fprintf(w, "\n    ⏸ waiting\n")
	case t.Status == backend.FlowAgent:
		fmt.Fprintf(w, "\n    ☎ handed to a live agent\n")
	case t.Status != "" && t.Event != "":
		fmt.Fprintf(w, "\n    → %s (not wired): ■ %s\n", t.Event, t.Status)
	case t.Status != "":
		fmt.Fprintf(w, "\n    ■ %s\n", t.Status)
	default:
		fmt.Fprintf(w, "\n    → %s\n", t.Event)
	}
}

// cannedDoer answers every request with 200 and body, calling nothing.
type cannedDoer string

func (c cannedDoer) Do(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Status: "200 OK (canned, not called)", Request: r,
		Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(string(c)))}, nil
}

type contactFunc func(id string) (*backend.Contact, error)

func (f contactFunc) FindContactByID(_ context.Context, id string) (*backend.Contact, error) {
	return f(id)
}
