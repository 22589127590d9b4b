package app

import (
	"context"
	"fmt"

	"github.com/gen2brain/beeep"
)

// notifyOS shows a desktop notification through the operating system (the
// freedesktop Notifications service over D-Bus on Linux), so an offer is
// seen even when the window is in the background.
var notifyOS = func(title, body string) error { return beeep.Notify(title, body, "") }

// announceOffers raises an "offer" event and an OS notification for every
// offer the agent has not been told about yet.
func (a *App) announceOffers(ctx context.Context, s *session) {
	offers, err := a.offers(ctx, s)
	if err != nil {
		a.log.Warn("read offers", "err", err)
		return
	}
	s.mu.Lock()
	var fresh []Offer
	for _, o := range offers {
		if !s.announced[o.ReservationID] {
			s.announced[o.ReservationID] = true
			fresh = append(fresh, o)
		}
	}
	s.mu.Unlock()
	notify := a.settings.Get().Notifications
	for _, o := range fresh {
		a.emit("offer", map[string]Offer{"offer": o})
		if !notify {
			continue
		}
		title := fmt.Sprintf("New %s from %s", o.TaskChannel, o.ContactName)
		body := o.Preview
		if o.QueueName != "" {
			body = o.QueueName + ": " + body
		}
		if err := a.notify(title, body); err != nil {
			a.log.Debug("desktop notification failed", "err", err)
		}
	}
}

func (a *App) notify(title, body string) error {
	if a.notifier != nil {
		return a.notifier(title, body)
	}
	return notifyOS(title, body)
}
