package channels

import (
	"context"
	"mime"
	"net/http"
	"strings"

	"switchboard/backend"
)

// MediaStore reads the files the engine kept from inbound messages.
type MediaStore interface {
	// Media returns one file. Returns ENotFound.
	Media(ctx context.Context, id string) (name, typ string, data []byte, err error)
}

// MediaHandler serves GET /media/{id}: a file that came inside an inbound
// message (an email's parts). Like a web chat upload, its random id is the
// capability to read it (agents' screens load it as an image or link).
// Mount it at "/media/".
func MediaHandler(store MediaStore) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := strings.CutPrefix(r.URL.Path, backend.MediaPath)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeStatus(w, http.StatusMethodNotAllowed, backend.EInvalid, "Files are read with GET.")
			return
		}
		if !ok || id == "" || strings.Contains(id, "/") {
			writeError(w, backend.Errorf(backend.ENotFound, "The file does not exist."))
			return
		}
		name, typ, data, err := store.Media(r.Context(), id)
		if err != nil {
			writeError(w, err)
			return
		}
		ServeFile(w, name, typ, data)
	})
}

// ServeFile answers with a file from a customer: never rendered as a page
// of the engine's origin (a sandboxing policy, no type sniffing), shown
// inline only when it is a raster image, cached privately.
func ServeFile(w http.ResponseWriter, name, typ string, data []byte) {
	h := w.Header()
	h.Set("Content-Type", typ)
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	disp := "attachment"
	if strings.HasPrefix(typ, "image/") && typ != "image/svg+xml" {
		disp = "inline"
	}
	if name == "" {
		name = "file"
	}
	h.Set("Content-Disposition", mime.FormatMediaType(disp, map[string]string{"filename": name}))
	h.Set("Cache-Control", "private, max-age=86400")
	w.Write(data)
}
