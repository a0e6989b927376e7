package chatwoot

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/ingest/ingesttest"
	"github.com/closedloop/closedloop/models"
)

func decode(t *testing.T, body string) (models.Record, error) {
	t.Helper()
	var out []models.Record
	err := Collector{}.Decode(ingesttest.Env(t), ingest.Doc{Raw: []byte(body), Format: ingest.FormatJSON, Ref: "test:1"}, func(r models.Record) {
		out = append(out, r)
	})
	if err == nil && len(out) != 1 {
		t.Fatalf("want one record, got %d", len(out))
	}
	if err != nil {
		if len(out) != 0 {
			t.Fatalf("records emitted with an error: %v", out)
		}
		return nil, err
	}
	return out[0], nil
}

// conv builds a modern conversation webhook: event, status,
// changed_attributes and extra attributes spliced in.
func conv(event, status, changed, extra string) string {
	if changed == "" {
		changed = "null"
	}
	return `{"event":"` + event + `","id":42,"inbox_id":7,"channel":"Channel::Whatsapp","status":"` + status + `",
	 "meta":{"sender":{"id":99,"name":"Ann","phone_number":"+44 7700 900123","type":"contact"}},
	 "contact_inbox":{"contact_id":99,"source_id":"447700900123"},
	 "created_at":1767225600,"updated_at":1767229200.25,"timestamp":1767228000,
	 "changed_attributes":` + changed + extra + `}`
}

func changedStatus(prev, cur string) string {
	return `[{"status":{"previous_value":"` + prev + `","current_value":"` + cur + `"}},` +
		`{"updated_at":{"previous_value":"2026-01-01T00:30:00.000Z","current_value":"2026-01-01T01:00:00.500Z"}}]`
}

