package app

import (
	"context"

	"switchboard/app/cache"
)

// TrayState is what the system tray shows: the signed-in agent's activity,
// their unread messages and offers, and the connection. It carries only the
// agent's own work.
type TrayState struct {
	SignedIn   bool             `json:"signedIn"`
	Activity   string           `json:"activity"`
	Activities []ActivityOption `json:"activities"`
	// Unread counts unread messages in conversations assigned to the agent.
	Unread int `json:"unread"`
	// Offers counts tasks offered to the agent and not yet answered.
	Offers     int    `json:"offers"`
	Connection string `json:"connection"`
	// Language is the UI language setting ("" follows the system).
	Language string `json:"language"`
}

// refreshTray recomputes the tray's state from the cache and hands it to
// the tray, when there is one.
func (a *App) refreshTray(ctx context.Context) {
	_, show := a.hooks()
	if show == nil {
		return
	}
	lang := a.settings.Get().Language
	s, err := a.current()
	if err != nil {
		show(TrayState{Connection: cache.StateSignedOut, Language: lang})
		return
	}
	st, err := a.trayState(ctx, s)
	if err != nil {
		a.log.Warn("tray state", "err", err)
		return
	}
	st.Language = lang
	show(st)
}

func (a *App) trayState(ctx context.Context, s *session) (TrayState, error) {
	st := TrayState{SignedIn: true, Connection: s.syncer.State()}
	agent, err := a.agentState(ctx, s)
	if err != nil {
		return st, err
	}
	st.Activities = agent.Activities
	if agent.Worker == nil {
		return st, nil // supervisors and admins without a worker: no queue work
	}
	st.Activity = agent.Worker.Activity
	mine, err := s.cache.Conversations(ctx, cache.Filter{Scope: cache.ScopeMine, WorkerID: agent.Worker.ID})
	if err != nil {
		return st, err
	}
	for _, c := range mine {
		st.Unread += c.Unread
	}
	offers, err := s.cache.PendingReservations(ctx, agent.Worker.ID)
	st.Offers = len(offers)
	return st, err
}
