package all_test

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"switchboard/channels"
	"switchboard/channels/custom"
	"switchboard/channels/discord"
	"switchboard/channels/email"
	"switchboard/channels/line"
	"switchboard/channels/messenger"
	"switchboard/channels/telegram"
	"switchboard/channels/twilio"
	"switchboard/channels/webchat"
	"switchboard/channels/whatsapp"
)

// configs maps every connector to its configuration struct, so the test can
// hold each connector's settings description against the fields it decodes.
var configs = map[string]any{
	custom.ID: custom.Config{}, discord.ID: discord.Config{}, email.ID: email.Config{}, line.ID: line.Config{},
	messenger.Messenger: messenger.Config{}, messenger.Instagram: messenger.Config{}, telegram.ID: telegram.Config{},
	twilio.SMS: twilio.Config{}, twilio.WhatsApp: twilio.Config{}, webchat.ID: webchat.Config{}, whatsapp.ID: whatsapp.Config{},
}

// kindsFor lists the setting kinds that can edit a Go field type.
func kindsFor(t reflect.Type) []string {
	switch {
	case t == reflect.TypeFor[channels.Secret]():
		return []string{channels.KindSecret}
	case t.Kind() == reflect.String:
		return []string{channels.KindText, channels.KindURL, channels.KindEmail, channels.KindHost, channels.KindSelect}
	case t.Kind() == reflect.Int:
		return []string{channels.KindNumber}
	case t.Kind() == reflect.Bool, t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Bool:
		return []string{channels.KindBool}
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		return []string{channels.KindList}
	}
	return nil
}

// TestEveryConnectorDescribesItsSettings checks, for every registered
// connector, that its form description covers exactly the fields of its
// configuration, with English and Spanish labels and help, a kind that fits
// the field's type, and every secret field marked secret (write-only).
func TestEveryConnectorDescribesItsSettings(t *testing.T) {
	var ids []string
	for _, info := range channels.Registered() {
		ids = append(ids, info.ID)
	}
	var listed []string
	for id := range configs {
		listed = append(listed, id)
	}
	sort.Strings(listed)
	if !slices.Equal(ids, listed) {
		t.Fatalf("registered connectors %v, but this test knows %v: add the new one's Config", ids, listed)
	}
	for _, info := range channels.Registered() {
		t.Run(info.ID, func(t *testing.T) {
			if info.Title.En == "" || info.Title.Es == "" {
				t.Errorf("title %+v needs English and Spanish", info.Title)
			}
			fields := map[string]reflect.Type{}
			ct := reflect.TypeOf(configs[info.ID])
			for i := range ct.NumField() {
				f := ct.Field(i)
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				fields[name] = f.Type
			}
			described := map[string]bool{}
			for _, s := range info.Settings {
				described[s.Key] = true
				typ, ok := fields[s.Key]
				if !ok {
					t.Errorf("setting %q is not a field of the configuration", s.Key)
					continue
				}
				for what, txt := range map[string]channels.Text{"label": s.Label, "help": s.Help} {
					if strings.TrimSpace(txt.En) == "" || strings.TrimSpace(txt.Es) == "" {
						t.Errorf("setting %q: %s %+v needs English and Spanish", s.Key, what, txt)
					}
				}
				if !slices.Contains(kindsFor(typ), s.Kind) {
					t.Errorf("setting %q: kind %q cannot edit a %s (want one of %v)", s.Key, s.Kind, typ, kindsFor(typ))
				}
				if s.Kind == channels.KindSelect && len(s.Options) == 0 {
					t.Errorf("setting %q: a select needs options", s.Key)
				}
				secret := typ == reflect.TypeFor[channels.Secret]()
				if secret != (s.Kind == channels.KindSecret) || secret != slices.Contains(info.Secrets, s.Key) {
					t.Errorf("setting %q: secret field %v, kind %q, in Secrets %v", s.Key, secret, s.Kind, slices.Contains(info.Secrets, s.Key))
				}
			}
			for name := range fields {
				if !described[name] {
					t.Errorf("configuration field %q has no setting: the admin could not fill it in", name)
				}
			}
		})
	}
}
