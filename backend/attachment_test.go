package backend_test

import (
	"strings"
	"testing"

	"switchboard/backend"
)

func TestCheckAttachmentURL(t *testing.T) {
	for _, ok := range []string{
		"", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", "http://cdn.example.com/a.png?x=1#y",
		"/media/me_abc", "/widget/site/files/up_123",
	} {
		if err := backend.CheckAttachmentURL(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{
		"javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)", "vbscript:msgbox", "data:text/html,<script>x</script>",
		"data:image/png;base64,AAAA", "file:///etc/passwd", "blob:https://x/1", "//evil.example/x.png", "evil.png", "../../etc/passwd",
		"https://user:pass@example.com/x", "https:///nohost", "http://exa mple.com/", "https://example.com\\@evil.com",
		"/media/", "/media/a/b", "/media/..", "/widget/site/files/../x", "/widget/site/other/up_1", "/media/a?x", "/api/conversations",
		"telegram:file/AgAD", "email:too-large",
	} {
		if err := backend.CheckAttachmentURL(bad); backend.ErrorCode(err) != backend.EInvalid {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestSafeAttachments_KeepsTheFileDropsTheURL(t *testing.T) {
	in := []backend.Attachment{{URL: "https://x.example/a.png", Type: "image/png"}, {URL: "javascript:alert(1)", Type: "image/png", Name: "evil.png", Size: 3}}
	out, n := backend.SafeAttachments(in)
	if n != 1 || len(out) != 2 || out[0].URL != in[0].URL || out[1].URL != "" || out[1].Name != "evil.png" || out[1].Size != 3 {
		t.Fatalf("%d removed, %+v", n, out)
	}
	if in[1].URL != "javascript:alert(1)" {
		t.Fatal("the caller's slice was changed")
	}
}

func TestParseDataURL(t *testing.T) {
	typ, data, ok := backend.ParseDataURL("data:application/pdf;base64,JVBERi0xLjQK")
	if !ok || typ != "application/pdf" || string(data) != "%PDF-1.4\n" {
		t.Fatalf("%q %q %v", typ, data, ok)
	}
	if typ, _, ok := backend.ParseDataURL("data:;base64,AA=="); !ok || typ != "application/octet-stream" {
		t.Fatalf("no type: %q %v", typ, ok)
	}
	for _, bad := range []string{"data:text/plain,hello", "data:x;base64,!!", "https://x/y", "data:image/png;base64"} {
		if _, _, ok := backend.ParseDataURL(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

func FuzzCheckAttachmentURL(f *testing.F) {
	for _, s := range []string{"https://x.example/a", "javascript:alert(1)", "/media/me_1", "/widget/a/files/b", "data:,x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if backend.CheckAttachmentURL(s) != nil || s == "" {
			return
		}
		// Whatever passes is a web URL or one of the engine's own paths.
		low := strings.ToLower(s)
		if !backend.IsEngineMediaPath(s) && !strings.HasPrefix(low, "http://") && !strings.HasPrefix(low, "https://") {
			t.Fatalf("%q passed", s)
		}
	})
}
