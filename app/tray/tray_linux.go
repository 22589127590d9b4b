package tray

import (
	"bytes"
	"fmt"
	"image"
	_ "image/png" // the app icon
	"log/slog"
	"sync"

	"fyne.io/systray"
)

// impl holds the tray's menu items once it started.
type impl struct {
	mu       sync.Mutex
	started  bool
	ready    bool
	state    State
	badge    string // the count and connection the icon shows now
	base     image.Image
	status   *systray.MenuItem
	open     *systray.MenuItem
	acts     [maxActivities]*systray.MenuItem
	actNames [maxActivities]string
	quit     *systray.MenuItem
	done     chan struct{}
}

// Start shows the icon. The returned function removes it; call it before
// the app exits.
func (t *Tray) Start() (stop func()) {
	t.mu.Lock()
	if t.started {
		t.mu.Unlock()
		return func() {}
	}
	t.started, t.done = true, make(chan struct{})
	t.mu.Unlock()
	if t.Logger == nil {
		t.Logger = slog.Default()
	}
	if img, _, err := image.Decode(bytes.NewReader(t.Icon)); err == nil {
		t.base = img
	} else {
		t.Logger.Warn("tray icon", "err", err)
		t.base = image.NewRGBA(image.Rect(0, 0, IconSize, IconSize))
	}
	systray.SetOnTapped(t.opened)
	start, end := systray.RunWithExternalLoop(t.build, nil)
	start()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(t.done)
			end()
		})
	}
}

// build creates the menu; systray calls it once the item is exported.
// systray's menu outlives a stopped tray in the same process, so a tray
// started again begins from an empty menu rather than adding to the old one.
func (t *Tray) build() {
	systray.ResetMenu()
	systray.SetTitle("Switchboard")
	t.open = systray.AddMenuItem("", "")
	systray.AddSeparator()
	t.status = systray.AddMenuItem("", "")
	t.status.Disable()
	systray.AddSeparator()
	for i := range t.acts {
		t.acts[i] = systray.AddMenuItemCheckbox("", "", false)
		t.acts[i].Hide()
	}
	systray.AddSeparator()
	t.quit = systray.AddMenuItem("", "")
	go t.listen(t.open, t.opened)
	go t.listen(t.quit, func() {
		if t.OnQuit != nil {
			t.OnQuit()
		}
	})
	for i := range t.acts {
		go t.listen(t.acts[i], func() { t.chose(i) })
	}
	t.mu.Lock()
	t.ready = true
	t.mu.Unlock()
	t.apply()
}

func (t *Tray) listen(item *systray.MenuItem, fn func()) {
	for {
		select {
		case <-t.done:
			return
		case <-item.ClickedCh:
			fn()
		}
	}
}

func (t *Tray) opened() {
	if t.OnOpen != nil {
		t.OnOpen()
	}
}

func (t *Tray) chose(i int) {
	t.mu.Lock()
	name := t.actNames[i]
	t.mu.Unlock()
	if name != "" && t.OnActivity != nil {
		t.OnActivity(name)
	}
	t.apply() // a checkbox item ticks itself on some hosts: show the real state
}

// Update shows a new state.
func (t *Tray) Update(s State) {
	t.mu.Lock()
	t.state = s
	t.mu.Unlock()
	t.apply()
}

func (t *Tray) apply() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.ready {
		return
	}
	s := t.state
	l := LabelsFor(s.Language)
	t.open.SetTitle(l.Open)
	t.quit.SetTitle(l.Quit)
	offline := s.SignedIn && s.Connection == "offline"
	count := s.Unread + s.Offers
	if !s.SignedIn {
		count = 0
	}
	if badge := fmt.Sprint(count, offline); badge != t.badge {
		if img, err := Render(t.base, count, offline); err == nil {
			if b, err := EncodePNG(img); err == nil {
				systray.SetIcon(b)
				t.badge = badge
			}
		} else {
			t.Logger.Warn("tray icon", "err", err)
		}
	}
	summary := Summary(s, l)
	t.status.SetTitle(summary)
	systray.SetTooltip("Switchboard: " + summary)
	for i, item := range t.acts {
		t.actNames[i] = ""
		if !s.SignedIn || i >= len(s.Activities) {
			item.Hide()
			continue
		}
		a := s.Activities[i]
		t.actNames[i] = a.Name
		item.SetTitle(a.Name)
		if a.Name == s.Activity {
			item.Check()
		} else {
			item.Uncheck()
		}
		if s.Connection == "online" {
			item.Enable()
		} else {
			item.Disable() // switching needs the server
		}
		item.Show()
	}
}
