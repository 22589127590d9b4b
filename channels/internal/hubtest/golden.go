package hubtest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"switchboard/backend"
	"switchboard/channels"
)

// Golden parses every testdata/*.body file and compares the normalized
// result, as indented JSON, with the matching .golden file; with update it
// rewrites the golden files instead.
func Golden(t *testing.T, update bool, parse func(name string, body []byte) (*channels.Webhook, error)) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.body"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/*.body files")
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".body")
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			wh, err := parse(name, bytes.TrimRight(body, "\n"))
			var got []byte
			if err != nil {
				got = []byte("error: " + err.Error() + "\n")
			} else if got, err = json.MarshalIndent(goldenView(wh), "", "\t"); err != nil {
				t.Fatal(err)
			} else {
				got = append(got, '\n')
			}
			golden := strings.TrimSuffix(f, ".body") + ".golden"
			if update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: normalized message differs from %s (run with -update if intended)\ngot:\n%s\nwant:\n%s", f, golden, got, want)
			}
		})
	}
}

// goldenAttachment shows an attachment with the platform reference the
// engine fetches it with, which a stored message never shows.
type goldenAttachment struct {
	backend.Attachment
	Ref string `json:"ref,omitempty"`
}

// goldenMessage is an inbound message as its golden file shows it.
type goldenMessage struct {
	*backend.InboundMessage
	Attachments []goldenAttachment
}

// goldenView is a webhook with its attachments' references shown.
func goldenView(wh *channels.Webhook) any {
	msgs := []goldenMessage{}
	for _, m := range wh.Messages {
		g := goldenMessage{InboundMessage: m}
		for _, a := range m.Attachments {
			g.Attachments = append(g.Attachments, goldenAttachment{Attachment: a, Ref: a.Ref})
		}
		msgs = append(msgs, g)
	}
	return struct {
		Messages []goldenMessage   `json:"messages,omitempty"`
		Statuses []channels.Status `json:"statuses,omitempty"`
	}{msgs, wh.Statuses}
}
