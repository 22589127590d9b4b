package app

import (
	"testing"

	"switchboard/app/cache"
	"switchboard/backend"
)

func TestResolveMedia_OnlyTheEnginesOwnPaths(t *testing.T) {
	atts := func() []backend.Attachment {
		return []backend.Attachment{{URL: "/media/me_1"}, {URL: "/widget/site/files/up_2"}, {URL: "https://cdn.example.com/a.png"},
			{URL: "javascript:alert(1)"}, {URL: "/api/conversations"}, {URL: ""}}
	}
	d := &cache.Detail{Messages: []backend.Message{{Attachments: atts()}}, Timeline: []cache.TimelineItem{{Message: backend.Message{Attachments: atts()}}}}
	resolveMedia(d, "https://sb.example.com")
	want := []string{"https://sb.example.com/media/me_1", "https://sb.example.com/widget/site/files/up_2", "https://cdn.example.com/a.png",
		"javascript:alert(1)", "/api/conversations", ""}
	for _, got := range [][]backend.Attachment{d.Messages[0].Attachments, d.Timeline[0].Attachments} {
		for i, a := range got {
			if a.URL != want[i] {
				t.Errorf("attachment %d: %q, want %q", i, a.URL, want[i])
			}
		}
	}
}
