package server

import (
	"context"
	"fmt"
	"time"

	"switchboard/backend"
	"switchboard/backend/cluster"
	"switchboard/backend/postgres"
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
	ago                                        time.Duration // when the customer wrote
}

// demoMessages is a small living inbox: one customer on SMS and WhatsApp
// (one contact, two conversations), others on chat platforms and email,
// spread over the last three hours, and a web chat visitor who has just
// asked for a person.
var demoMessages = []demoMessage{
	{"sms.twilio", "support", "+14155550123", "Maria Lopez", "Hi, my order #4411 hasn't arrived yet. Can you check?", "Hi Maria, I'm looking into order #4411 now.", 3 * time.Hour},
	{"whatsapp.twilio", "support", "whatsapp:+14155550123", "Maria Lopez", "Following up here on WhatsApp: any news on #4411?", "", 150 * time.Minute},
	{"telegram", "bot", "99812211", "Kenji Sato", "Do you ship to Japan?", "Yes! We ship to Japan in 5-7 business days.", 2 * time.Hour},
	{"messenger", "page", "7340012299", "Olivia Brown", "I'd like to change the delivery address for my order.", "", 95 * time.Minute},
	{"line", "main", "U4af4980629f1a2b3c4d5e6f708192a3b", "Somchai", "Is the blue jacket available in size M?", "", 70 * time.Minute},
	{"email", "support", "li.wei@example.net", "Li Wei", "Invoice request for March: please send a PDF copy.", "Attached is your invoice for March.", 45 * time.Minute},
	{"webchat", "website", "v_demo5521", "Website visitor 5521", "I want to talk to a live agent about a refund.", "", 2 * time.Minute},
}

// demoAssignees says which demo agent works on which seeded conversation:
// Ben's three chats fill his chat capacity and Ana keeps room for one
// more, so when the web chat's flow hands the visitor to a person, the
// offer goes to her.
var demoAssignees = map[string]string{
	"sms.twilio": "ana@example.com", "telegram": "ana@example.com", "email": "ana@example.com",
	"whatsapp.twilio": "ben@example.com", "messenger": "ben@example.com", "line": "ben@example.com",
}

// SeedDemo fills an empty store with demo users and conversations. It does
// nothing when any user exists, so it is safe on every start. sealed says
// the store has a secret key to seal channel configurations with.
func SeedDemo(ctx context.Context, db Store, sealed bool) error {
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
	if sealed {
		if err := db.PutChannelInstance(ctx, &backend.ChannelInstance{Connector: "webchat", Instance: "website", Enabled: true,
			Config: []byte(`{"allowedOrigins":["*"],"title":"Chat with us","greeting":"Hi! How can we help?"}`)}); err != nil {
			return err
		}
	}
	// The conversations happened over the last three hours: each message
	// carries its platform time and each reply is stored as written a few
	// minutes later, so the inbox shows real times, not "now".
	clock := storeClock(db)
	if clock == nil {
		return fmt.Errorf("the demo cannot date messages in a %T", db)
	}
	now := *clock
	defer func() { *clock = now }()
	for i, dm := range demoMessages {
		at := now().Add(-dm.ago)
		*clock = func() time.Time { return at.Add(2 * time.Second) }
		in, _, err := db.StoreInbound(ctx, &backend.InboundMessage{
			Channel: dm.channel, Instance: dm.instance, ExternalUserID: dm.from, DisplayName: dm.name,
			ExternalID: fmt.Sprintf("demo-%d", i), Text: dm.text, PlatformAt: at,
		})
		if err != nil {
			return err
		}
		if dm.reply == "" {
			continue
		}
		*clock = func() time.Time { return at.Add(4 * time.Minute) }
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
// waiting web chat, offered to Ana. It does nothing when any worker exists.
func SeedDemoRouting(ctx context.Context, db Store, r cluster.Routing) error {
	if ws, err := r.Workers(ctx); err != nil || len(ws) > 0 {
		return err
	}
	users, err := db.FindUsers(ctx)
	if err != nil {
		return err
	}
	skills := map[string][]any{"ana@example.com": {"support", "billing"}, "ben@example.com": {"support"}}
	langs := map[string][]any{"ana@example.com": {"en", "es"}, "ben@example.com": {"en"}}
	workers := map[string]string{} // email → worker id
	for _, u := range users {
		if u.Role != backend.RoleAgent {
			continue
		}
		w, err := r.UpsertWorker(ctx, &backend.Worker{
			ID: backend.NewID("wk"), UserID: u.ID, Name: u.Name, Activity: backend.ActivityBreak,
			Attributes: map[string]any{"skills": skills[u.Email], "languages": langs[u.Email]},
		})
		if err != nil {
			return fmt.Errorf("demo worker %s: %w", u.Email, err)
		}
		workers[u.Email] = w.ID
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
	// Every demo conversation but the web chat is already being worked on
	// (assigned while the agents are on a break, so nothing is offered in
	// between). The web chat runs through its flow once the engine is up,
	// which hands the visitor to a person: Ana, the one with room.
	convs, err := db.FindConversations(ctx, backend.ConversationFilter{})
	if err != nil {
		return err
	}
	for _, c := range convs {
		w := workers[demoAssignees[c.Channel]]
		if w == "" {
			continue
		}
		attrs := map[string]any{"language": "en", "department": "support", "customer": c.ContactID}
		t, err := r.CreateTask(ctx, backend.TaskInput{Channel: TaskChannel(c.Channel), Attributes: attrs, ConversationID: c.ID})
		if err != nil {
			return err
		}
		if _, err := r.AssignTask(ctx, t.ID, w); err != nil {
			return fmt.Errorf("demo task for %s: %w", c.Channel, err)
		}
	}
	for _, w := range workers {
		if _, err := r.SetWorkerActivity(ctx, w, backend.ActivityAvailable); err != nil {
			return err
		}
	}
	return nil
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

// storeClock returns the clock of the store, which the demo sets to date
// its conversations in the past (nil for a store it does not know).
func storeClock(db Store) *func() time.Time {
	switch db := db.(type) {
	case *sqlite.DB:
		return &db.Now
	case *postgres.DB:
		return &db.Now
	}
	return nil
}
