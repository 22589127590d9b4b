package api_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"testing"

	"switchboard/backend"
)

// BenchmarkMediaServe measures GET /media/{id} of 1 MiB files to the
// agent who holds their conversation: sign-in check, the access policy,
// the file read from SQLite and sent over loopback HTTP. Reported: MB/s
// and files per second.
//
//	go test -run '^$' -bench MediaServe -benchtime 500x ./backend/api
func BenchmarkMediaServe(b *testing.B) {
	ctx := context.Background()
	e := MustStartEngine(b)
	users, _ := e.DB.FindUsers(ctx)
	var agent string
	for _, u := range users {
		if u.Role == backend.RoleAgent {
			agent = u.ID
		}
	}
	m, _, err := e.DB.StoreInbound(ctx, &backend.InboundMessage{Channel: "telegram", Instance: "bot", ExternalUserID: "c1", ExternalID: "m1", Text: "photos"})
	if err != nil {
		b.Fatal(err)
	}
	if err := e.DB.SaveRouting(ctx, &backend.RoutingChange{Access: []*backend.ConversationAccess{{ConversationID: m.ConversationID,
		Users: map[string]string{agent: backend.AccessOwner}}}}); err != nil {
		b.Fatal(err)
	}
	const files, size = 50, 1 << 20
	ids := make([]string, files)
	for i := range ids {
		data := make([]byte, size)
		rand.Read(data)
		f := &backend.MediaFile{ConversationID: m.ConversationID, Name: fmt.Sprintf("photo%d.jpg", i), Type: "image/jpeg"}
		if err := e.DB.PutMedia(ctx, f, data); err != nil {
			b.Fatal(err)
		}
		ids[i] = f.ID
	}
	token := e.SignIn(b, "agent@example.com")
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest("GET", e.URL+backend.MediaPath+ids[i%files], nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || n != size {
			b.Fatalf("status %d, %d bytes", resp.StatusCode, n)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "files/s")
}
