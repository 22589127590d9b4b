package api

import (
	"bufio"
	"encoding/json"
	"strconv"
	"time"

	"switchboard/backend"
)

// writeEventLine writes e as the snapshot line SnapshotLine{Event: e}, with
// e.Data copied as the store gave it (JSON it wrote itself) rather than
// checked and re-encoded: most of a snapshot is these lines.
func writeEventLine(w *bufio.Writer, e *backend.Event) error {
	w.WriteString(`{"event":{"seq":`)
	w.Write(strconv.AppendInt(w.AvailableBuffer(), e.Seq, 10))
	w.WriteString(`,"type":`)
	writeJSONString(w, e.Type)
	w.WriteString(`,"entityId":`)
	writeJSONString(w, e.EntityID)
	w.WriteString(`,"data":`)
	if len(e.Data) == 0 {
		w.WriteString(`null`)
	} else {
		w.Write(e.Data)
	}
	w.WriteString(`,"createdAt":`)
	w.Write(e.CreatedAt.AppendFormat(append(w.AvailableBuffer(), '"'), time.RFC3339Nano))
	_, err := w.WriteString("\"}}\n")
	return err
}

// writeJSONString writes s as a JSON string.
func writeJSONString(w *bufio.Writer, s string) {
	b, _ := json.Marshal(s)
	w.Write(b)
}
