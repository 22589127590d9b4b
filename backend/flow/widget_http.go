package flow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"switchboard/backend"
)

// HTTP widget events and limits.
const (
	EventSuccess       = "success"
	DefaultHTTPTimeout = 10 * time.Second
	MaxHTTPTimeout     = 60 * time.Second
	maxHTTPResponse    = 1 << 20
)

// HTTPProperties configure a make-http-request widget: how an external
// chatbot plugs in. The response is {{widgets.name.status_code}},
// {{widgets.name.body}} and, for JSON, {{widgets.name.parsed.…}}; Save
// copies parsed fields into flow variables.
type HTTPProperties struct {
	Method  string            `json:"method,omitempty"` // default GET, or POST with a body
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
	// JSON is a request body whose string values are templates; Body is a
	// raw body template; Form is sent url-encoded. At most one.
	JSON        json.RawMessage   `json:"json,omitempty"`
	Body        string            `json:"body,omitempty"`
	Form        map[string]string `json:"form,omitempty"`
	ContentType string            `json:"contentType,omitempty"`
	// TimeoutMs bounds the request (default 10 s, at most 60 s).
	TimeoutMs int `json:"timeoutMs,omitempty"`
	// Save maps flow variable names to dotted paths in the parsed response.
	Save map[string]string `json:"save,omitempty"`
}

type httpWidget struct {
	method      string
	url         *Template
	headers     map[string]*Template
	json        any // decoded, with *Template leaves
	body        *Template
	form        map[string]*Template
	contentType string
	timeout     time.Duration
	save        map[string][]string
}

func compileHTTP(w *backend.FlowWidget) (Widget, error) {
	var p HTTPProperties
	if err := DecodeProperties(w, &p); err != nil {
		return nil, err
	}
	h := &httpWidget{method: strings.ToUpper(p.Method), headers: map[string]*Template{}, form: map[string]*Template{},
		contentType: p.ContentType, save: map[string][]string{}}
	var err error
	if strings.TrimSpace(p.URL) == "" {
		return nil, errors.New("a URL is required")
	}
	if h.url, err = ParseTemplate(p.URL); err != nil {
		return nil, err
	}
	if h.url.Static() {
		if u, err := url.Parse(p.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("URL %q is not an http or https URL", p.URL)
		}
	}
	bodies := 0
	if len(p.JSON) > 0 {
		bodies++
		var v any
		if err := json.Unmarshal(p.JSON, &v); err != nil {
			return nil, fmt.Errorf("json body: %v", err)
		}
		if h.json, err = templatize(v); err != nil {
			return nil, err
		}
		if h.contentType == "" {
			h.contentType = "application/json"
		}
	}
	if p.Body != "" {
		bodies++
		if h.body, err = ParseTemplate(p.Body); err != nil {
			return nil, err
		}
	}
	if len(p.Form) > 0 {
		bodies++
		for k, v := range p.Form {
			if h.form[k], err = ParseTemplate(v); err != nil {
				return nil, err
			}
		}
		h.contentType = "application/x-www-form-urlencoded"
	}
	if bodies > 1 {
		return nil, errors.New("use one of json, body and form")
	}
	if h.method == "" {
		h.method = http.MethodGet
		if bodies > 0 {
			h.method = http.MethodPost
		}
	}
	switch h.method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return nil, fmt.Errorf("method %q is not supported", p.Method)
	}
	for k, v := range p.Headers {
		if h.headers[k], err = ParseTemplate(v); err != nil {
			return nil, err
		}
	}
	h.timeout = time.Duration(p.TimeoutMs) * time.Millisecond
	switch {
	case p.TimeoutMs < 0 || h.timeout > MaxHTTPTimeout:
		return nil, fmt.Errorf("timeoutMs must be between 1 and %d", MaxHTTPTimeout.Milliseconds())
	case h.timeout == 0:
		h.timeout = DefaultHTTPTimeout
	}
	for k, path := range p.Save {
		if !widgetName.MatchString(k) {
			return nil, fmt.Errorf("variable name %q is not 1 to 64 letters, digits, _ or -", k)
		}
		h.save[k] = strings.Split(path, ".")
	}
	return h, nil
}

