package flow

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// Condition operators of the split widget.
const (
	OpContainsAny    = "containsAny"    // any of Values appears as words
	OpNotContainsAny = "notContainsAny" // none of Values appears as words
	OpContains       = "contains"       // Value is a substring (any case)
	OpNotContains    = "notContains"
	OpEquals         = "equals" // equal, ignoring case and outer space
	OpNotEquals      = "notEquals"
	OpEqualsAny      = "equalsAny" // equal to one of Values
	OpNotEqualsAny   = "notEqualsAny"
	OpStartsWith     = "startsWith"
	OpNotStartsWith  = "notStartsWith"
	OpRegex          = "regex"
	OpIsBlank        = "isBlank"
	OpIsNotBlank     = "isNotBlank"
	OpLess           = "lt" // numeric comparisons
	OpLessEqual      = "le"
	OpGreater        = "gt"
	OpGreaterEqual   = "ge"
	OpNumEqual       = "eq"
)

// Condition is one test of a split case, on the case's input (or its own).
type Condition struct {
	// Input overrides the split's input template for this condition.
	Input  string   `json:"input,omitempty"`
	Op     string   `json:"op"`
	Value  string   `json:"value,omitempty"`
	Values []string `json:"values,omitempty"`
}

// condition is a compiled Condition.
type condition struct {
	input   *Template // nil: the split's input
	op      string
	value   *Template
	num     float64 // a static numeric Value
	static  bool    // Value has no placeholders
	phrases [][]string
	values  []string // lowered
	re      *regexp.Regexp
}

func compileCondition(c Condition) (*condition, error) {
	cc := &condition{op: c.Op}
	var err error
	if c.Input != "" {
		if cc.input, err = ParseTemplate(c.Input); err != nil {
			return nil, err
		}
	}
	if cc.value, err = ParseTemplate(c.Value); err != nil {
		return nil, err
	}
	cc.static = cc.value.Static()
	switch c.Op {
	case OpContainsAny, OpNotContainsAny:
		if len(c.Values) == 0 {
			return nil, fmt.Errorf("%s needs values", c.Op)
		}
		for _, v := range c.Values {
			if ws := words(v); len(ws) > 0 {
				cc.phrases = append(cc.phrases, ws)
			}
		}
		if len(cc.phrases) == 0 {
			return nil, fmt.Errorf("%s needs at least one word", c.Op)
		}
	case OpEqualsAny, OpNotEqualsAny:
		if len(c.Values) == 0 {
			return nil, fmt.Errorf("%s needs values", c.Op)
		}
		for _, v := range c.Values {
			cc.values = append(cc.values, normalize(v))
		}
	case OpContains, OpNotContains, OpStartsWith, OpNotStartsWith:
		if c.Value == "" {
			return nil, fmt.Errorf("%s needs a value", c.Op)
		}
	case OpEquals, OpNotEquals, OpIsBlank, OpIsNotBlank:
	case OpRegex:
		if cc.re, err = regexp.Compile(c.Value); err != nil {
			return nil, fmt.Errorf("bad regex %q: %v", c.Value, err)
		}
	case OpLess, OpLessEqual, OpGreater, OpGreaterEqual, OpNumEqual:
		if cc.static {
			if cc.num, err = strconv.ParseFloat(strings.TrimSpace(c.Value), 64); err != nil {
				return nil, fmt.Errorf("%s needs a number, not %q", c.Op, c.Value)
			}
		}
	default:
		return nil, fmt.Errorf("unknown operator %q", c.Op)
	}
	return cc, nil
}

// match tests the condition on text (the rendered input).
func (c *condition) match(l Lookuper, text string) bool {
	switch c.op {
	case OpContainsAny:
		return containsAnyPhrase(words(text), c.phrases)
	case OpNotContainsAny:
		return !containsAnyPhrase(words(text), c.phrases)
	case OpEqualsAny, OpNotEqualsAny:
		n := normalize(text)
		for _, v := range c.values {
			if n == v {
				return c.op == OpEqualsAny
			}
		}
		return c.op == OpNotEqualsAny
	case OpIsBlank:
		return strings.TrimSpace(text) == ""
	case OpIsNotBlank:
		return strings.TrimSpace(text) != ""
	case OpRegex:
		return c.re.MatchString(text)
	}
	value := c.value.Render(l)
	switch c.op {
	case OpContains:
		return strings.Contains(strings.ToLower(text), strings.ToLower(value))
	case OpNotContains:
		return !strings.Contains(strings.ToLower(text), strings.ToLower(value))
	case OpEquals:
		return normalize(text) == normalize(value)
	case OpNotEquals:
		return normalize(text) != normalize(value)
	case OpStartsWith:
		return strings.HasPrefix(normalize(text), normalize(value))
	case OpNotStartsWith:
		return !strings.HasPrefix(normalize(text), normalize(value))
	}
	x, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
	if err != nil {
		return false
	}
	y := c.num
	if !c.static {
		if y, err = strconv.ParseFloat(strings.TrimSpace(value), 64); err != nil {
			return false
		}
	}
	switch c.op {
	case OpLess:
		return x < y
	case OpLessEqual:
		return x <= y
	case OpGreater:
		return x > y
	case OpGreaterEqual:
		return x >= y
	case OpNumEqual:
		return x == y
	}
	return false
}

func normalize(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// words splits text into lower-case words: runs of letters and digits.
// Scripts written without spaces (Han, kana, Thai) count each character as
// a word, so a phrase in them matches as a substring.
func words(text string) []string {
	var out []string
	start := -1
	for i, r := range text {
		switch {
		case r >= 0x0E00 && unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Thai):
			if start >= 0 {
				out = append(out, strings.ToLower(text[start:i]))
				start = -1
			}
			out = append(out, string(r))
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			if start < 0 {
				start = i
			}
		default:
			if start >= 0 {
				out = append(out, strings.ToLower(text[start:i]))
				start = -1
			}
		}
	}
	if start >= 0 {
		out = append(out, strings.ToLower(text[start:]))
	}
	return out
}

// containsAnyPhrase reports whether one of the phrases occurs in ws as
// consecutive words.
func containsAnyPhrase(ws []string, phrases [][]string) bool {
	for _, p := range phrases {
		if phraseScore(ws, p) > 0 {
			return true
		}
	}
	return false
}

// phraseScore is the phrase's length in words when it occurs in ws, else 0.
func phraseScore(ws, p []string) int {
	for i := 0; i+len(p) <= len(ws); i++ {
		ok := true
		for j, w := range p {
			if ws[i+j] != w {
				ok = false
				break
			}
		}
		if ok {
			return len(p)
		}
	}
	return 0
}
