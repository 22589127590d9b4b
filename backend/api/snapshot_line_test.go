package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"switchboard/backend"
)

// An event line written by hand reads back as the same event the encoder's
// line does, byte for byte where the data has nothing the encoder escapes.
func TestWriteEventLine_AsTheEncoderWrites(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 890, time.FixedZone("x", 3600))
	for _, tc := range []struct {
		name  string
		e     backend.Event
		exact bool
	}{
		{"message", backend.Event{Seq: 42, Type: backend.EventMessageUpserted, EntityID: "msg_1", Data: json.RawMessage(`{"id":"msg_1","text":"héllo \"you\"\n"}`), CreatedAt: at}, true},
		{"no data, zero time", backend.Event{Seq: 0, Type: "x.upserted", EntityID: "a\u2028b\"c\\"}, true},
		{"data the encoder escapes", backend.Event{Seq: -1, Type: "t", EntityID: "<id>&", Data: json.RawMessage(`{"text":"<b>&amp;</b>"}`), CreatedAt: at}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want, got bytes.Buffer
			if err := json.NewEncoder(&want).Encode(SnapshotLine{Event: &tc.e}); err != nil {
				t.Fatal(err)
			}
			w := bufio.NewWriter(&got)
			if err := writeEventLine(w, &tc.e); err != nil {
				t.Fatal(err)
			}
			w.Flush()
			if tc.exact && got.String() != want.String() {
				t.Fatalf("line\n%s\nwant\n%s", got.String(), want.String())
			}
			if bytes.Count(got.Bytes(), []byte("\n")) != 1 || !bytes.HasSuffix(got.Bytes(), []byte("\n")) {
				t.Fatalf("not one line: %q", got.String())
			}
			var a, b SnapshotLine
			if err := json.Unmarshal(got.Bytes(), &a); err != nil {
				t.Fatalf("%v: %s", err, got.String())
			}
			json.Unmarshal(want.Bytes(), &b)
			var da, db any
			json.Unmarshal(a.Event.Data, &da)
			json.Unmarshal(b.Event.Data, &db)
			a.Event.Data, b.Event.Data = nil, nil
			if !reflect.DeepEqual(a, b) || !reflect.DeepEqual(da, db) || !a.Event.CreatedAt.Equal(tc.e.CreatedAt) {
				t.Fatalf("read back %+v %v, want %+v %v", a.Event, da, b.Event, db)
			}
		})
	}
}
