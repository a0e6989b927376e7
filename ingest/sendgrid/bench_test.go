package sendgrid

import (
	"os"
	"testing"

	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/ingest/ingesttest"
	"github.com/closedloop/closedloop/models"
)

// BenchmarkDecodeEventArray decodes one Event Webhook body of 11 events (6 mapped, 5 skipped), as SendGrid batches them.
func BenchmarkDecodeEventArray(b *testing.B) {
	raw, err := os.ReadFile(fixtures + "/all_event_types.json")
	if err != nil {
		b.Fatal(err)
	}
	env, doc, n := ingesttest.Env(b), ingest.Doc{Raw: raw, Format: ingest.FormatJSON, Ref: "bench:1"}, 0
	emit := func(models.Record) { n++ }
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		n = 0
		if err := (Collector{}).Decode(env, doc, emit); err != nil || n != 6 {
			b.Fatalf("%d records (want 6), err %v", n, err)
		}
	}
}
