package app

import (
	"context"
	"encoding/base64"
	"time"

	"switchboard/app/cache"
	"switchboard/app/client"
	"switchboard/backend"
)

// resolveMedia turns a web chat's file paths (/widget/…/files/…) in a
// conversation's attachments into absolute URLs on the engine the session
// talks to, so the page can show them. Kept files (/media/{id}) stay as
// they are: only a signed-in user the engine's policy allows may read
// them, so the page asks Media for them. Other URLs pass unchanged: the
// page links or shows only http: and https: ones.
func resolveMedia(d *cache.Detail, engine string) {
	fix := func(atts []backend.Attachment) {
		for i := range atts {
			if _, kept := backend.MediaIDFromPath(atts[i].URL); !kept && backend.IsEngineMediaPath(atts[i].URL) {
				atts[i].URL = engine + atts[i].URL
			}
		}
	}
	for i := range d.Messages {
		fix(d.Messages[i].Attachments)
	}
	for i := range d.Timeline {
		fix(d.Timeline[i].Attachments)
	}
}

// Media returns a kept customer file (an attachment's /media/{id} path)
// as a data URL the page can show. The engine checks that the user may
// read it; each file read is kept in the local cache, which answers when
// the engine cannot be reached, and forgets a file the engine refuses.
func (a *App) Media(path string) (string, error) {
	if _, ok := backend.MediaIDFromPath(path); !ok {
		return "", a.toUI(backend.Errorf(backend.EInvalid, "That is not a file of a conversation."))
	}
	s, err := a.current()
	if err != nil {
		return "", a.toUI(err)
	}
	typ, data, err := fetchMedia(s, path)
	if err != nil {
		return "", a.toUI(err)
	}
	return "data:" + typ + ";base64," + base64.StdEncoding.EncodeToString(data), nil
}

// fetchMedia reads a kept file from the engine, or from the cache when
// the engine is out of reach.
func fetchMedia(s *session, path string) (string, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var f client.File
	err := s.client.Do(ctx, "GET", path, nil, &f)
	switch backend.ErrorCode(err) {
	case "":
		if f.Type == "" {
			f.Type = "application/octet-stream"
		}
		if err := s.cache.PutMedia(ctx, path, f.Type, f.Data); err != nil {
			return "", nil, err
		}
		return f.Type, f.Data, nil
	case backend.EUnavailable:
		if typ, data, ok, cerr := s.cache.Media(ctx, path); cerr == nil && ok {
			return typ, data, nil
		}
	case backend.ENotFound, backend.EForbidden, backend.EUnauthorized:
		s.cache.DropMedia(ctx, path)
	}
	return "", nil, err
}
