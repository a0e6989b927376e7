package twilio

import (
	"os"
	"testing"

	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/ingest/ingesttest"
	"github.com/closedloop/closedloop/models"
)

// BenchmarkDecodeStatusCallback decodes a form-encoded WhatsApp status callback, Twilio's most frequent body.
func BenchmarkDecodeStatusCallback(b *testing.B) {
	raw, err := os.ReadFile(fixtures + "/status_callback_delivered.form")
	if err != nil {
		b.Fatal(err)
	}
	env, doc, n := ingesttest.Env(b), ingest.Doc{Raw: raw, Format: ingest.FormatForm, Ref: "bench:1"}, 0
	emit := func(models.Record) { n++ }
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		n = 0
		if err := (Collector{}).Decode(env, doc, emit); err != nil || n != 1 {
			b.Fatalf("%d records (want 1), err %v", n, err)
		}
	}
}
