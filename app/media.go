package app

import (
	"switchboard/app/cache"
	"switchboard/backend"
)

// resolveMedia turns the engine's own file paths (/media/…, a web chat's
// /widget/…/files/…) in a conversation's attachments into absolute URLs on
// the engine the session talks to, so the page can show them. Other URLs
// pass unchanged: the page links or shows only http: and https: ones.
func resolveMedia(d *cache.Detail, engine string) {
	fix := func(atts []backend.Attachment) {
		for i := range atts {
			if backend.IsEngineMediaPath(atts[i].URL) {
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
