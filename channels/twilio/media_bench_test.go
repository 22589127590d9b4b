package twilio_test

import (
	"crypto/rand"
	"net/http"
	"testing"

	"switchboard/channels/internal/hubtest"
	"switchboard/channels/twilio"
	"switchboard/channels/twilio/twiliotest"
)

// BenchmarkMediaFetch measures the hub's media worker taking customers'
// files from the platform: b.N MMS webhooks each carry a distinct 1 MiB
// picture kept on the Twilio fake behind basic auth and a redirect; the
// timed part fetches them all (type sniffed, hashed, stored in SQLite).
// Reported: MB/s and files per second.
//
//	go test -run '^$' -bench MediaFetch -benchtime 200x ./channels/twilio
func BenchmarkMediaFetch(b *testing.B) {
	fake := twiliotest.NewServer(accountSID, authToken)
	b.Cleanup(fake.Close)
	env := hubtest.New(b, twilio.SMS, "main", map[string]any{"accountSid": accountSID, "authToken": authToken, "from": business}, fake.URL)
	const size = 1 << 20
	for i := 0; i < b.N; i++ {
		data := make([]byte, size)
		copy(data, hubtest.JPEG(i))
		rand.Read(data[len(hubtest.JPEG(i)):])
		p := fake.InboundParams(customer, business, "", fake.AddMedia("image/jpeg", data))
		if st, _ := hubtest.Do(b, fake.WebhookRequest(env.HookURL(twilio.SMS, "main"), p)); st != http.StatusOK {
			b.Fatalf("status %d", st)
		}
	}
	b.SetBytes(size)
	b.ResetTimer()
	fetched := 0
	for n := env.RunMedia(); n > 0; n = env.RunMedia() {
		fetched += n
	}
	b.StopTimer()
	if fetched != b.N || fake.MediaGets() != b.N {
		b.Fatalf("fetched %d of %d (platform served %d)", fetched, b.N, fake.MediaGets())
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "files/s")
}
