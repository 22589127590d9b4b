package storetest

import (
	"context"
	"encoding/json"
	"testing"

	"switchboard/backend"
)

// testNewContactAsStored: the contact a new identity gets, as ResolveIdentity
// returns it and as its change-feed event carries it, is the contact as
// stored, whether it is a new customer's or a known number's.
func testNewContactAsStored(t *testing.T, h harness) {
	ctx := context.Background()
	db := h.open(t)
	from, _ := db.LastSeq(ctx)
	asJSON := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	check := func(id backend.Identity) *backend.Contact {
		t.Helper()
		got, err := db.ResolveIdentity(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		stored, err := db.FindContactByID(ctx, got.ID)
		if err != nil {
			t.Fatal(err)
		}
		if asJSON(got) != asJSON(stored) {
			t.Fatalf("returned %s\nstored   %s", asJSON(got), asJSON(stored))
		}
		evs, err := db.EventsSince(ctx, from, 100)
		if err != nil || len(evs) == 0 {
			t.Fatalf("events %v %v", evs, err)
		}
		last := evs[len(evs)-1]
		var carried backend.Contact
		if err := json.Unmarshal(last.Data, &carried); err != nil || last.Type != backend.EventContactUpserted || asJSON(&carried) != asJSON(stored) {
			t.Fatalf("event %s %s, want the stored contact %s (%v)", last.Type, last.Data, asJSON(stored), err)
		}
		from = last.Seq
		return got
	}
	sms := check(backend.Identity{Channel: "sms.twilio", ExternalID: "+15550001111", DisplayName: "Ann"})
	if len(sms.Identities) != 1 || sms.Phone == "" {
		t.Fatalf("new customer %+v", sms)
	}
	wa := check(backend.Identity{Channel: "whatsapp.cloud", ExternalID: "+15550001111", DisplayName: "Ann W"})
	if wa.ID != sms.ID || len(wa.Identities) != 2 {
		t.Fatalf("a known number on a new channel %+v, want contact %s with two identities", wa, sms.ID)
	}
	check(backend.Identity{Channel: "telegram", ExternalID: "4242"})
}
