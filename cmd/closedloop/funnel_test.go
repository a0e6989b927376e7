package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFunnelOnRealPayloads joins canonical workflow events with the
// published Twilio and SendGrid payloads: an SMS delivered per Twilio's
// callback and an e-mail opened per SendGrid's event carry their cases
// through the funnel; kpi returns the new rates.
func TestFunnelOnRealPayloads(t *testing.T) {
	t.Setenv("CLOSEDLOOP_PII_KEY", "test-key-0123456789abcdef")
	dir := t.TempDir()
	db := filepath.Join(dir, "s.duckdb")
	events := strings.Join([]string{
		// p1: an SMS (the Twilio fixture's SMyyy, delivered 2023-03-07 21:55), the link opened, completed.
		`{"case_id":"p1","customer_id":"17031111","event":"opened","ts":"2023-03-07T21:00:00Z","workflow":"promise_to_pay"}`,
		`{"message_id":"SMyyy","case_id":"p1","customer_id":"17031111","direction":"outbound","sender_type":"system","kind":"text","channel":"sms","business_number":"+13364432222","ts":"2023-03-07T21:50:00Z"}`,
		`{"case_id":"p1","customer_id":"17031111","workflow":"promise_to_pay","step":"link_opened","channel":"sms","ts":"2023-03-07T22:00:00Z"}`,
		`{"case_id":"p1","customer_id":"17031111","workflow":"promise_to_pay","step":"action_started","channel":"sms","ts":"2023-03-07T22:00:30Z"}`,
		`{"case_id":"p1","customer_id":"17031111","workflow":"promise_to_pay","step":"identity_validated","channel":"sms","ts":"2023-03-07T22:01:00Z"}`,
		`{"case_id":"p1","customer_id":"17031111","event":"completed","ts":"2023-03-07T22:03:00Z","workflow":"promise_to_pay"}`,
		// p2: never reached.
		`{"case_id":"p2","customer_id":"17032222","event":"opened","ts":"2023-03-08T09:00:00Z","workflow":"promise_to_pay"}`,
		// e1: the SendGrid fixture's e-mail (opened 2017-12-15 00:59:29).
		`{"case_id":"e1","customer_id":"17033333","event":"opened","ts":"2017-12-15T00:00:00Z","workflow":"kyc_refresh"}`,
		`{"message_id":"14c5d75ce93.dfd.64b469","case_id":"e1","customer_id":"17033333","direction":"outbound","sender_type":"system","kind":"text","channel":"email","business_number":"noreply@example.com","ts":"2017-12-15T00:50:00Z"}`,
	}, "\n") + "\n"
	canon := filepath.Join(dir, "events.jsonl")
	if err := os.WriteFile(canon, []byte(events), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "closedloop.yaml")
	if err := os.WriteFile(cfg, []byte("pricing:\n  sms_unit: 0.05\n  email_unit: 0.001\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := run(t, "--config", cfg, "ingest", "--db", db, canon,
		"../../testdata/real/twilio/sms_va_delivered.form", "../../testdata/real/sendgrid/per_event/open.json")
	if code != exitOK {
		t.Fatalf("ingest exit %d: %s", code, out)
	}
	out, code = run(t, "--config", cfg, "funnel", "--db", db, "--workflow", "promise_to_pay", "--from", "2023-03-06", "--to", "2023-03-13", "--format", "json")
	if code != exitOK {
		t.Fatalf("funnel exit %d: %s", code, out)
	}
	var f struct {
		Workflow string `json:"workflow"`
		Steps    []struct {
			Step  string `json:"step"`
			Cases int64  `json:"cases"`
		} `json:"steps"`
		Sequences []struct {
			Sequence  string `json:"sequence"`
			Cases     int64  `json:"cases"`
			Completed int64  `json:"completed"`
		} `json:"channel_sequences"`
		Deflected int64 `json:"deflected_cases"`
		Cost      struct {
			Total        float64  `json:"total"`
			PerCompleted *float64 `json:"cost_per_completed_case"`
		} `json:"cost"`
	}
	if err := json.Unmarshal([]byte(out), &f); err != nil {
		t.Fatalf("funnel json: %v\n%s", err, out)
	}
	got := map[string]int64{}
	for _, s := range f.Steps {
		got[s.Step] = s.Cases
	}
	want := map[string]int64{"triggered": 2, "delivered": 1, "read": 1, "action_started": 1, "identity_validated": 1, "completed": 1, "written_back": 0}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("step %s: %d cases, want %d (%s)", k, got[k], v, out)
		}
	}
	if f.Deflected != 1 || f.Cost.Total != 0.05 || f.Cost.PerCompleted == nil || *f.Cost.PerCompleted != 0.05 {
		t.Errorf("deflected %d, cost %+v", f.Deflected, f.Cost)
	}
	if len(f.Sequences) != 2 {
		t.Errorf("sequences %+v", f.Sequences)
	}

	// The SendGrid open makes the e-mail read.
	out, code = run(t, "--config", cfg, "funnel", "--db", db, "--workflow", "kyc_refresh", "--from", "2017-12-11", "--to", "2017-12-18")
	if code != exitOK || !strings.Contains(out, "STEP") || !strings.Contains(out, "fallback rate") || !strings.Contains(out, "CHANNEL SEQUENCE") {
		t.Fatalf("funnel table exit %d:\n%s", code, out)
	}
	for _, line := range []string{"read ", "delivered "} {
		found := false
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, line) && strings.Contains(l, " 1 ") {
				found = true
			}
		}
		if !found {
			t.Errorf("funnel table: no %q line with 1 case:\n%s", line, out)
		}
	}

	out, code = run(t, "kpi", "--db", db, "--from", "2023-03-06", "--to", "2023-03-13", "--format", "json")
	if code != exitOK || !strings.Contains(out, `"kpi": "deflection_rate"`) || !strings.Contains(out, `"kpi": "fallback_rate"`) {
		t.Fatalf("kpi exit %d lacks the funnel rates:\n%s", code, out)
	}

	for _, args := range [][]string{
		{"funnel", "--db", db},
		{"funnel", "--db", db, "--workflow", "x", "--format", "csv"},
		{"funnel", "--db", db, "--workflow", "x", "--from", "2023-03-06"},
	} {
		if out, code := run(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d: %s", args, code, exitUsage, out)
		}
	}
}
