package flow_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"switchboard/backend"
	"switchboard/backend/flow"
)

// addSeeds adds every JSON file under testdata to the fuzz corpus.
func addSeeds(f *testing.F) {
	for _, dir := range []string{"flows", "invalid", "studio"} {
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.json"))
		for _, path := range files {
			data, err := os.ReadFile(path)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	for _, s := range []string{``, `{}`, `null`, `[]`, `{"widgets": null}`, `{"widgets": [{}]}`,
		`{"widgets": [{"name": "trigger", "type": "trigger", "transitions": {"incomingMessage": "trigger"}}]}`,
		`{"widgets": [{"name": "trigger", "type": "trigger", "properties": 7}]}`,
		`{"widgets": [{"name": "trigger", "type": "trigger", "transitions": {"incomingMessage": "s"}},
		  {"name": "s", "type": "split", "properties": {"cases": [{"event": "x", "op": "regex", "value": "(a+)+$"}]},
		   "transitions": {"x": "e", "noMatch": "e"}}, {"name": "e", "type": "end"}]}`,
		`{"widgets": [{"name": "trigger", "type": "trigger", "transitions": {"incomingMessage": "m"}},
		  {"name": "m", "type": "send-message", "properties": {"body": "{{widgets.m.x.0.y | to_json | size}}"},
		   "transitions": {"sent": "e", "failed": "e"}}, {"name": "e", "type": "end"}]}`,
	} {
		f.Add([]byte(s))
	}
}

// FuzzLoadFlow feeds arbitrary JSON to the loader. It must never panic, and
// a flow it accepts must run on a message without panicking or running away.
func FuzzLoadFlow(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := flow.Load(data, nil)
		if err != nil {
			if backend.ErrorCode(err) != backend.EInvalid {
				t.Fatalf("load error without the invalid code: %v", err)
			}
			return
		}
		eng, err := flow.NewEngine(flow.NewMemStore(), flow.Options{
			Clock: flow.NewFakeClock(t0), DefaultFlow: p.Flow(), Logger: slog.New(slog.DiscardHandler),
			Sender: flow.SenderFunc(func(context.Context, *backend.Conversation, string, string) error { return nil }),
			HTTP:   doerFunc(func(*http.Request) (*http.Response, error) { return nil, errors.New("no network in fuzzing") }),
		})
		if err != nil {
			t.Fatalf("a loaded flow does not make an engine: %v", err)
		}
		conv := &backend.Conversation{ID: "cv_f", Channel: "webchat", Instance: "site"}
		for i, text := range []string{"hi", "agent", "12"} {
			m := &backend.Message{ID: "m" + string(rune('0'+i)), Direction: backend.DirectionIn, Text: text}
			if err := eng.HandleInbound(context.Background(), m, conv); err != nil {
				t.Fatalf("run: %v", err)
			}
		}
	})
}

// FuzzImportStudio feeds arbitrary JSON to the Studio importer.
func FuzzImportStudio(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		fl, rep, err := flow.ImportStudio(data)
		if err != nil {
			return
		}
		if fl == nil || rep == nil {
			t.Fatal("no flow or report without an error")
		}
		if len(rep.Problems) == 0 {
			if err := flow.Validate(fl); err != nil {
				t.Fatalf("report says valid, validation says %v", err)
			}
		}
	})
}

type doerFunc func(*http.Request) (*http.Response, error)

func (f doerFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }
