package app

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version, Commit and BuildDate describe the build. `make build` and `make
// package` set them with -ldflags "-X switchboard/app.Version=…"; a plain
// `go build` leaves Version at its default and takes the commit from the
// module's VCS stamp.
var (
	// Version is the release, e.g. "0.1.0".
	Version = "0.1.0-dev"
	// Commit is the source commit the binary was built from.
	Commit = ""
	// BuildDate is the commit's date (YYYY-MM-DD), so that builds of one
	// commit are identical.
	BuildDate = ""
)

// BuildInfo describes the running binary.
type BuildInfo struct {
	Version  string `json:"version"`
	Commit   string `json:"commit"`
	Date     string `json:"date"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
}

// Build returns the running binary's build information.
func Build() BuildInfo {
	b := BuildInfo{Version: Version, Commit: Commit, Date: BuildDate, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if b.Commit == "" {
		b.Commit = "unknown"
		if info, ok := debug.ReadBuildInfo(); ok {
			var rev, dirty string
			for _, s := range info.Settings {
				switch s.Key {
				case "vcs.revision":
					rev = s.Value
				case "vcs.modified":
					if s.Value == "true" {
						dirty = "-dirty"
					}
				}
			}
			if len(rev) > 12 {
				rev = rev[:12]
			}
			if rev != "" {
				b.Commit = rev + dirty
			}
		}
	}
	return b
}

// String is what `switchboard version` prints.
func (b BuildInfo) String() string {
	s := fmt.Sprintf("switchboard %s (commit %s", b.Version, b.Commit)
	if b.Date != "" {
		s += ", " + b.Date
	}
	return s + ", " + b.Go + " " + b.Platform + ")"
}
