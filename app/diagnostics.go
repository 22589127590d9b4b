package app

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strings"

	"switchboard/app/applog"
)

// diagnosticLines is how many of the newest log lines diagnostics carry.
const diagnosticLines = 200

// Diagnostics is the support report and whether it reached the clipboard.
type Diagnostics struct {
	Text string `json:"text"`
	// Copied is false when the app has no clipboard of its own (browser
	// mode); the page copies Text itself then.
	Copied bool `json:"copied"`
}

// CopyDiagnostics builds the support report (version, system, settings,
// connection, the newest log lines; never a token or password) and puts it
// on the clipboard. Anyone who can open the app may ask for it: it holds
// nothing of other users'.
func (a *App) CopyDiagnostics() (Diagnostics, error) {
	d := Diagnostics{Text: a.diagnostics(context.Background())}
	if clipboard, _ := a.hooks(); clipboard != nil {
		if err := clipboard(d.Text); err != nil {
			a.log.Warn("copy diagnostics to the clipboard", "err", err)
		} else {
			d.Copied = true
		}
	}
	a.log.Info("diagnostics copied", "bytes", len(d.Text), "clipboard", d.Copied)
	return d, nil
}

func (a *App) diagnostics(ctx context.Context) string {
	var b strings.Builder
	line := func(k, v string) { fmt.Fprintf(&b, "%-12s %s\n", k+":", v) }
	build := Build()
	fmt.Fprintf(&b, "Switchboard diagnostics\n\n")
	line("Version", build.String())
	line("System", osName()+" ("+runtime.GOOS+"/"+runtime.GOARCH+")")
	if desktop := os.Getenv("XDG_CURRENT_DESKTOP"); desktop != "" {
		line("Desktop", desktop+" "+os.Getenv("XDG_SESSION_TYPE"))
	}
	line("Mode", a.mode)
	line("Data", a.cfg.DataDir)
	line("Settings", a.settings.Path())
	if a.cfg.Log != nil {
		line("Log", a.cfg.Log.Path())
	}
	if s, err := a.current(); err == nil {
		where := s.server
		if s.embedded {
			where = "this computer (embedded engine)"
		}
		line("Signed in", fmt.Sprintf("%s on %s", s.user.Role, where))
		if st, err := a.syncStatus(ctx, s, s.syncer.Status()); err == nil {
			line("Connection", fmt.Sprintf("%s, cursor %d, %d waiting in the outbox, %d failed attempts %s", st.State, st.LastSeq, st.Pending, st.Attempt, st.LastError))
		}
	} else {
		line("Signed in", "no")
	}
	settingsJSON, _ := json.MarshalIndent(a.currentSettings(), "", "  ")
	fmt.Fprintf(&b, "\nSettings (nothing secret is kept there):\n%s\n", settingsJSON)
	if a.cfg.Log != nil {
		lines, err := a.cfg.Log.Tail(diagnosticLines)
		if err != nil {
			fmt.Fprintf(&b, "\nThe log could not be read: %v\n", err)
		} else {
			fmt.Fprintf(&b, "\nLast %d log lines:\n", len(lines))
			for _, l := range lines {
				b.WriteString(applog.Redact(l) + "\n")
			}
		}
	}
	return b.String()
}

// osName is the distribution's name on Linux (os-release), else GOOS.
func osName() string {
	f, err := os.Open("/etc/os-release")
	if err != nil {
		return runtime.GOOS
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return runtime.GOOS
}
