package channels

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"switchboard/backend"
)

// ServeHTTP serves POST (and GET for handshakes) /hooks/{connector}/{instance}.
// Mount it at "/hooks/" without stripping the prefix. Every error is the
// API's JSON shape {"error":{"code","message"}}; nothing is stored unless
// the webhook is verified and readable.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/hooks/")
	connector, name, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || connector == "" || name == "" || strings.Contains(name, "/") {
		writeError(w, backend.Errorf(backend.ENotFound, "There is no webhook at %s.", r.URL.Path))
		return
	}
	inst := h.lookup(connector, name)
	if inst == nil {
		writeError(w, backend.Errorf(backend.ENotFound, "Channel %s/%s is not configured or is disabled.", connector, name))
		return
	}
	req := &Request{Method: r.Method, URL: h.externalURL(r), Header: r.Header}
	switch r.Method {
	case http.MethodGet:
		h.serveHandshake(w, inst, req)
		return
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "GET, POST")
		writeStatus(w, http.StatusMethodNotAllowed, backend.EInvalid, "Webhooks are POST requests.")
		return
	}
	if err := checkContentType(inst.info, r.Header.Get("Content-Type")); err != nil {
		writeStatus(w, http.StatusUnsupportedMediaType, backend.EInvalid, err.Error())
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, backend.Errorf(backend.ETooLarge, "The webhook body is larger than %d bytes.", h.opts.MaxBodyBytes))
			return
		}
		writeError(w, backend.Errorf(backend.EInvalid, "The webhook body could not be read."))
		return
	}
	req.Body = body
	if err := inst.connector.Verify(req); err != nil {
		code := backend.EForbidden
		if backend.ErrorCode(err) == backend.EUnauthorized {
			code = backend.EUnauthorized
		}
		h.log.Warn("webhook rejected", "connector", connector, "instance", name, "code", code, "remote", r.RemoteAddr)
		writeError(w, backend.Errorf(code, "%s", signatureMessage(err)))
		return
	}
	wh, err := inst.connector.Parse(req)
	if err != nil {
		h.log.Warn("webhook unreadable", "connector", connector, "instance", name, "error", backend.ErrorMessage(err))
		writeError(w, backend.Errorf(backend.EInvalid, "%s", backend.ErrorMessage(err)))
		return
	}
	if err := h.deliver(r.Context(), connector, name, wh); err != nil {
		// Not stored: a non-2xx makes the platform redeliver.
		h.log.Error("webhook not stored", "connector", connector, "instance", name, "error", err)
		writeError(w, backend.Errorf(backend.EUnavailable, "The webhook could not be stored; deliver it again."))
		return
	}
	if a, ok := inst.connector.(Acker); ok {
		a.Ack(w)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// serveHandshake answers a platform's GET verification with its plain-text
// challenge, or a JSON error.
func (h *Hub) serveHandshake(w http.ResponseWriter, inst *instance, req *Request) {
	hs, ok := inst.connector.(Handshaker)
	if !ok {
		w.Header().Set("Allow", "POST")
		writeStatus(w, http.StatusMethodNotAllowed, backend.EInvalid, "This channel's webhook takes POST requests only.")
		return
	}
	status, body := hs.Handshake(req)
	if status >= 300 {
		writeStatus(w, status, backend.EForbidden, body) // a verify token that does not match
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// signatureMessage is the connector's sentence when it gave one.
func signatureMessage(err error) string {
	var be *backend.Error
	if errors.As(err, &be) {
		return be.Message
	}
	return "The webhook's signature is missing or wrong."
}

// checkContentType refuses a body whose media type the connector's platform
// never sends (a JSON connector gets JSON only).
func checkContentType(info Info, header string) error {
	if len(info.ContentTypes) == 0 {
		return nil
	}
	mt, _, err := mime.ParseMediaType(header)
	if err == nil && slices.Contains(info.ContentTypes, mt) {
		return nil
	}
	if header == "" {
		header = "none"
	}
	return errors.New("This webhook takes " + strings.Join(info.ContentTypes, " or ") + " bodies, not " + header + ".")
}

// writeError answers with the status of err's code and the API's error shape.
func writeError(w http.ResponseWriter, err error) {
	code := backend.ErrorCode(err)
	writeStatus(w, backend.HTTPStatus(code), code, backend.ErrorMessage(err))
}

// writeStatus writes {"error":{"code","message"}}, the API's error body.
func writeStatus(w http.ResponseWriter, status int, code, message string) {
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	body.Error.Code, body.Error.Message = code, message
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(&body)
}

// externalURL rebuilds the URL the platform called: the public URL when one
// is set, else the request's scheme and Host (a trusted proxy's
// X-Forwarded-Proto and X-Forwarded-Host; the server drops those headers
// from anyone else).
func (h *Hub) externalURL(r *http.Request) string {
	if h.opts.PublicURL != "" {
		return h.opts.PublicURL + r.URL.RequestURI()
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p != "" {
		scheme, _, _ = strings.Cut(p, ",")
	}
	host := r.Host
	if fh := r.Header.Get("X-Forwarded-Host"); fh != "" {
		host, _, _ = strings.Cut(fh, ",")
	}
	return strings.TrimSpace(scheme) + "://" + strings.TrimSpace(host) + r.URL.RequestURI()
}
