package softphone_test

import (
	"fmt"
	"path/filepath"
	"strconv"
	"switchboard/backend/voice/voicetest"
	"testing"
	"time"
)

// The engine registers with a trunk's registrar (sipp) and answers its
// digest challenge with the trunk's credentials; sipp checks the digest.
func TestSoftphone_RegisterAnswersDigestChallenge(t *testing.T) {
	for _, tc := range []struct {
		name, password string
		ok             bool
	}{{"right password", "s3cret", true}, {"wrong password", "guess", false}} {
		t.Run(tc.name, func(t *testing.T) {
			e := MustStartEngine(t)
			port := voicetest.FreePort(t)
			done, out := voicetest.StartSipp(t, t.TempDir(), filepath.Join("testdata", "registrar.xml"), map[string]string{"{{USER}}": "acme", "{{PASSWORD}}": "s3cret"},
				"-p", strconv.Itoa(port), "-timeout", "30s")
			voicetest.WaitBound(t, port)
			e.do(t, e.admin, "PUT", "/api/voice/trunks/carrier", fmt.Sprintf(
				`{"config":{"registrar":"127.0.0.1:%d","username":"acme","password":%q}}`, port, tc.password), nil, 200)
			select {
			case err := <-done:
				if (err == nil) != tc.ok {
					t.Fatalf("sipp exit: %v (want success %v)\n%s", err, tc.ok, out.String())
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("the registrar saw no complete registration\n%s", out.String())
			}
		})
	}
}
