package api

import (
	"io"
	"net/http"

	"switchboard/backend"
)

// FlowImporter maps a Twilio Studio export onto a flow and reports what it
// could not map (flow.ImportStudio). Returns EInvalid for a bad export.
type FlowImporter func(data []byte) (*backend.Flow, any, error)

// SetFlowImporter enables POST /api/flows/import (admins): the body is a
// Studio export; the answer the mapped flow (not saved) and the report.
func (s *Server) SetFlowImporter(im FlowImporter) {
	s.importer = im
	s.route("POST /api/flows/import", Admin, s.handleImportFlow)
}

func (s *Server) handleImportFlow(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.MaxBody))
	if err != nil {
		Error(w, r, s.Logger, backend.Errorf(backend.ETooLarge, "The export is larger than the limit of %d bytes.", s.MaxBody))
		return
	}
	f, report, err := s.importer(data)
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"flow": f, "report": report})
}
