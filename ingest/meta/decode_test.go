package meta

import (
	"errors"
	"strings"
	"testing"

	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/ingest/ingesttest"
	"github.com/closedloop/closedloop/models"
)

// decode runs the collector on one hand-built body.
func decode(t *testing.T, body string) ([]models.Record, error) {
	t.Helper()
	var out []models.Record
	err := Collector{}.Decode(ingesttest.Env(t), ingest.Doc{Raw: []byte(body), Format: ingest.FormatJSON, Ref: "test:1"}, func(r models.Record) {
		out = append(out, r)
	})
	return out, err
}

// twoByTwo has 2 entries × 2 changes: `field` after and before `value`,
// a change without `field`, a template-status change in between, contacts
// after statuses, a numeric timestamp and error code, a "played" status
// and a "deleted" one that is dropped.
const twoByTwo = `{"object":"whatsapp_business_account","entry":[
 {"id":"A","changes":[
  {"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111","phone_number_id":"PNID1"},
    "statuses":[
     {"id":"wamid.S1","status":"sent","timestamp":"1700000000","recipient_id":"+44 7700 900001","pricing":{"billable":false,"pricing_model":"PMP","category":"utility"}},
     {"id":"wamid.S2","status":"played","timestamp":"1700000060","recipient_id":"447700900002"},
     {"id":"wamid.S3","status":"deleted","timestamp":"1700000061","recipient_id":"447700900002"}]},
   "field":"messages"},
  {"field":"message_template_status_update","value":{"event":"APPROVED","message_template_id":123,"message_template_name":"hello","message_template_language":"en_US","reason":null}}]},
 {"id":"B","changes":[
  {"value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"PNID2"},
    "messages":[
     {"from":"447700900001","id":"wamid.M1","timestamp":"1700000100","type":"text","text":{"body":"hi"}},
     {"from":"447700900001","id":"wamid.M2","timestamp":1700000101,"type":"location","location":{"latitude":1,"longitude":2}}]}},
  {"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"PNID2"},
    "statuses":[
     {"id":"wamid.S1","status":"delivered","timestamp":"1700000200","recipient_id":"447700900001"},
     {"id":"wamid.S4","status":"failed","timestamp":1700000300,"recipient_id":"447700900003","errors":[{"code":131026,"title":"Message undeliverable"}]}],
    "contacts":[{"wa_id":"447700900001","profile":{"name":"X"}}]}}]}]}`

