package canonical

import (
	"strings"
	"testing"
	"time"

	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/ingest/ingesttest"
	"github.com/closedloop/closedloop/models"
)

// decodeOne decodes a single line with the named collector.
func decodeOne(t *testing.T, source, raw string, csv bool) (models.Record, error) {
	t.Helper()
	var got models.Record
	err := collector(t, source).Decode(ingesttest.Env(t), ingest.Doc{Raw: []byte(raw), Ref: "t:1", CSV: csv}, func(r models.Record) { got = r })
	if err == nil && got == nil {
		t.Fatal("Decode returned no error and no record")
	}
	return got, err
}

func TestValues(t *testing.T) {
	const ts = `"ts":"2026-03-02T09:00:00Z"`
	tests := []struct {
		name    string
		source  string
		line    string
		check   func(t *testing.T, r models.Record)
		wantErr string
	}{
		{name: "attempt as JSON number", source: "writebacks",
			line:  `{"idempotency_key":"k1","attempt":2,"status":"success",` + ts + `}`,
			check: func(t *testing.T, r models.Record) { wantEq(t, r.(*models.Writeback).Attempt, 2) }},
		{name: "attempt as CSV text", source: "writebacks",
			line:  `{"idempotency_key":"k1","attempt":"3","status":"success",` + ts + `}`,
			check: func(t *testing.T, r models.Record) { wantEq(t, r.(*models.Writeback).Attempt, 3) }},
		{name: "attempt written as 2.0", source: "writebacks",
			line:  `{"idempotency_key":"k1","attempt":2.0,"status":"success",` + ts + `}`,
			check: func(t *testing.T, r models.Record) { wantEq(t, r.(*models.Writeback).Attempt, 2) }},
		{name: "attempt defaults to 1 and derives the writeback id", source: "writebacks",
			line: `{"idempotency_key":"ptp-case-1","status":"failed",` + ts + `}`,
			check: func(t *testing.T, r models.Record) {
				w := r.(*models.Writeback)
				wantEq(t, w.Attempt, 1)
				wantEq(t, w.WritebackID, "ptp-case-1#1")
			}},
		{name: "attempt zero", source: "writebacks",
			line:    `{"writeback_id":"w1","attempt":0,"status":"success",` + ts + `}`,
			wantErr: `writebacks: field "attempt": 0 is not a positive whole number (attempts count from 1)`},
		{name: "attempt not a number", source: "writebacks",
			line:    `{"writeback_id":"w1","attempt":"second","status":"success",` + ts + `}`,
			wantErr: `writebacks: field "attempt": "second" is not a whole number`},
		{name: "writeback without any id", source: "writebacks",
			line:    `{"case_id":"c1","status":"success",` + ts + `}`,
			wantErr: `writebacks: missing required field "writeback_id" (or "idempotency_key" to derive it from)`},
		{name: "manual true", source: "writebacks",
			line:  `{"writeback_id":"w1","status":"success","manual":true,` + ts + `}`,
			check: func(t *testing.T, r models.Record) { wantEq(t, r.(*models.Writeback).Manual, true) }},
		{name: "manual \"true\"", source: "writebacks",
			line:  `{"writeback_id":"w1","status":"success","manual":"TRUE",` + ts + `}`,
			check: func(t *testing.T, r models.Record) { wantEq(t, r.(*models.Writeback).Manual, true) }},
		{name: "manual \"1\"", source: "writebacks",
			line:  `{"writeback_id":"w1","status":"success","manual":"1",` + ts + `}`,
			check: func(t *testing.T, r models.Record) { wantEq(t, r.(*models.Writeback).Manual, true) }},
		{name: "manual \"false\"", source: "writebacks",
			line:  `{"writeback_id":"w1","status":"success","manual":"false",` + ts + `}`,
			check: func(t *testing.T, r models.Record) { wantEq(t, r.(*models.Writeback).Manual, false) }},
		{name: "manual empty", source: "writebacks",
			line:  `{"writeback_id":"w1","status":"success","manual":"",` + ts + `}`,
			check: func(t *testing.T, r models.Record) { wantEq(t, r.(*models.Writeback).Manual, false) }},
		{name: "manual not a boolean", source: "writebacks",
			line:    `{"writeback_id":"w1","status":"success","manual":"maybe",` + ts + `}`,
			wantErr: `writebacks: field "manual": "maybe" is not a boolean (true, false, 1 or 0)`},
		{name: "writeback status", source: "writebacks",
			line:    `{"writeback_id":"w1","status":"ok",` + ts + `}`,
			wantErr: `writebacks: field "status": "ok" is not one of success, failed`},
		{name: "numeric identifiers become decimal strings", source: "cases",
			line: `{"case_id":10425,"customer_id":447700900789,"event":"opened",` + ts + `}`,
			check: func(t *testing.T, r models.Record) {
				c := r.(*models.CaseEvent)
				wantEq(t, c.CaseID, "10425")
				env := ingesttest.Env(t)
				wantEq(t, c.CustomerID, env.Pseudo.Customer("+44 7700 900789"))
			}},
		{name: "boolean identifier", source: "cases",
			line:    `{"case_id":true,"event":"opened",` + ts + `}`,
			wantErr: `case_events: field "case_id": is a boolean (true), expected a string`},
		{name: "line's own event_id wins", source: "cases",
			line:  `{"event_id":"wfe-1","case_id":"c1","event":"opened",` + ts + `}`,
			check: func(t *testing.T, r models.Record) { wantEq(t, r.Base().EventID, "wfe-1") }},
		{name: "unknown fields and nulls are ignored", source: "cases",
			line: `{"case_id":"c1","event":"opened",` + ts + `,"queue":null,"priority":"high","meta":{"x":[1]}}`,
			check: func(t *testing.T, r models.Record) {
				wantEq(t, r.(*models.CaseEvent).Queue, "")
			}},
		{name: "enums are case-insensitive", source: "cases",
			line:  `{"case_id":"c1","event":"HandOver","reason":"identity_failed",` + ts + `}`,
			check: func(t *testing.T, r models.Record) { wantEq(t, r.(*models.CaseEvent).Event, "handover") }},
		{name: "every problem is listed", source: "cases",
			line:    `{"event":"opened"}`,
			wantErr: `case_events: missing required field "case_id"; missing required field "ts"`},
		{name: "timestamp as JSON number of seconds", source: "cases",
			line: `{"case_id":"c1","event":"opened","ts":1772442845}`,
			check: func(t *testing.T, r models.Record) {
				wantEq(t, r.(*models.CaseEvent).TS.Format(time.RFC3339), "2026-03-02T09:14:05Z")
			}},
		{name: "inbound sender defaults to customer, kind to other, channel to whatsapp", source: "messages",
			line: `{"message_id":"m1","direction":"inbound",` + ts + `}`,
			check: func(t *testing.T, r models.Record) {
				m := r.(*models.Message)
				wantEq(t, m.SenderType+"/"+m.Kind+"/"+m.Channel, "customer/other/whatsapp")
			}},
		{name: "template name implies kind template", source: "messages",
			line:  `{"message_id":"m1","direction":"outbound","sender_type":"system","template_name":"payment_reminder_v2",` + ts + `}`,
			check: func(t *testing.T, r models.Record) { wantEq(t, r.(*models.Message).Kind, "template") }},
		{name: "outbound needs a sender type", source: "messages",
			line:    `{"message_id":"m1","direction":"outbound",` + ts + `}`,
			wantErr: `messages: missing required field "sender_type"`},
		{name: "outbound from the customer", source: "messages",
			line:    `{"message_id":"m1","direction":"outbound","sender_type":"customer",` + ts + `}`,
			wantErr: `messages: field "sender_type": "customer" contradicts direction outbound (use bot, agent or system)`},
		{name: "inbound from a bot", source: "messages",
			line:    `{"message_id":"m1","direction":"inbound","sender_type":"bot",` + ts + `}`,
			wantErr: `messages: field "sender_type": "bot" contradicts direction inbound (inbound messages come from the customer)`},
		{name: "message enums", source: "messages",
			line: `{"message_id":"m1","direction":"sideways","sender_type":"robot","kind":"sticker","channel":"fax",` + ts + `}`,
			wantErr: `messages: field "direction": "sideways" is not one of inbound, outbound; ` +
				`field "sender_type": "robot" is not one of customer, bot, agent, system; ` +
				`field "kind": "sticker" is not one of text, template, interactive, media, other; ` +
				`field "channel": "fax" is not one of whatsapp, sms, email`},
		{name: "consent status", source: "consent",
			line:    `{"customer_id":"+447700900123","status":"unsubscribed",` + ts + `}`,
			wantErr: `consent_events: field "status": "unsubscribed" is not one of opt_in, opt_out`},
		{name: "consent_source of a store export wins over source", source: "consent",
			line:  `{"customer_id":"+447700900123","status":"opt_in","source":"consent","consent_source":"web_form",` + ts + `}`,
			check: func(t *testing.T, r models.Record) { wantEq(t, r.(*models.ConsentEvent).ConsentSource, "web_form") }},
		{name: "template status", source: "templates",
			line:    `{"template_name":"t1","status":"pending",` + ts + `}`,
			wantErr: `template_events: field "status": "pending" is not one of approved, rejected, paused, disabled`},
		{name: "action step", source: "actions",
			line:    `{"case_id":"c1","step":"clicked",` + ts + `}`,
			wantErr: `actions: field "step": "clicked" is not one of link_opened, identity_validated, identity_failed, action_started, action_submitted`},
		{name: "audit details object is compacted", source: "audit",
			line: `{"audit_id":"a1","action":"export","hash":"h1","details":{ "rows" : 12, "to": "s3://b/<x>" },` + ts + `}`,
			check: func(t *testing.T, r models.Record) {
				wantEq(t, r.(*models.AuditEvent).Details, `{"rows":12,"to":"s3://b/<x>"}`)
			}},
		{name: "audit details JSON text is compacted like an object", source: "audit",
			line: `{"audit_id":"a1","action":"export","hash":"h1","details":"{ \"rows\" : 12, \"to\": \"s3://b/<x>\" }",` + ts + `}`,
			check: func(t *testing.T, r models.Record) {
				wantEq(t, r.(*models.AuditEvent).Details, `{"rows":12,"to":"s3://b/<x>"}`)
			}},
		{name: "audit details plain text becomes a JSON string", source: "audit",
			line:  `{"audit_id":"a1","action":"export","hash":"h1","details":"pack <W09> sent",` + ts + `}`,
			check: func(t *testing.T, r models.Record) { wantEq(t, r.(*models.AuditEvent).Details, `"pack <W09> sent"`) }},
		{name: "audit id defaults to the hash", source: "audit",
			line:  `{"action":"export","hash":"ab12",` + ts + `}`,
			check: func(t *testing.T, r models.Record) { wantEq(t, r.(*models.AuditEvent).AuditID, "ab12") }},
		{name: "audit needs hash and action", source: "audit",
			line:    `{"audit_id":"a1",` + ts + `}`,
			wantErr: `audit_events: missing required field "action"; missing required field "hash"`},
		{name: "not JSON", source: "cases",
			line:    `case_id=c1`,
			wantErr: `invalid JSON: expected an object starting with '{', found "case_id=c1"`},
		{name: "canonical collector explains its rules", source: "canonical",
			line:    `{"ts":"2026-03-02T09:00:00Z","queue":"kyc"}`,
			wantErr: errUnrecognised.Error()},
		{name: "canonical collector: event without case_id is a case event", source: "canonical",
			line:    `{"event":"opened",` + ts + `}`,
			wantErr: `case_events: missing required field "case_id"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := decodeOne(t, tc.source, tc.line, false)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error %v\nwant     %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			tc.check(t, r)
		})
	}
}

func wantEq[T comparable](t *testing.T, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("got %v, want %v", got, want)
	}
}

// One instant spelled three ways, and one customer spelled two ways, is one
// event; any change of a value is another event.
func TestEventIDIgnoresSpelling(t *testing.T) {
	lines := []string{
		`{"case_id":"c1","customer_id":"+44 7700 900123","event":"opened","ts":"2026-03-02T09:14:05Z"}`,
		`{"case_id":"c1","customer_id":"447700900123","event":"OPENED","ts":"2026-03-02T10:14:05.000+01:00","extra":"x"}`,
		`{"case_id":"c1","customer_id":"447700900123","event":"opened","ts":"1772442845","queue":""}`,
	}
	var ids []string
	for _, l := range lines {
		r, err := decodeOne(t, "cases", l, true)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.Base().EventID)
	}
	if ids[0] != ids[1] || ids[0] != ids[2] {
		t.Errorf("same event got different ids: %v", ids)
	}
	other, err := decodeOne(t, "cases", strings.Replace(lines[0], "09:14:05Z", "09:14:06Z", 1), false)
	if err != nil {
		t.Fatal(err)
	}
	if other.Base().EventID == ids[0] {
		t.Error("a different timestamp gave the same event_id")
	}
}

func TestDecodeRefusesWithoutPseudonymiser(t *testing.T) {
	err := Auto.Decode(&ingest.Env{}, ingest.Doc{Raw: []byte(`{"case_id":"c1","event":"opened","ts":"2026-03-02T09:00:00Z"}`)}, func(models.Record) {})
	if err == nil || !strings.Contains(err.Error(), "pseudonymiser") {
		t.Fatalf("got %v, want a refusal naming the pseudonymiser", err)
	}
}
