package app

import (
	"context"
	"io/fs"
	"os"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/runtime"
)

// RunDesktop opens the Wails window with the built frontend in assets and
// blocks until it closes. The embedded engine starts on first sign-in (or
// session restore) and stops with the window.
func RunDesktop(a *App, assets fs.FS) error {
	lightWebView()
	return wails.Run(&options.App{
		Title:            "Switchboard",
		Width:            1280,
		Height:           820,
		MinWidth:         900,
		MinHeight:        600,
		AssetServer:      &assetserver.Options{Assets: assets},
		BackgroundColour: &options.RGBA{R: 248, G: 249, B: 251, A: 255},
		OnStartup: func(ctx context.Context) {
			a.setEmitter(func(name string, data any) { runtime.EventsEmit(ctx, name, data) })
		},
		OnShutdown: func(ctx context.Context) { a.shutdown() },
		Bind:       []any{a},
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
