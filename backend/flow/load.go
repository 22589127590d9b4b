package flow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"switchboard/backend"
)

// MaxFlowBytes bounds a flow definition's JSON.
const MaxFlowBytes = 1 << 20

// Parse decodes a flow definition strictly (an unknown field is an error)
// without validating it. Errors have the code invalid.
func Parse(data []byte) (*backend.Flow, error) {
	if len(data) > MaxFlowBytes {
		return nil, backend.Errorf(backend.EInvalid, "The flow is larger than %d bytes.", MaxFlowBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f backend.Flow
	if err := dec.Decode(&f); err != nil {
		if IsStudioExport(data) {
			return nil, backend.Errorf(backend.EInvalid, "This is a Twilio Studio export: import it instead.")
		}
		return nil, backend.Errorf(backend.EInvalid, "The flow is not valid JSON: %v.", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, backend.Errorf(backend.EInvalid, "The flow has data after its JSON object.")
	}
	return &f, nil
}

// Load parses and compiles a flow definition with the widget types of reg
// (DefaultRegistry when nil).
func Load(data []byte, reg Registry) (*Program, error) {
	f, err := Parse(data)
	if err != nil {
		return nil, err
	}
	if reg == nil {
		reg = DefaultRegistry()
	}
	p, err := Compile(f, reg)
	if err != nil {
		return nil, fmt.Errorf("load flow: %w", err)
	}
	return p, nil
}
