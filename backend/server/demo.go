package server

import (
	"context"
	"fmt"
	"sort"
	"time"

	"switchboard/backend"
	"switchboard/backend/routing"
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
	for _, c := range []backend.CannedResponse{
		{Shortcut: "hello", Title: "Greeting", Text: "Hi {{contact.firstName}}, this is {{agent.name}}. How can I help you today?"},
		{Shortcut: "order", Title: "Order lookup", Text: "Thanks {{contact.firstName}}! Could you send me your order number so I can look it up?"},
		{Shortcut: "bye", Title: "Closing", Text: "Glad I could help, {{contact.firstName}}. Have a great day!"},
	} {
		if err := db.PutCannedResponse(ctx, &c); err != nil {
			return err
		}
	}
	// The website chat needs no outside account, so the demo runs it for
	// real; its configuration is sealed, so an engine started without a
	// secret key (which warns about it) seeds the rest without it.
	if db.Secrets != nil {
		if err := db.PutChannelInstance(ctx, &backend.ChannelInstance{Connector: "webchat", Instance: "website", Enabled: true,
			Config: []byte(`{"allowedOrigins":["*"],"title":"Chat with us","greeting":"Hi! How can we help?"}`)}); err != nil {
			return err
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

// SeedDemoRouting sets up the demo's routing once: a worker for each demo
// agent, a Support and a Billing queue, a workflow that sends billing work
// to Billing first, assigned tasks for the demo conversations and one
// waiting web chat, offered to an agent. It does nothing when any worker
// exists.
func SeedDemoRouting(ctx context.Context, db *sqlite.DB, r *routing.Engine) error {
	if ws, err := r.Workers(ctx); err != nil || len(ws) > 0 {
		return err
	}
	users, err := db.FindUsers(ctx)
	if err != nil {
		return err
	}
	skills := map[string][]any{"ana@example.com": {"support", "billing"}, "ben@example.com": {"support"}}
	langs := map[string][]any{"ana@example.com": {"en", "es"}, "ben@example.com": {"en"}}
	for _, u := range users {
		if u.Role != backend.RoleAgent {
			continue
		}
		if _, err := r.UpsertWorker(ctx, &backend.Worker{
			ID: backend.NewID("wk"), UserID: u.ID, Name: u.Name, Activity: backend.ActivityAvailable,
			Attributes: map[string]any{"skills": skills[u.Email], "languages": langs[u.Email]},
		}); err != nil {
			return fmt.Errorf("demo worker %s: %w", u.Email, err)
		}
	}
	support, err := r.UpsertQueue(ctx, &backend.Queue{ID: "q_support", Name: "Support"}) // also a default
	if err != nil {
		return err
	}
	billing, err := r.UpsertQueue(ctx, &backend.Queue{ID: "q_billing", Name: "Billing", TargetWorkers: `"billing" in worker.skills`})
	if err != nil {
		return err
	}
	if _, err := r.UpsertWorkflow(ctx, &backend.Workflow{
		ID: "wf_default", Name: "Default",
		Filters: []backend.WorkflowFilter{{Name: "billing", Expression: `task.department == "billing"`,
			Targets: []backend.WorkflowTarget{{QueueID: billing.ID, TimeoutSeconds: 120}, {QueueID: support.ID}}}},
		Default: []backend.WorkflowTarget{{QueueID: support.ID}},
	}); err != nil {
		return err
	}
	// Every demo conversation but the web chat is already being worked on;
	// the web chat visitor waits, so a signed-in agent sees a live offer.
	convs, err := db.FindConversations(ctx, backend.ConversationFilter{})
	if err != nil {
		return err
	}
	sort.Slice(convs, func(i, j int) bool { return convs[i].Channel == "webchat" }) // the offer comes last
	for i := len(convs) - 1; i >= 0; i-- {
		c := convs[i]
		attrs := map[string]any{"language": "en", "department": "support", "customer": c.ContactID}
		t, err := r.CreateTask(ctx, backend.TaskInput{Channel: TaskChannel(c.Channel), Attributes: attrs, ConversationID: c.ID})
		if err != nil {
			return err
		}
		if c.Channel == "webchat" {
			continue
		}
		if err := acceptDemoOffer(ctx, r, t.ID); err != nil {
			return err
		}
	}
	return nil
}

// acceptDemoOffer accepts the pending offer of a task, whoever got it.
func acceptDemoOffer(ctx context.Context, r *routing.Engine, taskID string) error {
	res, err := r.Reservations(ctx, "")
	if err != nil {
		return err
	}
	for _, rv := range res {
		if rv.TaskID == taskID && rv.State == backend.ReservationPending {
			_, err := r.AcceptReservation(ctx, rv.ID)
			return err
		}
	}
	return nil // nobody had room: the task waits in its queue
}

// TaskChannel maps a platform connector to the kind of work it makes for
// the router: voice, email or chat.
func TaskChannel(connector string) string {
	switch {
	case connector == "email":
		return backend.ChannelEmail
	case connector == "voice" || len(connector) > 6 && connector[:6] == "voice.":
		return backend.ChannelVoice
	}
	return backend.ChannelChat
}
