package app

import (
	"context"
	"net/url"
	"time"

	"switchboard/app/cache"
	"switchboard/backend"
)

// TakeTask takes a conversation waiting in one of the agent's queues: the
// router reserves it to them if they have room, else says why (the error's
// reason: no_capacity, task_taken, not_in_queue, task_ended).
func (a *App) TakeTask(taskID string) error {
	return a.online(func(ctx context.Context, s *session) error {
		return s.client.Do(ctx, "POST", "/api/tasks/"+url.PathEscape(taskID)+"/take", nil, nil)
	})
}

// AssignTask gives a waiting or offered task to a named agent (supervisors
// and admins; the engine refuses others).
func (a *App) AssignTask(taskID, workerID string) error {
	return a.online(func(ctx context.Context, s *session) error {
		return s.client.Do(ctx, "POST", "/api/tasks/"+url.PathEscape(taskID)+"/assign", map[string]string{"workerId": workerID}, nil)
	})
}

// MissedWindow is how far back the inbox lists missed offers.
const MissedWindow = 12 * time.Hour

// MissedOffer is an offer that expired before the agent answered it.
type MissedOffer struct {
	OfferedTask
	OfferedAt time.Time `json:"offeredAt"`
	ExpiredAt time.Time `json:"expiredAt"`
}

// MissedOffers lists the agent's offers that expired unanswered in the last
// twelve hours and were not dismissed, newest first.
func (a *App) MissedOffers() ([]MissedOffer, error) {
	s, err := a.current()
	if err != nil {
		return nil, a.toUI(err)
	}
	list, err := a.missedOffers(context.Background(), s)
	return list, a.toUI(err)
}

func (a *App) missedOffers(ctx context.Context, s *session) ([]MissedOffer, error) {
	out := []MissedOffer{}
	w, names, err := workAndQueues(ctx, s)
	if err != nil || w == nil {
		return out, err
	}
	missed, err := s.cache.MissedOffers(ctx, w.ID, time.Now().Add(-MissedWindow))
	if err != nil {
		return nil, err
	}
	for _, m := range missed {
		task, err := offered(ctx, s, m.ReservationID, m.TaskID, m.ConversationID, m.Channel, names[m.QueueID])
		if err != nil {
			return nil, err
		}
		out = append(out, MissedOffer{OfferedTask: task, OfferedAt: m.OfferedAt, ExpiredAt: m.ExpiredAt})
	}
	return out, nil
}

// DismissMissedOffer hides a missed offer from the inbox.
func (a *App) DismissMissedOffer(reservationID string) error {
	s, err := a.current()
	if err != nil {
		return a.toUI(err)
	}
	return a.toUI(s.cache.DismissMissedOffer(context.Background(), reservationID))
}

// announceMissed raises a "missed" event for every missed offer the agent
// has not been told about yet, and an OS notification for recent ones.
func (a *App) announceMissed(ctx context.Context, s *session) {
	list, err := a.missedOffers(ctx, s)
	if err != nil {
		a.log.Warn("read missed offers", "err", err)
		return
	}
	s.mu.Lock()
	var fresh []MissedOffer
	for _, m := range list {
		if key := "missed:" + m.ReservationID; !s.announced[key] {
			s.announced[key] = true
			fresh = append(fresh, m)
		}
	}
	s.mu.Unlock()
	for _, m := range fresh {
		a.emit("missed", map[string]MissedOffer{"offer": m})
		if time.Since(m.ExpiredAt) > 2*time.Minute {
			continue // an old one found on start: listed, not announced
		}
		if err := a.notify("Missed offer", m.ContactName+": the offer expired before it was answered."); err != nil {
			a.log.Debug("desktop notification failed", "err", err)
		}
	}
}

// HeldReplies lists replies written for an engine this computer no longer
// follows (its data was replaced or restored): they were not sent.
func (a *App) HeldReplies() ([]cache.HeldReply, error) {
	s, err := a.current()
	if err != nil {
		return nil, a.toUI(err)
	}
	list, err := s.cache.Held(context.Background())
	return list, a.toUI(err)
}

// DiscardHeldReply forgets a held reply once the agent has dealt with it.
func (a *App) DiscardHeldReply(clientID string) error {
	s, err := a.current()
	if err != nil {
		return a.toUI(err)
	}
	return a.toUI(s.cache.DiscardHeld(context.Background(), clientID))
}

// Typing tells the customer of a conversation that the agent is typing a
// reply (the web chat widget shows it). Offline it does nothing.
func (a *App) Typing(conversationID string) error {
	s, err := a.current()
	if err != nil {
		return a.toUI(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.client.Typing(ctx, conversationID); backend.ErrorCode(err) != backend.EUnavailable {
		return a.toUI(err)
	}
	return nil
}
