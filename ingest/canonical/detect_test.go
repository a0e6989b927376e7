package canonical

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/closedloop/closedloop/ingest"
)

func TestDetect(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want bool
	}{
		{"case event", `{"case_id":"c1","event":"opened","ts":"2026-03-02T09:00:00Z"}`, true},
		{"message", `{"message_id":"wamid.x","direction":"inbound","ts":"2026-03-02T09:00:00Z"}`, true},
		{"writeback by id", `{"writeback_id":"w1","case_id":"c1","status":"success"}`, true},
		{"writeback by key and attempt", `{"idempotency_key":"k","attempt":2,"status":"success"}`, true},
		{"action", `{"case_id":"c1","step":"link_opened"}`, true},
		{"audit by id", `{"audit_id":"a1","action":"x"}`, true},
		{"audit by hash and action", `{"hash":"ab","action":"x","details":{"object":"nested keys do not count"}}`, true},
		{"template", `{"template_name":"t","status":"approved"}`, true},
		{"consent", `{"customer_id":"447700900123","status":" Opt_Out "}`, true},
		{"keys in other case, as go-json matches them", `{"Case_ID":"c1","EVENT":"opened"}`, true},
		{"whitespace everywhere", " {\n \"case_id\" : \"c1\" ,\t\"event\" : \"opened\" } ", true},
		{"escaped quotes in values", `{"case_id":"c\"1\\","event":"opened","actor":"{\"object\":1}"}`, true},
		{"meta webhook", `{"object":"whatsapp_business_account","entry":[]}`, false},
		{"chatwoot webhook", `{"event":"conversation_created","id":1,"status":"pending"}`, false},
		{"sendgrid event", `{"event":"delivered","email":"a@example.com","customer_id":"x","status":"opt_in"}`, false},
		{"canonical-looking meta", `{"object":"x","case_id":"c1","event":"opened"}`, false},
		{"template status on a message", `{"template_name":"t","status":"approved","message_id":"m"}`, false},
		{"consent status on a case", `{"customer_id":"c","status":"opt_in","case_id":"c1"}`, false},
		{"status that is not consent", `{"customer_id":"c","status":"open"}`, false},
		{"empty values are absent", `{"case_id":"","event":"opened"}`, false},
		{"null values are absent", `{"case_id":null,"step":null,"message_id":"m","direction":"inbound"}`, true},
		{"message without direction", `{"message_id":"m"}`, false},
		{"empty object", `{}`, false},
		{"array", `[{"case_id":"c1","event":"opened"}]`, false},
		{"truncated", `{"case_id":"c1","event":"opened"`, false},
		{"truncated string", `{"case_id":"c1","event":"ope`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Auto.Detect(ingest.Doc{Raw: []byte(tc.doc)}); got != tc.want {
				t.Errorf("Detect = %v, want %v", got, tc.want)
			}
		})
	}
}

// The per-table collectors are only used when forced with --source; a form
// body is never canonical.
func TestOnlyCanonicalDetects(t *testing.T) {
	doc := ingest.Doc{Raw: []byte(`{"case_id":"c1","event":"opened","ts":"2026-03-02T09:00:00Z"}`)}
	for _, c := range tableCollectors {
		if c.Detect(doc) {
			t.Errorf("collector %q claimed a document under auto", c.Name())
		}
	}
	if got, ok := ingest.Detect(doc); !ok || got.Name() != "canonical" {
		t.Errorf("ingest.Detect picked %v, want canonical", got)
	}
	form := ingest.Doc{Raw: []byte("case_id=c1&event=opened"), Format: ingest.FormatForm}
	if Auto.Detect(form) {
		t.Error("a form body was claimed")
	}
}

// The real Meta, Chatwoot, Twilio and SendGrid payloads shared with the
// other collectors must never be claimed by canonical auto-detection.
func TestDetectLeavesRealWebhooksAlone(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "testdata", "real")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("real payloads not available: %v", err)
	}
	files, err := ingest.ListFiles([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	docs := 0
	for _, f := range files {
		if ext := filepath.Ext(f); ext == ".md" || ext == ".txt" {
			continue
		}
		err := ingest.ReadFile(f, func(d ingest.Doc) error {
			docs++
			if Auto.Detect(d) {
				t.Errorf("%s: claimed as canonical", d.Ref)
			}
			return nil
		}, func(*ingest.ReadError) {})
		if err != nil {
			t.Fatal(err)
		}
	}
	if docs == 0 {
		t.Fatal("no documents read from the real payloads")
	}
	t.Logf("%d real documents left alone", docs)
}
