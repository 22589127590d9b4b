package api

import (
	"context"
	"encoding/json"
	"time"

	"switchboard/backend"
)

// clientSet is a set of WebSocket clients.
type clientSet map[*wsClient]bool

// hubState is what Run owns: the clients, indexed by what they may read so
// an event is looked at only for the clients it may go to, and the log
// position broadcast so far.
type hubState struct {
	h          *Hub
	clients    clientSet
	privileged clientSet // supervisors and admins
	byUser     map[string]clientSet
	byWorker   map[string]clientSet
	byConv     map[string]clientSet
	byContact  map[string]clientSet
	last       int64
	// owed clients were sent nothing of the latest events; they get the
	// position after positionDelay.
	owed           clientSet
	positionsArmed bool
}

func newHubState(h *Hub) *hubState {
	return &hubState{h: h, clients: clientSet{}, privileged: clientSet{}, byUser: map[string]clientSet{},
		byWorker: map[string]clientSet{}, byConv: map[string]clientSet{}, byContact: map[string]clientSet{}, owed: clientSet{}}
}

// index puts c in (or takes it out of) the set m[key].
func index(m map[string]clientSet, key string, c *wsClient, in bool) {
	if key == "" {
		return
	}
	set := m[key]
	if in {
		if set == nil {
			set = clientSet{}
			m[key] = set
		}
		set[c] = true
	} else if set != nil {
		delete(set, c)
		if len(set) == 0 {
			delete(m, key)
		}
	}
}

// add indexes a client that caught up.
func (st *hubState) add(c *wsClient) {
	st.clients[c] = true
	index(st.byUser, c.acc.user.ID, c, true)
	index(st.byWorker, c.acc.workerID, c, true)
	if privileged(&c.acc.user) {
		st.privileged[c] = true
		// A supervisor who (re)connects gets the live view now rather
		// than at the next change.
		st.nudgeLive()
		return
	}
	for conv := range c.acc.convs {
		index(st.byConv, conv, c, true)
	}
	for contact := range c.acc.contacts {
		index(st.byContact, contact, c, true)
	}
}

// remove forgets a client and closes its send channel.
func (st *hubState) remove(c *wsClient) {
	if !st.clients[c] {
		return
	}
	delete(st.clients, c)
	delete(st.privileged, c)
	delete(st.owed, c)
	index(st.byUser, c.acc.user.ID, c, false)
	index(st.byWorker, c.acc.workerID, c, false)
	for conv := range c.acc.convs {
		index(st.byConv, conv, c, false)
	}
	for contact := range c.acc.contacts {
		index(st.byContact, contact, c, false)
	}
	close(c.send)
}

// end closes a client's connection with a close code.
func (st *hubState) end(c *wsClient, code int, text string) {
	if st.clients[c] {
		c.closeCode, c.closeText = code, text
		st.remove(c)
	}
}

func (st *hubState) dropAll() {
	for c := range st.clients {
		st.remove(c)
	}
}

// setConv lets c read conv (of contact), keeping the indexes.
func (st *hubState) setConv(c *wsClient, conv, contact string) {
	old, had := c.acc.convs[conv]
	c.acc.add(conv, contact)
	index(st.byConv, conv, c, true)
	if had && old != contact {
		index(st.byContact, old, c, c.acc.contacts[old] > 0)
	}
	index(st.byContact, contact, c, true)
}

// dropConv takes conv away from c.
func (st *hubState) dropConv(c *wsClient, conv string) {
	contact, had := c.acc.convs[conv]
	if !had {
		return
	}
	c.acc.remove(conv)
	index(st.byConv, conv, c, false)
	index(st.byContact, contact, c, c.acc.contacts[contact] > 0)
}

// replay sends a registering client the events between its cursor and the
// broadcast position, judged like a sync page, and leaves it with its
// access as of then. It reports false when the client is too far behind
// to catch up here.
func (st *hubState) replay(ctx context.Context, c *wsClient) bool {
	u := c.acc.user
	workerID := st.h.workerOf(ctx, u.ID)
	if c.cursor >= st.last {
		acc, err := loadAccess(ctx, st.h.store, u, workerID)
		if err != nil {
			st.h.log.Error("hub: load access", "err", err)
			return false
		}
		c.acc, c.cursor = acc, st.last
		return st.stillSignedIn(ctx, c)
	}
	for c.cursor < st.last {
		events, acc, next, _, err := readPage(ctx, st.h.store, u, workerID, c.cursor, st.last, framePage)
		if err != nil {
			st.h.log.Error("hub: replay", "err", err)
			return false
		}
		select {
		case c.send <- encodeFrame(mustEncode(events), next):
			c.acc, c.cursor = acc, next
			c.sent.Store(next)
		default:
			return false
		}
	}
	return st.stillSignedIn(ctx, c)
}

