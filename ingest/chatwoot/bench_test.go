package chatwoot

import (
	"os"
	"testing"

	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/ingest/ingesttest"
	"github.com/closedloop/closedloop/models"
)

// benchSample decodes one published webhook sample per iteration and fails
// unless every iteration emits want records.
func benchSample(b *testing.B, name string, want int) {
	raw, err := os.ReadFile(samples + "/" + name)
	if err != nil {
		b.Fatal(err)
	}
	env, doc, n := ingesttest.Env(b), ingest.Doc{Raw: raw, Format: ingest.FormatJSON, Ref: name + ":1"}, 0
	emit := func(models.Record) { n++ }
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		n = 0
		if err := (Collector{}).Decode(env, doc, emit); err != nil || n != want {
			b.Fatalf("%d records (want %d), err %v", n, want, err)
		}
	}
}

// BenchmarkDecodeMessageCreated decodes a message_created webhook, the bulk of Chatwoot traffic.
func BenchmarkDecodeMessageCreated(b *testing.B) { benchSample(b, "message_created.json", 1) }

// BenchmarkDecodeStatusChanged decodes a conversation_status_changed webhook, the source of handover/case events.
func BenchmarkDecodeStatusChanged(b *testing.B) {
	benchSample(b, "conversation_status_changed.json", 1)
}
