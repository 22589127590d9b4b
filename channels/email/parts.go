package email

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/emersion/go-message"

	"switchboard/backend"
)

// walker reads a mail's parts in order.
type walker struct {
	p *Parsed
	// report is set inside a multipart/report (a bounce).
	report bool
	status *deliveryStatus
	// original is the Message-ID of the mail a report is about.
	original string
}

// entity returns the text blocks of e in order and collects its files.
func (w *walker) entity(e *message.Entity, depth int) []string {
	ct, params, err := e.Header.ContentType()
	if err != nil || ct == "" {
		ct = "text/plain"
	}
	if strings.HasPrefix(ct, "multipart/") {
		if depth >= maxDepth {
			w.p.Problems = append(w.p.Problems, "The mail's parts nest too deeply; the deepest were not read.")
			return nil
		}
		return w.multipart(e, ct, params, depth)
	}
	disp, dparams, _ := e.Header.ContentDisposition()
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	if dec, err := words.DecodeHeader(name); err == nil {
		name = dec
	}
	body, err := io.ReadAll(io.LimitReader(e.Body, MaxAttachment+1))
	if err != nil {
		w.p.Problems = append(w.p.Problems, partProblem(err, "the mail"))
	}
	inText := disp != "attachment" && name == ""
	switch {
	case ct == "text/plain" && inText:
		return []string{string(body)}
	case ct == "text/html" && inText:
		return []string{HTMLToText(string(body))}
	case ct == "message/delivery-status" || ct == "message/global-delivery-status":
		w.status = parseDeliveryStatus(body)
		return nil
	case w.report && (ct == "text/rfc822-headers" || ct == "message/rfc822" || ct == "message/global"):
		w.original = originalID(ct, body)
		if ct == "text/rfc822-headers" {
			return nil
		}
	}
	if name == "" && ct == "message/rfc822" {
		name = "message.eml"
	}
	w.attach(ct, name, body)
	return nil
}

// attach keeps a part as a file, or lists it with the reason when it is
// too large.
func (w *walker) attach(ct, name string, body []byte) {
	a := backend.Attachment{Type: ct, Name: name, Size: int64(len(body))}
	if len(body) > MaxAttachment {
		a.Size = 0
		a.State, a.Error = backend.MediaFailed, fmt.Sprintf("The file is larger than the %d MB the engine keeps.", MaxAttachment>>20)
	} else {
		a.Data = body
	}
	w.p.Attachments = append(w.p.Attachments, a)
}

// multipart reads a container's parts; of an alternative it keeps one
// rendering (plain text when there is one).
func (w *walker) multipart(e *message.Entity, ct string, params map[string]string, depth int) []string {
	if params["boundary"] == "" {
		return w.noBoundary(e, depth)
	}
	if ct == "multipart/report" {
		w.report = true
	}
	mr := e.MultipartReader()
	var blocks, plain []string
	var alternatives [][]string
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil && (part == nil || !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err)) {
			w.p.Problems = append(w.p.Problems, "The mail's parts end early or are damaged; what came before was kept.")
			break
		}
		if err != nil {
			w.p.Problems = append(w.p.Problems, partProblem(err, "the mail"))
		}
		got := w.entity(part, depth+1)
		if ct != "multipart/alternative" {
			blocks = append(blocks, got...)
			continue
		}
		if pt, _, _ := part.Header.ContentType(); pt == "text/plain" && plain == nil && len(got) > 0 {
			plain = got
		}
		if len(got) > 0 {
			alternatives = append(alternatives, got)
		}
	}
	if ct == "multipart/alternative" {
		if plain != nil && strings.TrimSpace(strings.Join(plain, "")) != "" {
			return plain
		}
		if n := len(alternatives); n > 0 {
			return alternatives[n-1] // the richest rendering
		}
	}
	return blocks
}

// noBoundary reads a multipart that names no boundary: the boundary is
// guessed from the first "--" line, else the body is read as text.
func (w *walker) noBoundary(e *message.Entity, depth int) []string {
	body, _ := io.ReadAll(io.LimitReader(e.Body, MaxAttachment+1))
	for _, line := range strings.Split(string(body), "\n") {
		line = strings.TrimRight(line, "\r \t")
		if len(line) > 2 && strings.HasPrefix(line, "--") && !strings.ContainsAny(line[2:], " \t") {
			w.p.Problems = append(w.p.Problems, "The mail's Content-Type names no boundary between its parts; the parts were found by their separator.")
			h := e.Header.Copy()
			h.Del("Content-Transfer-Encoding") // the body is decoded already
			ct, params, _ := h.ContentType()
			params["boundary"] = line[2:]
			h.SetContentType(ct, params)
			guessed, err := message.New(h, bytes.NewReader(body))
			if err == nil {
				return w.multipart(guessed, ct, params, depth)
			}
			break
		}
	}
	w.p.Problems = append(w.p.Problems, "The mail's Content-Type names no boundary between its parts; all of it was read as text.")
	return []string{string(body)}
}
