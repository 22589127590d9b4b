package app

import (
	"fmt"
	"strings"

	"switchboard/backend"
)

// QueueAlert is the "queueAlert" event: a queue on the supervisor's live
// view has just passed one of its thresholds.
type QueueAlert struct {
	QueueID string `json:"queueId"`
	Name    string `json:"name"`
	// Alert lists the thresholds passed: "longest wait", "waiting".
	Alert []string `json:"alert"`
}

// crossings returns the queues red in v that were not red in the view
// before it, and remembers v's red queues: a queue notifies once each
// time it crosses, not with every view while it stays red.
func (s *session) crossings(v *backend.LiveView) []QueueAlert {
	s.mu.Lock()
	defer s.mu.Unlock()
	red := map[string]bool{}
	var out []QueueAlert
	for _, q := range v.Queues {
		if len(q.Alert) == 0 {
			continue
		}
		red[q.QueueID] = true
		if !s.alerted[q.QueueID] {
			out = append(out, QueueAlert{QueueID: q.QueueID, Name: q.Name, Alert: q.Alert})
		}
	}
	s.alerted = red
	return out
}

// announceAlerts raises a "queueAlert" event and a desktop notification
// (the path offers take) for each queue that has just crossed a threshold.
// Live views reach supervisors and admins only, so agents never get one.
func (a *App) announceAlerts(s *session, v *backend.LiveView) {
	fresh := s.crossings(v)
	if len(fresh) == 0 {
		return
	}
	settings := a.settings.Get()
	words := alertWordsFor(trayLanguage(settings.Language))
	for _, q := range fresh {
		a.emit("queueAlert", q)
		if !settings.Notifications {
			continue
		}
		what := make([]string, len(q.Alert))
		for i, k := range q.Alert {
			what[i] = words.what[k]
		}
		if err := a.notify(fmt.Sprintf(words.title, q.Name), fmt.Sprintf(words.body, strings.Join(what, ", "))); err != nil {
			a.log.Debug("desktop notification failed", "err", err)
		}
	}
}

// alertWords are a queue alert's notification texts in one language (the
// in-app notice is translated by the frontend's catalogs).
type alertWords struct {
	title, body string
	what        map[string]string
}

var alertLanguages = map[string]alertWords{
	"en": {title: "Queue %s needs attention", body: "Past its threshold: %s",
		what: map[string]string{"longest wait": "longest wait", "waiting": "waiting tasks"}},
	"es": {title: "La cola %s necesita atención", body: "Pasó su umbral: %s",
		what: map[string]string{"longest wait": "espera más larga", "waiting": "tareas en espera"}},
}

// alertWordsFor returns the texts for a language tag such as "es_ES.UTF-8"
// (English unless Spanish).
func alertWordsFor(lang string) alertWords {
	if strings.HasPrefix(strings.ToLower(lang), "es") {
		return alertLanguages["es"]
	}
	return alertLanguages["en"]
}
