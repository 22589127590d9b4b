package email

import (
	"strings"

	"golang.org/x/net/html"
)

// HTMLToText reduces an HTML mail body to plain text: the safest sanitizer
// is one whose output cannot run or load anything. Scripts, styles and
// head content are dropped, block elements become line breaks, links keep
// their http(s)/mailto target in brackets, and entities are decoded.
func HTMLToText(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip := 0
	var href string
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return tidy(b.String())
		case html.TextToken:
			if skip == 0 {
				t := string(z.Text())
				words := strings.Join(strings.Fields(t), " ")
				if words != "" && t[0] <= ' ' {
					b.WriteByte(' ')
				}
				b.WriteString(words)
				if words != "" && t[len(t)-1] <= ' ' {
					b.WriteByte(' ')
				}
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			switch tag {
			case "script", "style", "head", "title", "template", "noscript":
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
				continue
			}
			if skip > 0 {
				continue
			}
			switch tag {
			case "br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "ul", "ol", "hr":
				b.WriteByte('\n')
				if tag == "li" && tt == html.StartTagToken {
					b.WriteString("• ")
				}
			case "a":
				if tt == html.StartTagToken {
					href = ""
					for hasAttr {
						var k, v []byte
						k, v, hasAttr = z.TagAttr()
						if string(k) == "href" {
							href = string(v)
						}
					}
				} else if tt == html.EndTagToken {
					l := strings.ToLower(href)
					if strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "mailto:") {
						b.WriteString(" [" + strings.Join(strings.Fields(href), "") + "]")
					}
					href = ""
				}
			}
		}
	}
}

// tidy trims lines and collapses runs of blank lines.
func tidy(s string) string {
	lines := strings.Split(s, "\n")
	out := make([]string, 0, len(lines))
	blank := false
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" {
			if !blank && len(out) > 0 {
				out = append(out, "")
			}
			blank = true
			continue
		}
		blank = false
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}
