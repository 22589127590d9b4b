package flow

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Template is a text with {{ path }} placeholders, Studio's Liquid subset:
// paths such as trigger.message.body, message.body, flow.variables.name,
// widgets.name.parsed.answer or contact.attributes.tier, each optionally
// piped through filters (default: "x", downcase, upcase, strip, to_json,
// size). Lookups ignore case, so Studio's trigger.message.Body works.
type Template struct {
	src   string
	parts []tplPart
}

type tplPart struct {
	lit     string
	path    []string // nil for a literal
	filters []tplFilter
}

type tplFilter struct {
	name string
	arg  string
}

// ParseTemplate parses src. It fails on an unclosed placeholder or an
// unknown filter.
func ParseTemplate(src string) (*Template, error) {
	t := &Template{src: src}
	rest := src
	for rest != "" {
		i := strings.Index(rest, "{{")
		if i < 0 {
			t.parts = append(t.parts, tplPart{lit: rest})
			break
		}
		if i > 0 {
			t.parts = append(t.parts, tplPart{lit: rest[:i]})
		}
		j := strings.Index(rest[i+2:], "}}")
		if j < 0 {
			return nil, fmt.Errorf("template %q: a {{ is never closed", src)
		}
		p, err := parsePlaceholder(rest[i+2 : i+2+j])
		if err != nil {
			return nil, fmt.Errorf("template %q: %v", src, err)
		}
		t.parts = append(t.parts, p)
		rest = rest[i+2+j+2:]
	}
	return t, nil
}

// MustParseTemplate is ParseTemplate that panics, for constants.
func MustParseTemplate(src string) *Template {
	t, err := ParseTemplate(src)
	if err != nil {
		panic(err)
	}
	return t
}

func parsePlaceholder(s string) (tplPart, error) {
	segs := strings.Split(s, "|")
	path := strings.TrimSpace(segs[0])
	if path == "" {
		return tplPart{}, fmt.Errorf("empty placeholder")
	}
	p := tplPart{path: strings.Split(path, ".")}
	for _, seg := range segs[1:] {
		name, arg, _ := strings.Cut(strings.TrimSpace(seg), ":")
		f := tplFilter{name: strings.TrimSpace(name), arg: strings.Trim(strings.TrimSpace(arg), `"'`)}
		switch f.name {
		case "default", "downcase", "upcase", "strip", "to_json", "size":
		default:
			return tplPart{}, fmt.Errorf("unknown filter %q", f.name)
		}
		p.filters = append(p.filters, f)
	}
	return p, nil
}

// String returns the template's source.
func (t *Template) String() string { return t.src }

// Static reports whether the template has no placeholders.
func (t *Template) Static() bool {
	for _, p := range t.parts {
		if p.path != nil {
			return false
		}
	}
	return true
}

// Lookuper resolves a dotted path; Step implements it.
type Lookuper interface {
	Lookup(path []string) (any, bool)
}

// Render expands the template. A path that resolves to nothing renders as
// the empty string.
func (t *Template) Render(l Lookuper) string {
	if len(t.parts) == 1 && t.parts[0].path == nil {
		return t.parts[0].lit
	}
	var b strings.Builder
	for _, p := range t.parts {
		if p.path == nil {
			b.WriteString(p.lit)
			continue
		}
		v, _ := l.Lookup(p.path)
		b.WriteString(applyFilters(v, p.filters))
	}
	return b.String()
}

// Value renders a template that is one placeholder to the value it names
// (a number stays a number, an object an object); any other template
// renders to a string.
func (t *Template) Value(l Lookuper) any {
	if len(t.parts) == 1 && t.parts[0].path != nil && len(t.parts[0].filters) == 0 {
		v, _ := l.Lookup(t.parts[0].path)
		return v
	}
	return t.Render(l)
}

func applyFilters(v any, fs []tplFilter) string {
	for _, f := range fs {
		switch f.name {
		case "to_json":
			b, _ := json.Marshal(v)
			v = string(b)
		case "size":
			switch x := v.(type) {
			case []any:
				v = len(x)
			case map[string]any:
				v = len(x)
			default:
				v = len([]rune(toString(v)))
			}
		case "default":
			if toString(v) == "" {
				v = f.arg
			}
		case "downcase":
			v = strings.ToLower(toString(v))
		case "upcase":
			v = strings.ToUpper(toString(v))
		case "strip":
			v = strings.TrimSpace(toString(v))
		}
	}
	return toString(v)
}

// toString formats a looked-up value for text.
func toString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		return strconv.FormatBool(x)
	case json.Number:
		return x.String()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// walk follows path through maps and slices, matching keys exactly first
// and then ignoring case.
func walk(v any, path []string) (any, bool) {
	for _, k := range path {
		switch m := v.(type) {
		case map[string]any:
			x, ok := m[k]
			if !ok {
				for mk, mv := range m {
					if strings.EqualFold(mk, k) {
						x, ok = mv, true
						break
					}
				}
			}
			if !ok {
				return nil, false
			}
			v = x
		case map[string]string:
			x, ok := m[k]
			if !ok {
				for mk, mv := range m {
					if strings.EqualFold(mk, k) {
						x, ok = mv, true
						break
					}
				}
			}
			if !ok {
				return nil, false
			}
			v = x
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(m) {
				return nil, false
			}
			v = m[i]
		default:
			return nil, false
		}
	}
	return v, true
}
