package tray_test

import (
	"image"
	"image/color"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"switchboard/app/tray"
)

// panel plays the part a desktop's tray host (KDE's, Xfce's …) has in the
// StatusNotifierItem protocol: it owns org.kde.StatusNotifierWatcher on
// the session bus, takes the item's registration, reads its properties and
// menu, and clicks.
type panel struct {
	conn       *dbus.Conn
	registered chan string
}

func newPanel(t *testing.T) *panel {
	t.Helper()
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		if os.Getenv("SWITCHBOARD_REQUIRE_KEYRING") != "" {
			t.Fatal("SWITCHBOARD_REQUIRE_KEYRING is set but there is no D-Bus session bus")
		}
		t.Skip("no D-Bus session bus; make test runs this under dbus-run-session")
	}
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	reply, err := conn.RequestName("org.kde.StatusNotifierWatcher", dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("cannot become the tray host on this bus (%v, %v): run under a private dbus-run-session", reply, err)
	}
	p := &panel{conn: conn, registered: make(chan string, 4)}
	err = conn.ExportMethodTable(map[string]any{
		"RegisterStatusNotifierItem": func(sender dbus.Sender, path string) *dbus.Error {
			if path == "/StatusNotifierItem" {
				p.registered <- string(sender)
			}
			return nil
		},
	}, "/StatusNotifierWatcher", "org.kde.StatusNotifierWatcher")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type pixmap struct {
	W, H int32
	Pix  []byte
}

func (p *panel) property(t *testing.T, item, name string, out any) {
	t.Helper()
	v, err := p.conn.Object(item, "/StatusNotifierItem").GetProperty("org.kde.StatusNotifierItem." + name)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	if err := v.Store(out); err != nil {
		t.Fatalf("decode %s (%s): %v", name, v.Signature(), err)
	}
}

func (p *panel) tooltip(t *testing.T, item string) string {
	var tip struct {
		Name  string
		Icons []pixmap
		Title string
		Text  string
	}
	p.property(t, item, "ToolTip", &tip)
	return tip.Title
}

// pixel reads the item's icon at (x, y) from its ARGB32 pixmap.
func (p *panel) pixel(t *testing.T, item string, x, y int) color.NRGBA {
	t.Helper()
	var icons []pixmap
	p.property(t, item, "IconPixmap", &icons)
	if len(icons) != 1 || icons[0].W != tray.IconSize || len(icons[0].Pix) != tray.IconSize*tray.IconSize*4 {
		t.Fatalf("icon pixmaps: %d, want one of %dx%d", len(icons), tray.IconSize, tray.IconSize)
	}
	i := (y*int(icons[0].W) + x) * 4
	px := icons[0].Pix[i : i+4]
	return color.NRGBA{A: px[0], R: px[1], G: px[2], B: px[3]}
}

type menuEntry struct {
	id      int32
	label   string
	visible bool
	enabled bool
	checked bool
}

// menu reads the item's menu (com.canonical.dbusmenu GetLayout).
func (p *panel) menu(t *testing.T, item string) []menuEntry {
	t.Helper()
	var revision uint32
	var root struct {
		ID       int32
		Props    map[string]dbus.Variant
		Children []dbus.Variant
	}
	err := p.conn.Object(item, "/StatusNotifierItem/menu").Call("com.canonical.dbusmenu.GetLayout", 0, int32(0), int32(-1), []string{}).Store(&revision, &root)
	if err != nil {
		t.Fatalf("read the menu: %v", err)
	}
	var out []menuEntry
	for _, c := range root.Children {
		fields, ok := c.Value().([]any)
		if !ok || len(fields) < 2 {
			t.Fatalf("menu child %v", c)
		}
		props := fields[1].(map[string]dbus.Variant)
		e := menuEntry{id: fields[0].(int32), visible: true, enabled: true}
		if v, ok := props["label"]; ok {
			e.label = v.Value().(string)
		}
		if v, ok := props["visible"]; ok {
			e.visible = v.Value().(bool)
		}
		if v, ok := props["enabled"]; ok {
			e.enabled = v.Value().(bool)
		}
		if v, ok := props["toggle-state"]; ok {
			e.checked = v.Value().(int32) == 1
		}
		out = append(out, e)
	}
	return out
}

func (p *panel) click(t *testing.T, item string, id int32) {
	t.Helper()
	if err := p.conn.Object(item, "/StatusNotifierItem/menu").Call("com.canonical.dbusmenu.Event", 0, id, "clicked", dbus.MakeVariant(""), uint32(0)).Err; err != nil {
		t.Fatalf("click menu item %d: %v", id, err)
	}
}

