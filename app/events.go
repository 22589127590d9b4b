package app

// emit sends an event to the frontend. Every UI event leaves through here:
// the desktop runner sets the emitter to Wails' EventsEmit, browser mode to
// its server-sent-events stream. Event names: "sync" {lastSeq} after the
// cache changed, "connection" {state} when the sync state changes (also
// "signed_out": the engine ended the session), "offer" {offer} and "missed"
// {offer} for new and missed offers, "progress" {done, total} during a
// long catch-up, "reset" {held} when the cache started over for a changed
// engine, "typing" {conversationId, who, name} while a customer types,
// "removed" {conversationIds} when the agent lost conversations (they left
// the cache), "supervisor" (a LiveView) and "queueAlert" (a QueueAlert) for
// supervisors and admins.
func (a *App) emit(name string, data any) {
	a.mu.Lock()
	emit := a.emitter
	a.mu.Unlock()
	if emit != nil {
		emit(name, data)
	}
}

// setEmitter installs the function that delivers events to the UI.
func (a *App) setEmitter(fn func(name string, data any)) {
	a.mu.Lock()
	a.emitter = fn
	a.mu.Unlock()
}

// setClipboard installs the function that copies text to the clipboard.
func (a *App) setClipboard(fn func(text string) error) {
	a.mu.Lock()
	a.clipboard = fn
	a.mu.Unlock()
}

// setTray installs the function that shows state in the tray (nil: none).
func (a *App) setTray(fn func(TrayState)) {
	a.mu.Lock()
	a.tray = fn
	a.mu.Unlock()
}

// hooks returns the clipboard and tray functions installed now.
func (a *App) hooks() (clipboard func(string) error, tray func(TrayState)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.clipboard, a.tray
}
