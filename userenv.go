package main

import (
	_ "embed"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"switchboard/app"
	"switchboard/app/applog"
	"switchboard/app/autostart"
)

// appIcon is the app's icon (build/appicon.png, drawn from build/appicon.svg).
//
//go:embed build/appicon.png
var appIcon []byte

// userConfig is the App configuration for a person's desktop session: the
// settings in their config directory, the rotating log in their state
// directory (and on stderr), and the start-at-login entry pointing at this
// binary. The returned function closes the log.
func userConfig(dataDir string, demo bool, stderr io.Writer) (app.Config, func(), error) {
	cfg := app.Config{DataDir: dataDir, Demo: demo, Icon: appIcon}
	config, err := os.UserConfigDir()
	if err != nil {
		return cfg, nil, fmt.Errorf("find the config directory: %w", err)
	}
	cfg.ConfigDir = filepath.Join(config, "switchboard")
	logDir, err := applog.DefaultDir()
	if err != nil {
		return cfg, nil, fmt.Errorf("find the log directory: %w", err)
	}
	logFile, err := applog.Open(logDir, applog.Options{})
	if err != nil {
		return cfg, nil, err
	}
	cfg.Log = logFile
	cfg.Logger = slog.New(slog.NewTextHandler(io.MultiWriter(stderr, logFile), &slog.HandlerOptions{Level: slog.LevelInfo}))
	if exe, err := os.Executable(); err == nil {
		if resolved, err := filepath.EvalSymlinks(exe); err == nil {
			exe = resolved
		}
		cfg.Autostart = &autostart.Autostart{ID: "switchboard", Name: "Switchboard", Comment: "Answer your customers' conversations and calls",
			Icon: "switchboard", Exec: []string{exe}}
	}
	return cfg, func() { logFile.Close() }, nil
}