func entry(t *testing.T, menu []menuEntry, label string) menuEntry {
	t.Helper()
	i := slices.IndexFunc(menu, func(e menuEntry) bool { return e.label == label && e.visible })
	if i < 0 {
		t.Fatalf("no visible menu item %q in %+v", label, menu)
	}
	return menu[i]
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTray_ShowsTheAgentsStateToTheDesktopsTrayHost(t *testing.T) {
	p := newPanel(t)
	icon, err := os.ReadFile("../../build/appicon.png")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var events []string
	record := func(e string) { mu.Lock(); events = append(events, e); mu.Unlock() }
	recorded := func(e string) func() bool {
		return func() bool { mu.Lock(); defer mu.Unlock(); return slices.Contains(events, e) }
	}
	tr := &tray.Tray{Icon: icon, OnOpen: func() { record("open") }, OnQuit: func() { record("quit") },
		OnActivity: func(name string) { record("activity " + name) }}
	activities := []tray.Activity{{Name: "Available", Available: true}, {Name: "Break"}, {Name: "Lunch"}, {Name: "Offline"}}
	tr.Update(tray.State{SignedIn: true, Activity: "Available", Activities: activities, Unread: 3, Offers: 1, Connection: "online"})
	stop := tr.Start()
	defer stop()

	var item string
	select {
	case item = <-p.registered:
	case <-time.After(10 * time.Second):
		t.Fatal("the tray never registered with the tray host")
	}
	eventually(t, "the tooltip", func() bool { return strings.Contains(p.tooltip(t, item), "3 unread") })
	if got := p.tooltip(t, item); got != "Switchboard: Available · 3 unread · 1 offer waiting" {
		t.Fatalf("tooltip %q", got)
	}
	// The badge (top right) is red; the icon's corner outside the tile is clear.
	if c := p.pixel(t, item, tray.IconSize-19, 19); c.R < 0xc0 || c.G > 0x60 || c.A != 0xff {
		t.Fatalf("badge pixel %v, want red", c)
	}
	if c := p.pixel(t, item, 0, tray.IconSize-1); c.A != 0 {
		t.Fatalf("corner pixel %v, want transparent", c)
	}

	menu := p.menu(t, item)
	if !entry(t, menu, "Available").checked || entry(t, menu, "Break").checked {
		t.Fatalf("the menu does not tick the current activity: %+v", menu)
	}
	for _, label := range []string{"Open Switchboard", "Lunch", "Offline", "Quit Switchboard"} {
		entry(t, menu, label)
	}
	if n := len(slices.DeleteFunc(slices.Clone(menu), func(e menuEntry) bool { return !e.visible || e.label == "" })); n != 7 {
		t.Fatalf("%d visible labelled items, want open, status, four activities and quit: %+v", n, menu)
	}
	p.click(t, item, entry(t, menu, "Break").id)
	eventually(t, "the activity switch", recorded("activity Break"))
	p.click(t, item, entry(t, menu, "Open Switchboard").id)
	eventually(t, "open from the menu", recorded("open"))

	// Offline: a grey icon without the red, activities cannot be switched.
	tr.Update(tray.State{SignedIn: true, Activity: "Break", Activities: activities, Unread: 4, Connection: "offline"})
	if got := p.tooltip(t, item); got != "Switchboard: Break · Offline: reconnecting · 4 unread" {
		t.Fatalf("offline tooltip %q", got)
	}
	if c := p.pixel(t, item, tray.IconSize/2, tray.IconSize/2+14); c.R != c.G || c.G != c.B {
		t.Fatalf("offline icon pixel %v, want grey", c)
	}
	menu = p.menu(t, item)
	if e := entry(t, menu, "Lunch"); e.enabled {
		t.Fatalf("activities stay switchable offline: %+v", e)
	}
	if !entry(t, menu, "Break").checked {
		t.Fatal("the menu does not tick Break")
	}

	// Signed out: no badge, no activities.
	tr.Update(tray.State{Connection: "signed_out"})
	if got := p.tooltip(t, item); got != "Switchboard: Not signed in" {
		t.Fatalf("signed-out tooltip %q", got)
	}
	if slices.ContainsFunc(p.menu(t, item), func(e menuEntry) bool { return e.visible && e.label == "Break" }) {
		t.Fatal("activities shown while signed out")
	}

	// The menu follows the language setting.
	tr.Update(tray.State{Connection: "signed_out", Language: "es_ES.UTF-8"})
	if got := p.tooltip(t, item); got != "Switchboard: Sin sesión iniciada" {
		t.Fatalf("Spanish tooltip %q", got)
	}
	entry(t, p.menu(t, item), "Abrir Switchboard")
	p.click(t, item, entry(t, p.menu(t, item), "Salir de Switchboard").id)
	eventually(t, "quit from the menu", recorded("quit"))
}

func TestRender_BadgeCountsAndOfflineGrey(t *testing.T) {
	base := image.NewRGBA(image.Rect(0, 0, 256, 256))
	for i := range base.Pix {
		base.Pix[i] = 0xff // white, opaque
	}
	plain, err := tray.Render(base, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	if c := plain.RGBAAt(tray.IconSize-19, 19); c != (color.RGBA{0xff, 0xff, 0xff, 0xff}) {
		t.Fatalf("no count, yet the badge spot is %v", c)
	}
	for _, n := range []int{1, 9, 10, 250} {
		img, err := tray.Render(base, n, false)
		if err != nil {
			t.Fatal(err)
		}
		red := 0
		for y := range 36 {
			for x := tray.IconSize - 37; x < tray.IconSize; x++ {
				if c := img.RGBAAt(x, y); c.R > 0xc0 && c.G < 0x60 {
					red++
				}
			}
		}
		if red < 300 {
			t.Fatalf("count %d: only %d red pixels in the badge", n, red)
		}
	}
	grey, _ := tray.Render(base, 0, true)
	if c := grey.RGBAAt(10, 10); c.R != c.G || c.A == 0xff {
		t.Fatalf("offline pixel %v, want grey and see-through", c)
	}
	ico, err := tray.EncodeICO(plain)
	if err != nil || len(ico) < 22 || ico[2] != 1 || ico[4] != 1 || ico[6] != tray.IconSize || string(ico[23:26]) != "PNG" {
		t.Fatalf("ICO header % x, %v", ico[:min(len(ico), 26)], err)
	}
}
