// Command switchboard is the Switchboard contact center: the desktop app
// with its embedded engine, and the same engine headless for teams.
//
//	switchboard [--data DIR] [--demo]          open the desktop window
//	switchboard serve --addr :8080 --data DIR  run the engine headless
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
	"strings"
	"syscall"

	"switchboard/app"
	"switchboard/app/keychain"
	"switchboard/backend"
	"switchboard/backend/flow"
	"switchboard/backend/server"
	"switchboard/backend/sqlite"
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
	case "flow":
		if len(args) == 0 || args[0] != "test" {
			err = fmt.Errorf("usage: switchboard flow test FLOW.json|default --message TEXT")
			break
		}
		return flow.RunTestCommand(args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "switchboard", app.Version)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, "usage: switchboard [serve|browser|user add|version] [flags]; see README.md")
	default:
		err = fmt.Errorf("unknown command %q; try serve, browser, user, version", cmd)
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
	if err := fset.Parse(args); err != nil {
		return err
	}
	a := app.New(app.Config{DataDir: *data, Demo: *demo, Logger: logger(stderr)}, "desktop")
	if *demoUser != "" {
		if !*demo {
			return fmt.Errorf("--demo-user needs --demo")
		}
		if _, err := a.SignIn(app.SignInRequest{Email: *demoUser, Password: server.DemoPassword}); err != nil {
			return fmt.Errorf("sign in as %s: %s", *demoUser, err)
		}
	}
	return app.RunDesktop(a, frontendFS())
}

func runBrowser(args []string, stdout, stderr io.Writer, wait func()) error {
	fset, data, demo, addr := appFlags("browser", args, stderr)
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
	a := app.New(app.Config{DataDir: *data, Demo: *demo, Logger: logger(stderr)}, "browser")
	b, err := app.ServeBrowser(a, frontendFS(), *addr)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "Switchboard UI:", b.URL)
	wait()
	return b.Close()
}

func runServe(args []string, stderr io.Writer, wait func()) error {
	fset := flag.NewFlagSet("serve", flag.ContinueOnError)
	fset.SetOutput(stderr)
	addr := fset.String("addr", ":8080", "listen address for the API and webhooks")
	data := fset.String("data", "switchboard-data", "directory for engine.db")
	demo := fset.Bool("demo", false, "seed an empty store with a demo workspace")
	if err := fset.Parse(args); err != nil {
		return err
	}
	log := logger(stderr)
	s, err := server.Open(context.Background(), server.Config{Addr: *addr, DataDir: *data, Demo: *demo, Logger: log})
	if err != nil {
		return err
	}
	log.Info("engine listening", "url", s.URL(), "data", *data)
	if users, err := s.DB.FindUsers(context.Background()); err == nil && len(users) == 0 {
		fmt.Fprint(stderr, firstUserHint(*data))
	}
	wait()
	return s.Close()
}

func runUser(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		return fmt.Errorf("usage: switchboard user add --data DIR --email E --name N --role agent|supervisor|admin (password on stdin)")
	}
	fset := flag.NewFlagSet("user add", flag.ContinueOnError)
	fset.SetOutput(stderr)
	data := fset.String("data", "switchboard-data", "engine data directory")
	email := fset.String("email", "", "email to sign in with")
	name := fset.String("name", "", "display name")
	role := fset.String("role", "agent", "agent, supervisor or admin")
	if err := fset.Parse(args[1:]); err != nil {
		return err
	}
	password, _ := bufio.NewReader(stdin).ReadString('\n')
	db := sqlite.NewDB(filepath.Join(*data, "engine.db"))
	if err := os.MkdirAll(*data, 0o700); err != nil {
		return err
	}
	if err := db.Open(context.Background()); err != nil {
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
// create the first one; until then nobody can sign in.
func firstUserHint(data string) string {
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
