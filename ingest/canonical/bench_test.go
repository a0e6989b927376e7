package canonical

import (
	"testing"

	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/ingest/ingesttest"
	"github.com/closedloop/closedloop/models"
)

var benchCaseLine = []byte(`{"case_id":"case-10421","customer_id":"+44 7700 900123","event":"handover","ts":"2026-03-02T10:21:40.250+01:00","queue":"collections","category":"arrears","workflow":"promise_to_pay","actor":"bot","reason":"identity_failed"}`)

func benchDecode(b *testing.B, c ingest.Collector, raw []byte) {
	env := ingesttest.Env(b)
	doc := ingest.Doc{Raw: raw, Format: ingest.FormatJSON, Ref: "bench:1"}
	n := 0
	emit := func(models.Record) { n++ }
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if c == Auto && !c.Detect(doc) {
			b.Fatal("not detected")
		}
		if err := c.Decode(env, doc, emit); err != nil {
			b.Fatal(err)
		}
	}
	if n == 0 {
		b.Fatal("nothing decoded")
	}
}

// BenchmarkDecodeCaseEvent decodes one case event line with --source cases.
func BenchmarkDecodeCaseEvent(b *testing.B) {
	c, _ := ingest.Lookup("cases")
	benchDecode(b, c, benchCaseLine)
}

// BenchmarkAutoCaseEvent is the `--source auto` path: Detect, then Decode.
func BenchmarkAutoCaseEvent(b *testing.B) { benchDecode(b, Auto, benchCaseLine) }

// BenchmarkDetect measures the cost auto-detection adds to every document.
func BenchmarkDetect(b *testing.B) {
	doc := ingest.Doc{Raw: benchCaseLine}
	b.SetBytes(int64(len(benchCaseLine)))
	b.ReportAllocs()
	for b.Loop() {
		if !Auto.Detect(doc) {
			b.Fatal("not detected")
		}
	}
}