// templatize turns every string in a decoded JSON value into a template.
func templatize(v any) (any, error) {
	switch x := v.(type) {
	case string:
		return ParseTemplate(x)
	case map[string]any:
		for k, e := range x {
			t, err := templatize(e)
			if err != nil {
				return nil, err
			}
			x[k] = t
		}
	case []any:
		for i, e := range x {
			t, err := templatize(e)
			if err != nil {
				return nil, err
			}
			x[i] = t
		}
	}
	return v, nil
}

// renderJSON builds a request value from a templatized one: a template
// that is exactly one placeholder keeps the type of what it names.
func renderJSON(v any, l Lookuper) any {
	switch x := v.(type) {
	case *Template:
		return x.Value(l)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = renderJSON(e, l)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = renderJSON(e, l)
		}
		return out
	}
	return v
}

func (*httpWidget) Events() []string { return []string{EventSuccess, EventFailed, EventTimeout} }

func (w *httpWidget) Run(ctx context.Context, s *Step) (Outcome, error) {
	req, err := w.request(ctx, s)
	if err != nil {
		s.SetOutput("error", err.Error())
		s.Note("bad request: %v", err)
		return Outcome{Event: EventFailed}, nil
	}
	s.Note("%s %s", req.Method, req.URL.Redacted())
	parent := ctx
	ctx, cancel := context.WithTimeout(parent, w.timeout)
	defer cancel()
	resp, err := s.HTTP().Do(req.WithContext(ctx))
	if err != nil {
		if parent.Err() != nil {
			return Outcome{}, parent.Err()
		}
		if errors.Is(ctx.Err(), context.DeadlineExceeded) || isTimeout(err) {
			s.SetOutput("error", "timeout")
			s.Note("timed out after %s", w.timeout)
			return Outcome{Event: EventTimeout}, nil
		}
		s.SetOutput("error", err.Error())
		s.Note("request failed: %v", err)
		return Outcome{Event: EventFailed}, nil
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxHTTPResponse+1))
	if err != nil {
		if parent.Err() != nil {
			return Outcome{}, parent.Err()
		}
		if isTimeout(err) || ctx.Err() != nil {
			s.SetOutput("error", "timeout")
			return Outcome{Event: EventTimeout}, nil
		}
		s.SetOutput("error", err.Error())
		return Outcome{Event: EventFailed}, nil
	}
	if len(body) > maxHTTPResponse {
		s.SetOutput("error", "response larger than 1 MiB")
		return Outcome{Event: EventFailed}, nil
	}
	s.SetOutput("status_code", resp.StatusCode)
	s.SetOutput("content_type", resp.Header.Get("Content-Type"))
	s.SetOutput("body", string(body))
	var parsed any
	if json.Unmarshal(body, &parsed) == nil {
		s.SetOutput("parsed", parsed)
		for _, k := range sortedKeys(w.save) {
			if v, ok := walk(parsed, w.save[k]); ok {
				s.SetVariable(k, v)
				s.Note("set %s = %s", k, toString(v))
			}
		}
	}
	s.Note("→ %d", resp.StatusCode)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return Outcome{Event: EventFailed}, nil
	}
	return Outcome{Event: EventSuccess}, nil
}

func (w *httpWidget) request(ctx context.Context, s *Step) (*http.Request, error) {
	raw := w.url.Render(s)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("URL %q is not an http or https URL", raw)
	}
	var body io.Reader
	switch {
	case w.json != nil:
		b, err := json.Marshal(renderJSON(w.json, s))
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	case w.body != nil:
		body = strings.NewReader(w.body.Render(s))
	case len(w.form) > 0:
		f := url.Values{}
		for _, k := range sortedKeys(w.form) {
			f.Set(k, w.form[k].Render(s))
		}
		body = strings.NewReader(f.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, w.method, u.String(), body)
	if err != nil {
		return nil, err
	}
	if w.contentType != "" && body != nil {
		req.Header.Set("Content-Type", w.contentType)
	}
	req.Header.Set("User-Agent", "Switchboard-Flow/1")
	keys := make([]string, 0, len(w.headers))
	for k := range w.headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		req.Header.Set(k, w.headers[k].Render(s))
	}
	return req, nil
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
