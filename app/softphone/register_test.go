package softphone_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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
			sipp, err := exec.LookPath("sipp")
			if err != nil {
				t.Fatal("sipp is missing: install Debian's sip-tester (make deps does)")
			}
			e := MustStartEngine(t)
			dir := t.TempDir()
			tmpl, err := os.ReadFile("testdata/registrar.xml")
			if err != nil {
				t.Fatal(err)
			}
			scenario := strings.NewReplacer("{{USER}}", "acme", "{{PASSWORD}}", "s3cret").Replace(string(tmpl))
			os.WriteFile(filepath.Join(dir, "registrar.xml"), []byte(scenario), 0o600)
			port := freePort(t)
			var out bytes.Buffer
			cmd := exec.Command(sipp, "-sf", "registrar.xml", "-m", "1", "-i", "127.0.0.1", "-p", strconv.Itoa(port),
				"-nostdin", "-trace_err", "-timeout", "30s", "-timeout_error")
			cmd.Dir, cmd.Stdout, cmd.Stderr = dir, &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			t.Cleanup(func() { cmd.Process.Kill() })
			time.Sleep(200 * time.Millisecond) // sipp binds its port
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
