package server

import (
	"context"
	"fmt"
	"time"

	"switchboard/backend"
	"switchboard/backend/sqlite"
)

// DemoPassword is the password of every seeded demo account.
const DemoPassword = "switchboard"

// DemoUsers are the accounts SeedDemo creates.
var DemoUsers = []backend.User{
	{Name: "Alex Admin", Email: "admin@example.com", Role: backend.RoleAdmin},
	{Name: "Ana Agent", Email: "ana@example.com", Role: backend.RoleAgent},
	{Name: "Ben Agent", Email: "ben@example.com", Role: backend.RoleAgent},
}

type demoMessage struct {
	channel, instance, from, name, text, reply string
}

// demoMessages is a small living inbox: one customer on SMS and WhatsApp
// (one contact, two conversations), others on chat platforms and email.
var demoMessages = []demoMessage{
	{"sms.twilio", "support", "+14155550123", "Maria Lopez", "Hi, my order #4411 hasn't arrived yet. Can you check?", "Hi Maria, I'm looking into order #4411 now."},
	{"whatsapp.twilio", "support", "whatsapp:+14155550123", "Maria Lopez", "Following up here on WhatsApp: any news on #4411?", ""},
	{"telegram", "bot", "99812211", "Kenji Sato", "Do you ship to Japan?", "Yes! We ship to Japan in 5-7 business days."},
	{"messenger", "page", "7340012299", "Olivia Brown", "I'd like to change the delivery address for my order.", ""},
	{"line", "main", "U4af4980629f1a2b3c4d5e6f708192a3b", "Somchai", "Is the blue jacket available in size M?", ""},
	{"email", "support", "li.wei@example.net", "Li Wei", "Invoice request for March: please send a PDF copy.", "Attached is your invoice for March."},
	{"webchat", "site", "visitor-5521", "Website visitor", "I want to talk to a live agent about a refund.", ""},
}

// SeedDemo fills an empty store with demo users and conversations. It does
// nothing when any user exists, so it is safe on every start.
func SeedDemo(ctx context.Context, db *sqlite.DB) error {
	users, err := db.FindUsers(ctx)
	if err != nil {
		return err
	} else if len(users) > 0 {
		return nil
	}
	var agent backend.User
	for _, u := range DemoUsers {
		u := u
		if err := db.CreateUser(ctx, &u, DemoPassword); err != nil {
			return fmt.Errorf("create %s: %w", u.Email, err)
		}
		if u.Role == backend.RoleAgent && agent.ID == "" {
			agent = u
		}
	}
	base := db.Now().Add(-3 * time.Hour)
	for i, dm := range demoMessages {
		in, _, err := db.StoreInbound(ctx, &backend.InboundMessage{
			Channel: dm.channel, Instance: dm.instance, ExternalUserID: dm.from, DisplayName: dm.name,
			ExternalID: fmt.Sprintf("demo-%d", i), Text: dm.text, PlatformAt: base.Add(time.Duration(i) * 20 * time.Minute),
		})
		if err != nil {
			return err
		}
		if dm.reply == "" {
			continue
		}
		out, _, err := db.StoreOutbound(ctx, &backend.OutboundMessage{
			ConversationID: in.ConversationID, AuthorID: agent.ID, AuthorName: agent.Name, Text: dm.reply,
			ClientID: fmt.Sprintf("demo-reply-%d", i),
		})
		if err != nil {
			return err
		}
		if _, err := db.SetDeliveryStatus(ctx, out.ID, backend.DeliveryDelivered, ""); err != nil {
			return err
		}
	}
	return nil
}
