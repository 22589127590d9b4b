//go:build !linux

package tray

// impl is empty where this package shows no tray: on Windows and macOS
// fyne.io/systray needs the main thread's message loop, which Wails owns,
// and that pairing has not been verified.
type impl struct{}

// Start does nothing here; see impl.
func (t *Tray) Start() (stop func()) { return func() {} }

// Update does nothing here; see impl.
func (t *Tray) Update(State) {}
