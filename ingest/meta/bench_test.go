package meta

import (
	"os"
	"testing"

	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/ingest/ingesttest"
	"github.com/closedloop/closedloop/models"
)

func benchDecode(b *testing.B, path string) {
	raw, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	env := ingesttest.Env(b)
	doc := ingest.Doc{Raw: raw, Format: ingest.FormatJSON, Ref: path}
	n := 0
	emit := func(models.Record) { n++ }
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := (Collector{}).Decode(env, doc, emit); err != nil {
			b.Fatal(err)
		}
	}
	if n != b.N {
		b.Fatalf("%d records for %d bodies", n, b.N)
	}
}

// BenchmarkDecodeStatus decodes a delivery status body (with conversation
// and pricing), the most frequent document of a deployment.
func BenchmarkDecodeStatus(b *testing.B) { benchDecode(b, fixtures+"/pywa/status_sent.json") }

// BenchmarkDecodeInboundMessage decodes an inbound text message body.
func BenchmarkDecodeInboundMessage(b *testing.B) { benchDecode(b, fixtures+"/pywa/inbound_text.json") }
