// Command switchboard is the Switchboard contact center: the desktop app
// with its embedded engine, and the same engine headless for teams.
//
//	switchboard [--data DIR] [--demo]          open the desktop window
//	switchboard serve --addr :8080 --data DIR  run the engine headless (serve -h lists its flags)
//	switchboard key generate                   print a new secret key for serve
//	switchboard browser --data DIR [--demo]    serve the UI to a browser on loopback
//	switchboard user add --data DIR --email E --role admin --name N   (password on stdin)
//	switchboard flow test FLOW.json|default --message "…"               (the path a message takes)
//	switchboard version
package main

import (
	"bufio"
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"

	"switchboard/app"
	"switchboard/app/keychain"
	"switchboard/backend"
	"switchboard/backend/flow"
	"switchboard/backend/secret"
	"switchboard/backend/server"
)

//go:embed all:frontend/dist
var assets embed.FS

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, waitForSignal))
}

// run runs one command; wait blocks while a server command serves (until
// a signal, in main).
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, wait func()) int {
	cmd := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "":
		err = runDesktop(args, stderr)
	case "serve":
		err = runServe(args, stderr, wait)
	case "browser":
		err = runBrowser(args, stdout, stderr, wait)
	case "user":
		err = runUser(args, stdin, stdout, stderr)
	case "key":
		err = runKey(args, stdout)
	case "flow":
		if len(args) == 0 || args[0] != "test" {
			err = fmt.Errorf("usage: switchboard flow test FLOW.json|default --message TEXT")
			break
		}
		return flow.RunTestCommand(args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, app.Build())
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, "usage: switchboard [serve|browser|user add|key generate|version] [flags]; see README.md")
	default:
		err = fmt.Errorf("unknown command %q; try serve, browser, user, key, version", cmd)
	}
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "switchboard:", err)
		}
		return 1
	}
	return 0
}

func defaultDataDir() string {
	if dir, err := os.UserConfigDir(); err == nil {
		return filepath.Join(dir, "switchboard")
	}
	return ".switchboard"
}

func frontendFS() fs.FS {
	sub, err := fs.Sub(assets, "frontend/dist")
	if err != nil {
		panic(err)
	}
	return sub
}

func logger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func appFlags(name string, args []string, stderr io.Writer) (*flag.FlagSet, *string, *bool, *string) {
	fset := flag.NewFlagSet(name, flag.ContinueOnError)
	fset.SetOutput(stderr)
	data := fset.String("data", defaultDataDir(), "directory for the embedded engine, the local cache and settings")
	demo := fset.Bool("demo", false, "seed an empty embedded engine with a demo workspace")
	addr := fset.String("addr", "127.0.0.1:0", "listen address (browser mode: loopback only)")
	return fset, data, demo, addr
}

func runDesktop(args []string, stderr io.Writer) error {
	fset, data, demo, _ := appFlags("switchboard", args, stderr)
	demoUser := fset.String("demo-user", "", "with --demo: sign in as this demo account on start (e.g. ana@example.com)")
	demoScreen := fset.String("demo-screen", "", "with --demo-user: open this screen on start (supervisor)")
	sound := audioFlag(fset)
	autoAnswer := fset.Bool("auto-answer", false, "answer offered calls as they ring")
	voice := server.VoiceFlags(fset)
	if err := fset.Parse(args); err != nil {
		return err
	}
	vc, err := voice()
	if err != nil {
		return err
	}
	if *demoUser != "" && !*demo {
		return fmt.Errorf("--demo-user needs --demo")
	}
	cfg, closeLog, err := userConfig(*data, *demo, stderr)
	if err != nil {
		return err
	}
	defer closeLog()
	cfg.DemoUser, cfg.DemoScreen, cfg.Audio, cfg.AutoAnswer, cfg.Voice = *demoUser, *demoScreen, *sound, *autoAnswer, vc
	return app.RunDesktop(app.New(cfg, "desktop"), frontendFS())
}

