package api

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"switchboard/backend"
)

// Metric is one sample of the engine's /metrics endpoint, in the
// Prometheus text format: a gauge (a value now) or a counter (a total
// since the engine started).
type Metric struct {
	// Name is the metric's name, such as switchboard_stage_backlog; Help
	// says what it measures and Type is "gauge" or "counter".
	Name, Help, Type string
	// Labels tell the samples of one name apart, such as {stage="outbox"}.
	Labels map[string]string
	Value  float64
}

// MetricsSource returns the engine's metrics at the time of a scrape.
type MetricsSource func(ctx context.Context) ([]Metric, error)

// SetMetrics adds a source of /metrics samples (the engine adds the
// stages' backlog and lag and the store writer's counters).
func (s *Server) SetMetrics(src MetricsSource) { s.metrics = append(s.metrics, src) }

// MetricsAccess lets admins read the engine's metrics, and a scraper on
// the engine's own machine that sends no token: a loopback connection
// that no proxy forwarded (a request with Forwarded or X-Forwarded-For
// came through one and is judged by its token).
var MetricsAccess = Access{Name: "admin, or loopback without a token", Role: backend.RoleAdmin, Local: true}

// localUnsigned reports whether r came straight from this machine without
// a token.
func localUnsigned(r *http.Request) bool {
	if r.Header.Get("Authorization") != "" || r.Header.Get("Forwarded") != "" || r.Header.Get("X-Forwarded-For") != "" {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// handleMetrics writes every source's samples in the Prometheus text
// exposition format (version 0.0.4), grouped by name.
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	var all []Metric
	for _, src := range s.metrics {
		ms, err := src(r.Context())
		if err != nil {
			Error(w, r, s.Logger, fmt.Errorf("metrics: %w", err))
			return
		}
		all = append(all, ms...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	bw := bufio.NewWriter(w)
	for i, m := range all {
		if i == 0 || all[i-1].Name != m.Name {
			fmt.Fprintf(bw, "# HELP %s %s\n# TYPE %s %s\n", m.Name, escapeHelp(m.Help), m.Name, m.Type)
		}
		bw.WriteString(m.Name)
		writeLabels(bw, m.Labels)
		bw.WriteByte(' ')
		bw.WriteString(formatValue(m.Value))
		bw.WriteByte('\n')
	}
	bw.Flush()
}

// writeLabels writes {k="v",…} in the labels' name order.
func writeLabels(w *bufio.Writer, labels map[string]string) {
	if len(labels) == 0 {
		return
	}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	w.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			w.WriteByte(',')
		}
		fmt.Fprintf(w, "%s=\"%s\"", k, labelEscaper.Replace(labels[k]))
	}
	w.WriteByte('}')
}

// labelEscaper escapes a label value as the text format asks.
var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func escapeHelp(s string) string { return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s) }

func formatValue(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
