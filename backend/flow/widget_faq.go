package flow

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"switchboard/backend"
)

// FAQ bot events.
const (
	EventAnswered = "answered"
	EventHandover = "handover"
)

// DefaultMaxMisses is how many questions in a row the FAQ bot may fail to
// answer before it hands over.
const DefaultMaxMisses = 2

// FAQEntry is one answer of the FAQ bot and the questions it answers:
// phrases matched as whole words in any case, or a regular expression.
type FAQEntry struct {
	Patterns []string `json:"patterns,omitempty"`
	Regex    string   `json:"regex,omitempty"`
	Answer   string   `json:"answer"`
}

// FAQProperties configure a faq-bot widget. It answers the input with the
// entry whose patterns match it best (answered); otherwise it sends
// Fallback (noMatch), and after MaxMisses misses in a row it takes
// handover instead, so a flow can send the customer to an agent.
type FAQProperties struct {
	Input     string     `json:"input,omitempty"` // default {{message.body}}
	Entries   []FAQEntry `json:"entries"`
	Fallback  string     `json:"fallback,omitempty"`
	MaxMisses int        `json:"maxMisses,omitempty"`
}

type faqBot struct {
	input     *Template
	entries   []faqEntry
	fallback  *Template
	maxMisses int
}

type faqEntry struct {
	phrases [][]string
	re      *regexp.Regexp
	answer  *Template
}

func compileFAQ(w *backend.FlowWidget) (Widget, error) {
	var p FAQProperties
	if err := DecodeProperties(w, &p); err != nil {
		return nil, err
	}
	if p.Input == "" {
		p.Input = "{{message.body}}"
	}
	f := &faqBot{maxMisses: p.MaxMisses}
	if f.maxMisses == 0 {
		f.maxMisses = DefaultMaxMisses
	} else if f.maxMisses < 0 {
		return nil, errors.New("maxMisses is negative")
	}
	var err error
	if f.input, err = ParseTemplate(p.Input); err != nil {
		return nil, err
	}
	if p.Fallback != "" {
		if f.fallback, err = ParseTemplate(p.Fallback); err != nil {
			return nil, err
		}
	}
	if len(p.Entries) == 0 {
		return nil, errors.New("an FAQ bot needs at least one entry")
	}
	for i, e := range p.Entries {
		fe := faqEntry{}
		if strings.TrimSpace(e.Answer) == "" {
			return nil, fmt.Errorf("entry %d has no answer", i+1)
		}
		if fe.answer, err = ParseTemplate(e.Answer); err != nil {
			return nil, err
		}
		for _, pat := range e.Patterns {
			if ws := words(pat); len(ws) > 0 {
				fe.phrases = append(fe.phrases, ws)
			}
		}
		if e.Regex != "" {
			if fe.re, err = regexp.Compile(e.Regex); err != nil {
				return nil, fmt.Errorf("entry %d: bad regex %q: %v", i+1, e.Regex, err)
			}
		}
		if len(fe.phrases) == 0 && fe.re == nil {
			return nil, fmt.Errorf("entry %d has no pattern", i+1)
		}
		f.entries = append(f.entries, fe)
	}
	return f, nil
}

func (*faqBot) Events() []string { return []string{EventAnswered, EventNoMatch, EventHandover} }

func (f *faqBot) Run(ctx context.Context, s *Step) (Outcome, error) {
	text := f.input.Render(s)
	if e := f.best(text); e != nil {
		s.SetOutput("misses", 0)
		answer := e.answer.Render(s)
		s.SetOutput("answer", answer)
		if err := s.Send(ctx, answer); err != nil {
			s.Note("send failed: %v", err)
			s.SetOutput("error", err.Error())
		}
		return Outcome{Event: EventAnswered}, nil
	}
	misses := 1
	if n, ok := s.Output("misses").(float64); ok { // JSON numbers after a reload
		misses += int(n)
	} else if n, ok := s.Output("misses").(int); ok {
		misses += n
	}
	s.SetOutput("misses", misses)
	s.Note("no answer (%d of %d)", misses, f.maxMisses)
	if misses >= f.maxMisses {
		s.SetOutput("misses", 0)
		return Outcome{Event: EventHandover}, nil
	}
	if f.fallback != nil {
		if err := s.Send(ctx, f.fallback.Render(s)); err != nil {
			s.Note("send failed: %v", err)
		}
	}
	return Outcome{Event: EventNoMatch}, nil
}

// best returns the entry whose patterns cover the most words of text (the
// first on a tie; a regex match counts as one word), or nil.
func (f *faqBot) best(text string) *faqEntry {
	ws := words(text)
	var best *faqEntry
	bestScore := 0
	for i := range f.entries {
		e := &f.entries[i]
		score := 0
		for _, p := range e.phrases {
			score += phraseScore(ws, p)
		}
		if e.re != nil && e.re.MatchString(text) {
			score++
		}
		if score > bestScore {
			best, bestScore = e, score
		}
	}
	return best
}
