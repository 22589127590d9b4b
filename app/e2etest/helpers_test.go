package e2etest_test

import (
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"switchboard/app"
)

// builtFrontend returns frontend/dist, failing when it was not built.
func builtFrontend(t *testing.T) string {
	t.Helper()
	dist := filepath.Join("..", "..", "frontend", "dist")
	if _, err := os.Stat(filepath.Join(dist, "index.html")); err != nil {
		t.Fatalf("build the frontend first (npm run build): %v", err)
	}
	return dist
}

// serveApps starts one app in browser mode per name, each with its own
// data dir, cache and keyring entry, and returns their URLs by name.
func serveApps(t *testing.T, logger *slog.Logger, names ...string) map[string]string {
	t.Helper()
	dist := builtFrontend(t)
	uis := map[string]string{}
	for _, name := range names {
		a := app.New(app.Config{DataDir: t.TempDir(), KeyringService: "switchboard-e2e-" + name, PasswordCost: 4, Logger: logger}, "browser")
		b, err := app.ServeBrowser(a, os.DirFS(dist), "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		uis[name] = b.URL
	}
	return uis
}

// runPlaywright runs a frontend/e2e script with node's test runner and the
// given environment, writing screenshots to build/test-output.
func runPlaywright(t *testing.T, script string, env ...string) {
	t.Helper()
	out, _ := filepath.Abs(filepath.Join("..", "..", "build", "test-output"))
	cmd := exec.Command("node", "--test", "--test-concurrency=1", script)
	cmd.Dir = filepath.Join("..", "..", "frontend")
	cmd.Env = append(append(os.Environ(), "E2E_OUT="+out, "E2E_PASSWORD="+password), env...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("the browser test %s failed: %v", script, err)
	}
}