func TestStatusTransitions(t *testing.T) {
	changedAt := time.Date(2026, 1, 1, 1, 0, 0, 500e6, time.UTC)
	cases := []struct {
		name, body             string
		event, reason, closure string
		skip                   string // skip kind when skipped
		ts                     time.Time
	}{
		{name: "pending to open is a handover", body: conv("conversation_status_changed", "open", changedStatus("pending", "open"), ""),
			event: "handover", reason: "customer_request", ts: changedAt},
		{name: "handover reason from custom attributes",
			body:  conv("conversation_status_changed", "open", changedStatus("pending", "open"), `,"custom_attributes":{"handover_reason":"identity_failed","category":"billing","workflow":"refund"}`),
			event: "handover", reason: "identity_failed", ts: changedAt},
		{name: "handover reason from additional attributes",
			body:  conv("conversation_updated", "open", changedStatus("pending", "open"), `,"additional_attributes":{"handover_reason":"dispute","browser":{}}`),
			event: "handover", reason: "dispute", ts: changedAt},
		{name: "open to resolved with labels", body: conv("conversation_status_changed", "resolved", changedStatus("open", "resolved"), `,"labels":["refund","billing"]`),
			event: "resolved", closure: "billing,refund", ts: changedAt},
		{name: "pending to resolved without labels (bot resolved)", body: conv("conversation_status_changed", "resolved", changedStatus("pending", "resolved"), ""),
			event: "resolved", ts: changedAt},
		{name: "resolved to open is reopened", body: conv("conversation_status_changed", "open", changedStatus("resolved", "open"), ""),
			event: "reopened", ts: changedAt},
		{name: "resolved to pending is reopened", body: conv("conversation_status_changed", "pending", changedStatus("resolved", "pending"), ""),
			event: "reopened", ts: changedAt},
		{name: "open to snoozed", body: conv("conversation_status_changed", "snoozed", changedStatus("open", "snoozed"), ""),
			skip: "chatwoot status open->snoozed"},
		{name: "snoozed to open", body: conv("conversation_status_changed", "open", changedStatus("snoozed", "open"), ""),
			skip: "chatwoot status snoozed->open"},
		{name: "open to pending", body: conv("conversation_status_changed", "pending", changedStatus("open", "pending"), ""),
			skip: "chatwoot status open->pending"},
		{name: "updated without status change", body: conv("conversation_updated", "open", `[{"assignee_id":{"previous_value":null,"current_value":3}}]`, ""),
			skip: "chatwoot conversation_updated without status change"},
		{name: "updated without changed_attributes", body: conv("conversation_updated", "open", "", ""),
			skip: "chatwoot conversation_updated without status change"},
		{name: "legacy [previous, current] pairs", body: conv("conversation_status_changed", "open", `[{"status":["pending","open"],"updated_at":["2026-01-01T00:30:00Z","2026-01-01T01:00:00.5Z"]}]`, ""),
			event: "handover", reason: "customer_request", ts: changedAt},
		{name: "integer statuses", body: conv("conversation_status_changed", "resolved", `[{"status":{"previous_value":0,"current_value":1}}]`, ""),
			event: "resolved", ts: time.Date(2026, 1, 1, 1, 0, 0, 250e6, time.UTC)}, // updated_at float
		{name: "no changed_attributes: open", body: conv("conversation_status_changed", "open", "", ""),
			event: "handover", reason: "customer_request", ts: time.Date(2026, 1, 1, 1, 0, 0, 250e6, time.UTC)},
		{name: "no changed_attributes: pending", body: conv("conversation_status_changed", "pending", "", ""),
			skip: "chatwoot status pending"},
		{name: "no changed_attributes: snoozed", body: conv("conversation_status_changed", "snoozed", "", ""),
			skip: "chatwoot status snoozed"},
		{name: "deprecated conversation_resolved trusts its name", body: conv("conversation_resolved", "open", "", ""),
			event: "resolved", ts: time.Date(2026, 1, 1, 1, 0, 0, 250e6, time.UTC)},
		{name: "created is opened at created_at", body: conv("conversation_created", "pending", "", ""),
			event: "opened", ts: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := decode(t, c.body)
			if c.skip != "" {
				if !errors.Is(err, ingest.ErrSkip) || ingest.SkipKind(err) != c.skip {
					t.Fatalf("want skip %q, got %v %v", c.skip, r, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			e := r.(*models.CaseEvent)
			if e.Event != c.event || e.Reason != c.reason || e.ClosureTag != c.closure || !e.TS.Equal(c.ts) {
				t.Errorf("got event=%s reason=%q closure=%q ts=%v, want %s %q %q %v", e.Event, e.Reason, e.ClosureTag, e.TS, c.event, c.reason, c.closure, c.ts)
			}
			if e.CaseID != "cw:42" || e.Queue != "inbox:7" {
				t.Errorf("case %q queue %q", e.CaseID, e.Queue)
			}
		})
	}
}

// Chatwoot sends a status change twice (conversation_status_changed and
// conversation_updated): both map to one event_id.
func TestStatusChangeDeliveredTwiceDedupes(t *testing.T) {
	a, err := decode(t, conv("conversation_status_changed", "open", changedStatus("pending", "open"), ""))
	if err != nil {
		t.Fatal(err)
	}
	b, err := decode(t, conv("conversation_updated", "open", changedStatus("pending", "open"), ""))
	if err != nil {
		t.Fatal(err)
	}
	if a.Base().EventID != b.Base().EventID {
		t.Error("the same transition from two events has two event ids")
	}
	c, _ := decode(t, conv("conversation_status_changed", "resolved", changedStatus("open", "resolved"), ""))
	if c.Base().EventID == a.Base().EventID {
		t.Error("different transitions share an event id")
	}
}

func TestCaseAttributesAndCustomer(t *testing.T) {
	r, err := decode(t, conv("conversation_created", "pending", "", `,"custom_attributes":{"category":"billing","workflow":"refund","priority_score":3,"tags":["a"]}`))
	if err != nil {
		t.Fatal(err)
	}
	e := r.(*models.CaseEvent)
	if e.Category != "billing" || e.Workflow != "refund" {
		t.Errorf("category %q workflow %q", e.Category, e.Workflow)
	}
	// The phone number pseudonymises exactly as Meta's wa_id does, so the
	// customer joins across sources.
	if want := ingesttest.Env(t).Pseudo.Customer("447700900123"); e.CustomerID != want {
		t.Errorf("customer %q, want the pseudonym of the normalised number %q", e.CustomerID, want)
	}
	// Without a phone number the contact id is pseudonymised too.
	noPhone := strings.Replace(conv("conversation_created", "open", "", ""), `"phone_number":"+44 7700 900123"`, `"phone_number":null`, 1)
	r, err = decode(t, noPhone)
	if err != nil {
		t.Fatal(err)
	}
	if want := ingesttest.Env(t).Pseudo.Customer("chatwoot-contact:99"); r.(*models.CaseEvent).CustomerID != want || !strings.HasPrefix(want, "c_") {
		t.Errorf("customer %q, want %q", r.(*models.CaseEvent).CustomerID, want)
	}
}

// msg builds a modern message_created webhook.
func msg(fields, channel string) string {
	return `{"event":"message_created","id":501,"content":"hello","created_at":"2026-01-01T10:00:00.000Z",` + fields + `,
	 "inbox":{"id":7,"name":"Support"},"account":{"id":1,"name":"Acme"},
	 "conversation":{"id":42,"inbox_id":7,"channel":"` + channel + `","status":"open",
	   "meta":{"sender":{"id":99,"phone_number":"+447700900123","type":"contact"}},
	   "contact_inbox":{"contact_id":99,"source_id":"whatsapp:+447700900123"},"timestamp":1767261600}}`
}

func TestMessages(t *testing.T) {
	cases := []struct {
		name, body                                 string
		id, direction, sender, kind, channel, tmpl string
		skip                                       string
	}{
		{name: "incoming whatsapp with wamid", body: msg(`"message_type":"incoming","content_type":"text","private":false,"source_id":"wamid.HBgL123","sender":{"id":99,"type":"contact"}`, "Channel::Whatsapp"),
			id: "wamid.HBgL123", direction: "inbound", sender: "customer", kind: "text", channel: "whatsapp"},
		{name: "outgoing by an agent", body: msg(`"message_type":"outgoing","content_type":"text","private":false,"source_id":null,"sender":{"id":3,"name":"Bo","email":"bo@acme.test","type":"user"}`, "Channel::Whatsapp"),
			id: "cw-msg:501", direction: "outbound", sender: "agent", kind: "text", channel: "whatsapp"},
		{name: "outgoing by a bot", body: msg(`"message_type":"outgoing","content_type":"input_select","sender":{"id":1,"type":"agent_bot"}`, "Channel::Api"),
			id: "cw-msg:501", direction: "outbound", sender: "bot", kind: "interactive", channel: "whatsapp"},
		{name: "REST sender_type AgentBot, integer message_type", body: msg(`"message_type":1,"content_type":"cards","sender_type":"AgentBot"`, "Channel::Whatsapp"),
			id: "cw-msg:501", direction: "outbound", sender: "bot", kind: "interactive", channel: "whatsapp"},
		{name: "outgoing without sender (automation)", body: msg(`"message_type":"outgoing","content_type":"text"`, "Channel::Email"),
			id: "cw-msg:501", direction: "outbound", sender: "system", kind: "text", channel: "email"},
		{name: "WhatsApp template sent by an agent", body: msg(`"message_type":"outgoing","content_type":"text","source_id":"wamid.T1","sender":{"id":3,"type":"user"},"additional_attributes":{"template_params":{"name":"order_update","language":"en_US","processed_params":{"1":"x"}}}`, "Channel::Whatsapp"),
			id: "wamid.T1", direction: "outbound", sender: "agent", kind: "template", channel: "whatsapp", tmpl: "order_update"},
		{name: "Chatwoot template prompt", body: msg(`"message_type":"template","content_type":"input_email"`, "Channel::WebWidget"),
			id: "cw-msg:501", direction: "outbound", sender: "system", kind: "interactive", channel: "whatsapp"},
		{name: "attachment", body: msg(`"message_type":"incoming","content_type":"text","attachments":[{"id":1,"file_type":"image","data_url":"https://x"}]`, "Channel::TwilioSms"),
			id: "cw-msg:501", direction: "inbound", sender: "customer", kind: "media", channel: "whatsapp"},
		{name: "sms", body: msg(`"message_type":"incoming","content_type":"text"`, "Channel::Sms"),
			id: "cw-msg:501", direction: "inbound", sender: "customer", kind: "text", channel: "sms"},
		{name: "private note", body: msg(`"message_type":"outgoing","private":true,"sender":{"id":3,"type":"user"}`, "Channel::Whatsapp"),
			skip: "chatwoot private note"},
		{name: "activity", body: msg(`"message_type":"activity","content_type":"text"`, "Channel::Whatsapp"),
			skip: "chatwoot activity message"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := decode(t, c.body)
			if c.skip != "" {
				if !errors.Is(err, ingest.ErrSkip) || ingest.SkipKind(err) != c.skip {
					t.Fatalf("want skip %q, got %v", c.skip, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			m := r.(*models.Message)
			got := []string{m.MessageID, m.Direction, m.SenderType, m.Kind, m.Channel, m.TemplateName}
			want := []string{c.id, c.direction, c.sender, c.kind, c.channel, c.tmpl}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("got %v, want %v", got, want)
			}
			if m.CaseID != "cw:42" || !strings.HasPrefix(m.CustomerID, "c_") || m.EventID != models.HashID("chatwoot", "message", "501") {
				t.Errorf("case %q customer %q event %q", m.CaseID, m.CustomerID, m.EventID)
			}
			if !m.TS.Equal(time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)) {
				t.Errorf("ts %v", m.TS)
			}
		})
	}
}

// The REST collector maps a conversation's messages[] element (integer
// message_type, Unix created_at) with the same function.
func TestMapMessageFromMessagesList(t *testing.T) {
	c := &Conversation{ID: "10", InboxID: "1", Channel: "Channel::WebWidget"}
	c.Meta.Sender.ID = "12"
	m := &Message{ID: "120", MessageType: Template, ContentType: "input_email", CreatedAt: TimeOf("1627063369")}
	r, err := MapMessage(ingesttest.Env(t), c, m)
	if err != nil {
		t.Fatal(err)
	}
	if r.Direction != "outbound" || r.SenderType != "system" || r.Kind != "interactive" || r.TS.Unix() != 1627063369 || r.CaseID != "cw:10" {
		t.Errorf("got %+v", r)
	}
}

func TestRejectReasons(t *testing.T) {
	cases := map[string]struct{ body, want string }{
		"no event":                     {`{"id":1,"conversation":{"id":2}}`, `no "event"`},
		"message without conversation": {`{"event":"message_created","id":1,"message_type":"incoming","created_at":"2026-01-01T00:00:00Z"}`, "chatwoot message_created: conversation: missing"},
		"unknown message_type":         {msg(`"message_type":"broadcast"`, "Channel::Whatsapp"), `message_type: "broadcast" is not`},
		"conversation without id":      {`{"event":"conversation_created","inbox_id":1,"timestamp":1}`, "chatwoot conversation_created: id: missing"},
		"no time":                      {`{"event":"conversation_created","id":1,"inbox_id":1}`, "chatwoot conversation_created: timestamp: missing"},
		"bad updated_at":               {`{"event":"conversation_status_changed","id":1,"status":"open","updated_at":"last tuesday"}`, `chatwoot conversation_status_changed: updated_at: timestamp "last tuesday"`},
		"bad changed_attributes":       {`{"event":"conversation_status_changed","id":1,"status":"open","timestamp":1,"changed_attributes":[{"status":{"previous_value":{},"current_value":"open"}}]}`, "changed_attributes: status:"},
		"type error with path":         {`{"event":"conversation_created","id":1,"timestamp":1,"labels":"vip"}`, "labels: cannot read a JSON string"},
		"object id":                    {`{"event":"conversation_created","id":{"n":1},"timestamp":1}`, "chatwoot conversation_created: expected an id (number or string), got a JSON object"},
		"nested type error":            {`{"event":"conversation_created","id":1,"timestamp":1,"meta":{"sender":{"phone_number":123}}}`, "meta.sender.phone_number: cannot read a JSON number"},
	}
	cases["bad created_at"] = struct{ body, want string }{
		strings.Replace(msg(`"message_type":"incoming"`, "Channel::Whatsapp"), `"2026-01-01T10:00:00.000Z"`, `"soon"`, 1),
		`chatwoot message_created: created_at: timestamp "soon"`,
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

func TestOtherEventsSkipped(t *testing.T) {
	for _, ev := range []string{"contact_created", "conversation_typing_on", "inbox_updated", "message_updated", "something_new"} {
		_, err := decode(t, `{"event":"`+ev+`","id":1,"account":{"id":1}}`)
		if !errors.Is(err, ingest.ErrSkip) || ingest.SkipKind(err) != "chatwoot "+ev {
			t.Errorf("%s: want skip, got %v", ev, err)
		}
	}
}

func TestDetect(t *testing.T) {
	cases := map[string]bool{
		`{"event":"conversation_created","id":1,"inbox_id":2}`:                                                                                   true,
		`{"event":"contact_created","id":1,"name":"x","account":{"id":1}}`:                                                                       true,
		`{"event": "conversation_typing_on", "user": {}}`:                                                                                        true,
		`{"event":"opened","case_id":"c1","customer_id":"x","ts":"2026-01-01T00:00:00Z","queue":"support"}`:                                      false,
		`{"event":"handover","case_id":"c1","conversation":"x"}`:                                                                                 false,
		`{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"event":"APPROVED"},"field":"message_template_status_update"}]}]}`: false,
		`{"type":"event","id":1}`:   false,
		`{"event":"unknown_thing"}`: false,
	}
	for body, want := range cases {
		if got := (Collector{}).Detect(ingest.Doc{Raw: []byte(body), Format: ingest.FormatJSON}); got != want {
			t.Errorf("Detect(%s) = %v, want %v", body, got, want)
		}
	}
	csv := ingest.Doc{Raw: []byte(`{"event":"opened","conversation":"1"}`), Format: ingest.FormatJSON, CSV: true}
	if (Collector{}).Detect(csv) {
		t.Error("a CSV row must not be detected as Chatwoot")
	}
}
