package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
	"github.com/wailsapp/wails/v2/pkg/runtime"

	"switchboard/app/tray"
)

// RunDesktop opens the Wails window with the built frontend in assets and
// blocks until it closes. The embedded engine starts on first sign-in (or
// session restore) and stops with the window.
//
// One window per user and data directory: a second launch hands over to
// the running one (Wails' single-instance lock, over D-Bus on Linux), which
// comes to the front, and exits (Wails exits it with status 1 on Linux).
func RunDesktop(a *App, assets fs.FS) error {
	lightWebView()
	var wailsCtx atomic.Pointer[context.Context]
	var stopTray func()
	var startOnce sync.Once
	show := func() {
		if ctx := wailsCtx.Load(); ctx != nil {
			runtime.WindowUnminimise(*ctx) // gtk_window_present: raise and focus
			runtime.WindowShow(*ctx)
		}
	}
	return wails.Run(&options.App{
		Title:            "Switchboard",
		Width:            1280,
		Height:           820,
		MinWidth:         900,
		MinHeight:        600,
		AssetServer:      &assetserver.Options{Assets: assets},
		BackgroundColour: &options.RGBA{R: 248, G: 249, B: 251, A: 255},
		Linux:            &linux.Options{Icon: a.cfg.Icon, ProgramName: "switchboard", WebviewGpuPolicy: linux.WebviewGpuPolicyNever},
		SingleInstanceLock: &options.SingleInstanceLock{
			UniqueId: instanceID(a.cfg.DataDir),
			OnSecondInstanceLaunch: func(data options.SecondInstanceData) {
				a.log.Info("second launch: bringing the window to the front", "args", data.Args)
				show()
			},
		},
		OnStartup: func(c context.Context) {
			wailsCtx.Store(&c)
			a.setEmitter(func(name string, data any) { runtime.EventsEmit(c, name, data) })
			a.setClipboard(func(text string) error { return runtime.ClipboardSetText(c, text) })
		},
		// The page loads only in the instance that keeps running, so the
		// tray starts here rather than in OnStartup (which a second launch
		// also runs before it hands over).
		OnDomReady: func(c context.Context) {
			startOnce.Do(func() {
				tr := &tray.Tray{Icon: a.cfg.Icon, Logger: a.log,
					OnOpen: show,
					OnActivity: func(name string) {
						if _, err := a.SetActivity(name); err != nil {
							a.log.Warn("switch activity from the tray", "activity", name, "err", err)
						}
					},
					OnQuit: func() { runtime.Quit(c) }}
				a.setTray(func(s TrayState) { tr.Update(toTray(s)) })
				stopTray = tr.Start()
				a.refreshTray(c)
			})
		},
		OnShutdown: func(context.Context) {
			a.setTray(nil)
			if stopTray != nil {
				stopTray()
			}
			a.shutdown()
		},
		Bind: []any{a},
	})
}

// lightWebView trims the web view's memory before WebKit starts: the
// page's scripts run in JavaScriptCore's interpreter, without its JIT
// compilers (the UI is small; the JIT's code and buffers cost about 8 MB
// of the web process). A JSC_useJIT already set by the user wins.
func lightWebView() {
	if _, set := os.LookupEnv("JSC_useJIT"); !set {
		os.Setenv("JSC_useJIT", "false")
	}
}

// instanceID names the single-instance lock: one per user (the D-Bus
// session bus is the user's) and data directory, so two copies never share
// one cache while a test or a second profile with its own --data can run.
func instanceID(dataDir string) string {
	if abs, err := filepath.Abs(dataDir); err == nil {
		dataDir = abs
	}
	sum := sha256.Sum256([]byte(dataDir))
	return "io.switchboard.desktop." + hex.EncodeToString(sum[:6])
}

func trayLanguage(setting string) string {
	if setting != "" {
		return setting
	}
	return os.Getenv("LANG")
}

func toTray(s TrayState) tray.State {
	out := tray.State{SignedIn: s.SignedIn, Activity: s.Activity, Unread: s.Unread, Offers: s.Offers, Connection: s.Connection,
		Language: trayLanguage(s.Language)}
	for _, act := range s.Activities {
		out.Activities = append(out.Activities, tray.Activity{Name: act.Name, Available: act.Available})
	}
	return out
}