func runBrowser(args []string, stdout, stderr io.Writer, wait func()) error {
	fset, data, demo, addr := appFlags("browser", args, stderr)
	sound := audioFlag(fset)
	if err := fset.Parse(args); err != nil {
		return err
	}
	if !strings.HasPrefix(*addr, "127.") && !strings.HasPrefix(*addr, "localhost:") && !strings.HasPrefix(*addr, "[::1]:") {
		return fmt.Errorf("browser mode listens on loopback only, not %s", *addr)
	}
	// Signing in keeps the session in the keyring: without one, say so now
	// and what to do, rather than fail at the sign-in screen.
	if err := keychain.New("").Check(); err != nil {
		return errors.New(backend.ErrorMessage(err))
	}
	cfg, closeLog, err := userConfig(*data, *demo, stderr)
	if err != nil {
		return err
	}
	defer closeLog()
	cfg.Audio = *sound
	b, err := app.ServeBrowser(app.New(cfg, "browser"), frontendFS(), *addr)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "Switchboard UI:", b.URL)
	wait()
	return b.Close()
}

func runServe(args []string, stderr io.Writer, wait func()) error {
	cfg, err := server.ParseServe(args, os.Getenv, stderr)
	if err != nil {
		return err
	}
	log := logger(stderr)
	cfg.Logger = log
	if cfg.CPUProfile != "" {
		stop, err := startCPUProfile(cfg.CPUProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	s, err := server.Open(context.Background(), cfg)
	if err != nil {
		return err
	}
	store := "sqlite"
	if cfg.Store != "" {
		store = "postgres" // the URL may hold a password
	}
	log.Info("engine listening", "url", s.URL(), "data", cfg.DataDir, "store", store, "publicURL", cfg.PublicURL)
	if users, err := s.Store.FindUsers(context.Background()); err == nil && len(users) == 0 {
		fmt.Fprint(stderr, firstUserHint(cfg.DataDir, cfg.Store != ""))
	}
	wait()
	return s.Close()
}

// startCPUProfile writes a CPU profile to path until stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpu-profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpu-profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// runKey prints a new secret key for `serve` (--secret-key-file or
// SWITCHBOARD_SECRET_KEY).
func runKey(args []string, stdout io.Writer) error {
	if len(args) != 1 || args[0] != "generate" {
		return fmt.Errorf("usage: switchboard key generate > FILE  (then chmod 600 FILE)")
	}
	text, err := secret.Generate()
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, text)
	return nil
}

func runUser(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		return fmt.Errorf("usage: switchboard user add --data DIR --email E --name N --role agent|supervisor|admin (password on stdin)")
	}
	fset := flag.NewFlagSet("user add", flag.ContinueOnError)
	fset.SetOutput(stderr)
	data := fset.String("data", "switchboard-data", "engine data directory")
	store := fset.String("store", os.Getenv(server.EnvPrefix+"STORE"), "PostgreSQL URL of a team's shared store (default: SQLite in --data)")
	email := fset.String("email", "", "email to sign in with")
	name := fset.String("name", "", "display name")
	role := fset.String("role", "agent", "agent, supervisor or admin")
	if err := fset.Parse(args[1:]); err != nil {
		return err
	}
	password, _ := bufio.NewReader(stdin).ReadString('\n')
	db, err := server.OpenStore(context.Background(), server.Config{DataDir: *data, Store: *store, Logger: logger(stderr)})
	if err != nil {
		return err
	}
	defer db.Close()
	u := &backend.User{Name: *name, Email: *email, Role: backend.Role(*role)}
	if err := db.CreateUser(context.Background(), u, strings.TrimRight(password, "\r\n")); err != nil {
		return errors.New(backend.ErrorMessage(err))
	}
	fmt.Fprintf(stdout, "created %s (%s) %s\n", u.Email, u.Role, u.ID)
	return nil
}

// firstUserHint tells whoever started an engine with no users how to
// create the first one; until then nobody can sign in. On PostgreSQL it
// names the store by its variable: the URL may hold a password.
func firstUserHint(data string, onPostgres bool) string {
	if onPostgres {
		return `
This engine has no users yet, so nobody can sign in. Create the first admin in the
shared database, with the PostgreSQL URL this node was started with (every node sees
the admin at once; the password is read from stdin):

  echo 'a-long-password' | switchboard user add --store "$SWITCHBOARD_STORE" --email you@example.com --name "Your Name" --role admin
`
	}
	return fmt.Sprintf(`
This engine has no users yet, so nobody can sign in. Create the first admin
(the running engine sees it at once; the password is read from stdin):

  echo 'a-long-password' | switchboard user add --data %s --email you@example.com --name "Your Name" --role admin

Or start with a demo workspace instead: switchboard serve --data %s --demo
`, shellQuote(data), shellQuote(data))
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func waitForSignal() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	<-ch
}