// stillSignedIn checks, once a client caught up, that its session was not
// ended between its upgrade and now (a revocation the hub broadcast before
// the client joined).
func (st *hubState) stillSignedIn(ctx context.Context, c *wsClient) bool {
	invalid, err := st.h.store.CheckSessions(ctx, []string{c.session})
	if err != nil {
		st.h.log.Error("hub: check session", "err", err)
		return false
	}
	if len(invalid) > 0 {
		c.closeCode, c.closeText = CloseSessionEnded, "session ended"
		return false
	}
	return true
}

// follow broadcasts every event committed since the last broadcast.
func (st *hubState) follow(ctx context.Context) {
	for {
		events, err := st.h.store.EventsSince(ctx, st.last, framePage)
		if err != nil {
			st.h.log.Error("hub: read events", "err", err)
			return
		}
		if len(events) == 0 {
			return
		}
		st.broadcast(ctx, events)
	}
}

// batch collects, per client, the encoded events of one broadcast.
type batch struct {
	out     map[*wsClient][]json.RawMessage
	encoded map[int]json.RawMessage
}

func (b *batch) push(c *wsClient, e json.RawMessage) { b.out[c] = append(b.out[c], e) }

// broadcast hands one page of the log to the clients allowed to see each
// event, applying access and session events on the way.
func (st *hubState) broadcast(ctx context.Context, events []backend.Event) {
	b := &batch{out: map[*wsClient][]json.RawMessage{}, encoded: map[int]json.RawMessage{}}
	snaps := map[string]*grantedConv{}
	for i := range events {
		e := &events[i]
		switch e.Type {
		case backend.EventSessionRevoked:
			st.revokeSessions(e)
		case backend.EventAccessChanged:
			st.applyAccess(ctx, e, b, snaps)
		default:
			sc := classify(e)
			for c := range st.candidates(sc) {
				if c.acc.canRead(sc) {
					b.push(c, b.encode(i, e))
				}
			}
			st.follows(e, sc)
		}
	}
	st.last = events[len(events)-1].Seq
	st.signalChanged(events)
	for c := range st.clients {
		if out := b.out[c]; len(out) > 0 || st.last-c.cursor >= positionEvery {
			st.sendFrame(c, out)
		} else if c.cursor < st.last {
			st.owePosition(c)
		}
	}
}

// sendFrame sends c events and the broadcast position; a client too slow
// to take it is dropped (it resyncs from its cursor).
func (st *hubState) sendFrame(c *wsClient, out []json.RawMessage) {
	select {
	case c.send <- encodeFrame(out, st.last):
		c.cursor = st.last
		c.sent.Store(st.last)
		delete(st.owed, c)
	default:
		st.remove(c)
	}
}

// owePosition remembers that c was sent nothing of the latest events: it
// learns the position a moment later, in one small frame for many
// broadcasts.
func (st *hubState) owePosition(c *wsClient) {
	st.owed[c] = true
	if !st.positionsArmed {
		st.positionsArmed = true
		time.AfterFunc(positionDelay, func() {
			select {
			case st.h.positions <- struct{}{}:
			case <-st.h.stopped:
			}
		})
	}
}

// sendPositions sends every client still owed one its position.
func (st *hubState) sendPositions() {
	st.positionsArmed = false
	for c := range st.owed {
		if st.clients[c] && c.cursor < st.last {
			st.sendFrame(c, nil)
		}
		delete(st.owed, c)
	}
}

func (b *batch) encode(i int, e *backend.Event) json.RawMessage {
	if enc, ok := b.encoded[i]; ok {
		return enc
	}
	enc, err := json.Marshal(e)
	if err != nil {
		panic("marshal event: " + err.Error())
	}
	b.encoded[i] = enc
	return enc
}

// candidates returns the clients that might see an event of scope sc;
// canRead decides.
func (st *hubState) candidates(sc eventScope) func(yield func(*wsClient) bool) {
	return func(yield func(*wsClient) bool) {
		var narrow clientSet
		switch sc.kind {
		case scopeInternal:
			return
		case scopeEveryone:
			for c := range st.clients {
				if !yield(c) {
					return
				}
			}
			return
		case scopeSupervisors:
			narrow = st.byUser[sc.id]
		case scopeConversation:
			narrow = st.byConv[sc.id]
		case scopeContact:
			narrow = st.byContact[sc.id]
		case scopeWorker:
			narrow = st.byWorker[sc.id]
		}
		for c := range st.privileged {
			if !yield(c) {
				return
			}
		}
		for c := range narrow {
			if !st.privileged[c] && !yield(c) {
				return
			}
		}
	}
}