func TestTwoEntriesTwoChangesMixedStatuses(t *testing.T) {
	recs, err := decode(t, twoByTwo)
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ table, id, status, kind, code, category, business string }
	var got []row
	for _, r := range recs {
		switch x := r.(type) {
		case *models.Message:
			got = append(got, row{"messages", x.MessageID, "", x.Kind, "", "", x.BusinessNumber})
		case *models.MessageStatus:
			got = append(got, row{"message_statuses", x.MessageID, x.Status, "", x.ErrorCode, x.PricingCategory, ""})
		}
	}
	want := []row{
		{"message_statuses", "wamid.S1", "sent", "", "", "utility", ""},
		{"message_statuses", "wamid.S2", "read", "", "", "", ""}, // played → read
		{"messages", "wamid.M1", "", "text", "", "", "PNID2"},
		{"messages", "wamid.M2", "", "other", "", "", "PNID2"}, // location
		{"message_statuses", "wamid.S1", "delivered", "", "", "", ""},
		{"message_statuses", "wamid.S4", "failed", "", "131026", "", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d records %v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("record %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	sent := recs[0].(*models.MessageStatus)
	if sent.Billable == nil || *sent.Billable {
		t.Errorf("billable false was not kept: %v", sent.Billable)
	}
	if recs[1].(*models.MessageStatus).Billable != nil {
		t.Error("billable must be nil when pricing is absent")
	}
	// The same customer written two ways pseudonymises the same.
	m1 := recs[2].(*models.Message)
	if sent.CustomerID != m1.CustomerID || !strings.HasPrefix(m1.CustomerID, "c_") {
		t.Errorf("customer ids do not join: %q vs %q", sent.CustomerID, m1.CustomerID)
	}
	if want := "2023-11-14T22:15:01Z"; recs[3].(*models.Message).TS.Format("2006-01-02T15:04:05Z07:00") != want {
		t.Errorf("numeric timestamp read as %v, want %s", recs[3].(*models.Message).TS, want)
	}
}

// Retries and repeated statuses produce the same event ids, so the store
// keeps one row; different statuses of one message stay distinct.
func TestEventIDsDedupeRetries(t *testing.T) {
	a, err := decode(t, twoByTwo)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := decode(t, twoByTwo)
	for i := range a {
		if a[i].Base().EventID != b[i].Base().EventID {
			t.Errorf("record %d: event id not stable", i)
		}
	}
	if a[0].Base().EventID == a[4].Base().EventID {
		t.Error("sent and delivered of wamid.S1 share an event id")
	}
	if a[0].Base().EventID != models.HashID("meta", "status", "wamid.S1", "sent", "1700000000", "") {
		t.Error("status event id is not HashID(meta, status, id, status, ts, code)")
	}
	if a[2].Base().EventID != models.HashID("meta", "message", "wamid.M1") {
		t.Error("message event id is not HashID(meta, message, wamid)")
	}
}

func TestSkips(t *testing.T) {
	cases := map[string]struct{ body, kind string }{
		"template status update only": {
			`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"value":{"event":"APPROVED","message_template_id":1},"field":"message_template_status_update"}]}]}`,
			"meta message_template_status_update",
		},
		"only an unknown status": {
			`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"statuses":[{"id":"wamid.X","status":"deleted","timestamp":"1700000000","recipient_id":"1"}]}}]}]}`,
			"meta status deleted",
		},
		"entry without changes": {
			`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[]}]}`,
			"meta empty",
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			recs, err := decode(t, c.body)
			if !errors.Is(err, ingest.ErrSkip) {
				t.Fatalf("want a skip, got %v (%d records)", err, len(recs))
			}
			if k := ingest.SkipKind(err); k != c.kind {
				t.Errorf("skip kind %q, want %q", k, c.kind)
			}
		})
	}
}

func TestRejectReasons(t *testing.T) {
	env := `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{}},{"field":"messages","value":%s}]}]}`
	cases := map[string]struct{ body, want string }{
		"other object":  {`{"object":"page","entry":[{"id":"1"}]}`, `object is "page"`},
		"no object":     {`{"messaging_product":"whatsapp","statuses":[]}`, `no "object"`},
		"no entry":      {`{"object":"whatsapp_business_account","entry":[]}`, "no entry"},
		"bad timestamp": {strings.Replace(env, "%s", `{"statuses":[{"id":"w","status":"read","timestamp":"yesterday"}]}`, 1), `entry[0].changes[1].value.statuses[0].timestamp: "yesterday" is not Unix seconds`},
		"ms timestamp":  {strings.Replace(env, "%s", `{"statuses":[{"id":"w","status":"read","timestamp":"1700000000000"}]}`, 1), "entry[0].changes[1].value.statuses[0].timestamp: timestamp 1700000000000 looks like milliseconds"},
		"bool timestamp": {strings.Replace(env, "%s", `{"messages":[{"id":"w","from":"1","timestamp":true,"type":"text"}]}`, 1),
			"entry[0].changes[1].value.messages[0].timestamp: expected Unix seconds, got a JSON boolean"},
		"missing id":      {strings.Replace(env, "%s", `{"messages":[{"from":"1","timestamp":"1700000000","type":"text"}]}`, 1), "entry[0].changes[1].value.messages[0].id: missing"},
		"missing from":    {strings.Replace(env, "%s", `{"messages":[{"id":"w","timestamp":"1700000000","type":"text"}]}`, 1), "entry[0].changes[1].value.messages[0].from: missing"},
		"missing status":  {strings.Replace(env, "%s", `{"statuses":[{"id":"w","timestamp":"1700000000"}]}`, 1), "entry[0].changes[1].value.statuses[0].status: missing"},
		"object id":       {strings.Replace(env, "%s", `{"statuses":[{"id":{},"status":"read","timestamp":"1700000000"}]}`, 1), "entry[0].changes[1].value.statuses[0].id: expected a string, got a JSON object"},
		"string billable": {strings.Replace(env, "%s", `{"statuses":[{"id":"w","status":"read","timestamp":"1","pricing":{"billable":"yes"}}]}`, 1), "entry[0].changes[1].value.statuses[0].pricing.billable: cannot read a JSON string"},
		"entry not array": {`{"object":"whatsapp_business_account","entry":{}}`, "entry: cannot read a JSON object"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := decode(t, c.body)
			if err == nil || errors.Is(err, ingest.ErrSkip) {
				t.Fatalf("want a reject, got %v", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("reason %q does not contain %q", err, c.want)
			}
		})
	}
}

func TestDetect(t *testing.T) {
	cases := map[string]bool{
		`{"object":"whatsapp_business_account","entry":[]}`:                                 true,
		`{"messaging_product":"whatsapp","metadata":{},"statuses":[]}`:                      true,
		`{"event":"opened","case_id":"c1","ts":"2026-01-01T00:00:00Z"}`:                     false,
		`{"event":"message_created","conversation":{"channel":"Channel::Whatsapp"},"id":1}`: false,
		`{"object":"page","entry":[{"messaging":[]}]}`:                                      false,
	}
	for body, want := range cases {
		if got := (Collector{}).Detect(ingest.Doc{Raw: []byte(body), Format: ingest.FormatJSON}); got != want {
			t.Errorf("Detect(%s) = %v, want %v", body, got, want)
		}
	}
	form := ingest.Doc{Raw: []byte("object=whatsapp_business_account"), Format: ingest.FormatForm}
	if (Collector{}).Detect(form) {
		t.Error("a form body must not be detected")
	}
}
