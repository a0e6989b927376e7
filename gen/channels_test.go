package gen

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/closedloop/closedloop/config"
)

// TestOtherChannels checks the SMS, e-mail and mini-app outputs: every
// Twilio form line and SendGrid event names a message of messages.jsonl,
// statuses are the ones the sources send, and the governance situations
// the findings look for are all present.
func TestOtherChannels(t *testing.T) {
	t.Parallel()
	dir, res := generate(t, Options{Cases: 4000, Seed: 12, Weeks: 6, MalformedRate: noBreakage})
	channel := map[string]string{} // message id → channel
	rogue, byChannel := 0, map[string]int{}
	eachDoc(t, dir, "workflow/messages.jsonl", func(d map[string]any) {
		id, ch := str(d["message_id"]), str(d["channel"])
		channel[id] = ch
		byChannel[ch]++
		if d["business_number"] == rogueNumber {
			rogue++
			if d["sender_type"] != "agent" {
				t.Fatalf("a non-agent message through the personal number: %v", d)
			}
		}
		if ch != "whatsapp" && d["kind"] != "text" {
			t.Fatalf("%s message of kind %v", ch, d["kind"])
		}
	})
	if byChannel["sms"] == 0 || byChannel["email"] == 0 || rogue == 0 {
		t.Errorf("messages by channel %v, %d through the personal number", byChannel, rogue)
	}

	twilio := map[string]int{}
	eachLine(t, dir, "twilio/callbacks-*.jsonl", func(file string, n int, line []byte) {
		var body string
		if err := json.Unmarshal(line, &body); err != nil {
			t.Fatalf("%s:%d: a form line must be a JSON string: %v", file, n, err)
		}
		v, err := url.ParseQuery(body)
		if err != nil {
			t.Fatalf("%s:%d: %v", file, n, err)
		}
		st := v.Get("MessageStatus")
		twilio[st]++
		if channel[v.Get("MessageSid")] != "sms" || v.Get("SmsSid") != v.Get("MessageSid") {
			t.Fatalf("%s:%d: callback of an unknown SMS: %s", file, n, body)
		}
		if !strings.HasPrefix(v.Get("To"), "+") || v.Get("AccountSid") == "" || v.Get("SmsStatus") != st {
			t.Fatalf("%s:%d: %s", file, n, body)
		}
		if _, err := time.Parse(time.RFC3339Nano, v.Get("ReceivedAt")); err != nil {
			t.Fatalf("%s:%d: ReceivedAt: %v", file, n, err)
		}
		if (st == "undelivered" || st == "failed") != (v.Get("ErrorCode") != "") {
			t.Fatalf("%s:%d: ErrorCode with %s: %s", file, n, st, body)
		}
	})
	for _, st := range []string{"queued", "sent", "delivered", "undelivered"} {
		if twilio[st] == 0 {
			t.Errorf("no Twilio %s callbacks (%v)", st, twilio)
		}
	}

	events := map[string]int{}
	delivered := map[string]bool{}
	lateBounce := 0
	eachDoc(t, dir, "sendgrid/events-*.jsonl", func(d map[string]any) {
		ev := str(d["event"])
		events[ev]++
		id, _, _ := strings.Cut(str(d["sg_message_id"]), ".filterdrecv")
		if channel[id] != "email" {
			t.Fatalf("event of an unknown e-mail: %v", d)
		}
		if !strings.Contains(str(d["email"]), "@example.") || str(d["customer_id"]) == "" || len(str(d["sg_event_id"])) != 22 {
			t.Fatalf("event fields: %v", d)
		}
		if ev == "delivered" {
			delivered[id] = true
		}
		if ev == "bounce" && delivered[id] {
			lateBounce++
		}
	})
	for _, ev := range []string{"processed", "delivered", "open", "click", "bounce", "dropped", "deferred"} {
		if events[ev] == 0 {
			t.Errorf("no SendGrid %s events (%v)", ev, events)
		}
	}
	if lateBounce == 0 {
		t.Error("no e-mail bounced after it was delivered")
	}

	steps := map[string]int{}
	type stamps struct{ started, validated string }
	byCase := map[string]*stamps{}
	eachDoc(t, dir, "workflow/actions.jsonl", func(d map[string]any) {
		step := str(d["step"])
		steps[step]++
		c := byCase[str(d["case_id"])]
		if c == nil {
			c = &stamps{}
			byCase[str(d["case_id"])] = c
		}
		switch step {
		case "action_started":
			c.started = str(d["ts"])
		case "identity_validated":
			c.validated = str(d["ts"])
		}
	})
	outOfOrder := 0
	for _, c := range byCase {
		if c.started != "" && c.validated != "" && c.validated < c.started {
			outOfOrder++
		}
	}
	for _, s := range []string{"link_opened", "action_started", "identity_validated", "identity_failed", "action_submitted"} {
		if steps[s] == 0 {
			t.Errorf("no %s actions (%v)", s, steps)
		}
	}
	if outOfOrder == 0 {
		t.Error("no case has identity_validated stamped before action_started")
	}

	reasonless := 0
	eachDoc(t, dir, "workflow/cases.jsonl", func(d map[string]any) {
		if d["event"] == "handover" && d["reason"] == nil {
			reasonless++
		}
	})
	if reasonless == 0 {
		t.Error("no workflow handover without a reason")
	}
	if res.Events["actions"] == 0 || res.Events["twilio"] == 0 || res.Events["sendgrid"] == 0 {
		t.Errorf("Result.Events lacks the new outputs: %v", res.Events)
	}
}

func TestDemoConfigParses(t *testing.T) {
	cfg, err := config.Parse([]byte(DemoConfigYAML()))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.IsRegistered(rogueNumber) || !cfg.IsRegistered(emailSender) || !cfg.IsRegistered(smsFrom[0]) {
		t.Errorf("register: %v", cfg.RegisteredNumbers)
	}
	if r, ok := cfg.Pricing.WhatsAppRate("utility", cfg.Pricing.CountryOf("106540352242901")); !ok || r != 0.022 {
		t.Errorf("utility rate for collections' number: %v %v", r, ok)
	}
}