// follows keeps the clients' access in step with entity events: a
// conversation moving to another contact (a merge), a worker now signed in
// as one of the users.
func (st *hubState) follows(e *backend.Event, sc eventScope) {
	switch e.Type {
	case backend.EventConversationUpserted:
		for c := range st.byConv[sc.id] {
			st.setConv(c, sc.id, sc.contact)
		}
	case backend.EventWorkerUpserted:
		var w struct {
			UserID string `json:"userId"`
		}
		json.Unmarshal(e.Data, &w)
		for c := range st.byUser[w.UserID] {
			index(st.byWorker, c.acc.workerID, c, false)
			c.acc.workerID = e.EntityID
			index(st.byWorker, c.acc.workerID, c, true)
		}
	}
}

// grantedConv is a conversation brought to the users who gained it, read
// once per broadcast.
type grantedConv struct {
	events  []json.RawMessage
	contact string
}

// applyAccess brings granted conversations, with their history, to the
// users' clients and tells them about lost ones.
func (st *hubState) applyAccess(ctx context.Context, e *backend.Event, b *batch, snaps map[string]*grantedConv) {
	ch := accessChange(e)
	for _, g := range ch.Granted {
		for c := range st.byUser[g.UserID] {
			if st.privileged[c] {
				continue
			}
			snap := snaps[g.ConversationID]
			if snap == nil {
				events, contact, err := snapshot(ctx, st.h.store, g.ConversationID, e)
				if err != nil {
					st.h.log.Error("hub: conversation snapshot", "conversation", g.ConversationID, "err", err)
					st.end(c, 1011, "resync") // it catches up over sync
					continue
				}
				snap = &grantedConv{events: mustEncode(events), contact: contact}
				snaps[g.ConversationID] = snap
			}
			st.setConv(c, g.ConversationID, snap.contact)
			b.out[c] = append(b.out[c], snap.events...)
		}
	}
	for _, g := range ch.Revoked {
		for c := range st.byUser[g.UserID] {
			if st.privileged[c] {
				continue
			}
			st.dropConv(c, g.ConversationID)
			b.push(c, mustEncode([]backend.Event{removed(g.ConversationID, e)})[0])
		}
	}
}

// revokeSessions closes the sockets of the sessions a session.revoked
// event names.
func (st *hubState) revokeSessions(e *backend.Event) {
	var rev backend.SessionRevocation
	if json.Unmarshal(e.Data, &rev) != nil {
		return
	}
	for c := range st.byUser[rev.UserID] {
		if rev.Covers(c.acc.user.ID, c.session) {
			st.h.log.Info("live feed closed", "user", rev.UserID, "reason", rev.Reason)
			st.end(c, CloseSessionEnded, "session ended: "+rev.Reason)
		}
	}
}

// checkSessions renews the sessions of open sockets and closes those whose
// session expired or ended without an event reaching this engine.
func (st *hubState) checkSessions(ctx context.Context) {
	bySession := map[string][]*wsClient{}
	var ids []string
	for c := range st.clients {
		if bySession[c.session] == nil {
			ids = append(ids, c.session)
		}
		bySession[c.session] = append(bySession[c.session], c)
	}
	if len(ids) == 0 {
		return
	}
	invalid, err := st.h.store.CheckSessions(ctx, ids)
	if err != nil {
		st.h.log.Error("hub: check sessions", "err", err)
		return
	}
	for _, id := range invalid {
		for _, c := range bySession[id] {
			st.end(c, CloseSessionEnded, "session ended: expired")
		}
	}
}

// sendDirect queues a frame for every connection of one user (voice
// signaling); a client too slow to take it is dropped and resyncs from its
// cursor.
func (st *hubState) sendDirect(d directFrame) {
	set := st.byUser[d.userID]
	if d.event != "" {
		set = clientSet{}
		for c := range st.clients {
			if c.acc.canSee(&backend.Event{Type: d.event}) {
				set[c] = true
			}
		}
	}
	for c := range set {
		select {
		case c.send <- d.frame:
		default:
			st.remove(c)
		}
	}
}

// greet sends a client that just joined the frames its user should have
// had already: a call rung while this connection was not yet open (the
// desktop's feed socket may open first and take the ring) still rings it.
// Only the user's own calls: the same frames SendTo gave their other
// connections.
func (st *hubState) greet(c *wsClient) {
	if c.greet == nil {
		return
	}
	for _, f := range c.greet(c.user) {
		select {
		case c.send <- f:
		default:
			st.remove(c)
			return
		}
	}
}

// sendScoped sends a frame that is not in the change feed to the clients
// who may read its conversation; a client whose buffer is full misses it
// (there is nothing to catch up on).
func (st *hubState) sendScoped(f scopedFrame) {
	sc := eventScope{kind: scopeConversation, id: f.conversationID}
	for c := range st.candidates(sc) {
		if !c.acc.canRead(sc) {
			continue
		}
		select {
		case c.send <- f.frame:
		default:
		}
	}
}
