package flow_test

import (
	"testing"

	"switchboard/backend/flow"
)

type mapLookup map[string]any

func (m mapLookup) Lookup(path []string) (any, bool) {
	var v any = map[string]any(m)
	for _, k := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = mm[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

func TestTemplate(t *testing.T) {
	l := mapLookup{"name": "Ada", "n": 3.0, "big": 12345678.0, "ok": true, "list": []any{"a", "b"},
		"obj": map[string]any{"k": "v"}, "blank": "", "pad": "  x  "}
	cases := []struct{ src, want string }{
		{"plain", "plain"},
		{"", ""},
		{"Hi {{name}}!", "Hi Ada!"},
		{"{{ name }}{{name}}", "AdaAda"},
		{"{{n}} {{big}} {{ok}}", "3 12345678 true"},
		{"{{missing}}|", "|"},
		{"{{missing | default: 'friend'}}", "friend"},
		{`{{blank | default: "x"}}`, "x"},
		{"{{name | upcase}} {{name | downcase}}", "ADA ada"},
		{"[{{pad | strip}}]", "[x]"},
		{"{{obj | to_json}} {{obj}}", `{"k":"v"} {"k":"v"}`},
		{"{{list | size}} {{name | size}}", "2 3"},
		{"{ not a placeholder }", "{ not a placeholder }"},
	}
	for _, tc := range cases {
		tpl, err := flow.ParseTemplate(tc.src)
		if err != nil {
			t.Errorf("parse %q: %v", tc.src, err)
			continue
		}
		if got := tpl.Render(l); got != tc.want {
			t.Errorf("render %q = %q, want %q", tc.src, got, tc.want)
		}
	}
	for _, bad := range []string{"{{name", "{{}}", "{{name | nope}}"} {
		if _, err := flow.ParseTemplate(bad); err == nil {
			t.Errorf("parse %q succeeded", bad)
		}
	}
	if v := flow.MustParseTemplate("{{n}}").Value(l); v != 3.0 {
		t.Errorf("value of one placeholder = %v, want the number", v)
	}
}
