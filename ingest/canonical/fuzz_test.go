package canonical

import (
	"testing"

	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/ingest/ingesttest"
)

// FuzzDecode feeds arbitrary lines to the canonical collectors: table
// picks the collector (auto-detection or one forced table), csv marks the
// line as a CSV row (every value a string). Seeds: the package's test
// files, line by line, and the bad-input corpus.
func FuzzDecode(f *testing.F) {
	for _, b := range ingesttest.SeedFiles(f, []string{"testdata"}, ".jsonl") {
		f.Add(b, uint8(0), false)
	}
	for _, b := range ingesttest.SeedFiles(f, []string{"../../testdata/bad"}, ".jsonl") {
		f.Add(b, uint8(0), false)
	}
	f.Add([]byte(`{"case_id":"c1","customer_id":"447700900001","event":"opened","ts":"1772442845","queue":"q"}`), uint8(1), true)
	f.Add([]byte(`{"writeback_id":"w","attempt":"2","status":"success","manual":"yes","ts":"2026-03-02T09:00:00+01:00"}`), uint8(3), true)
	cols := append([]*Collector{Auto}, tableCollectors...)
	f.Fuzz(func(t *testing.T, raw []byte, table uint8, csv bool) {
		env := ingesttest.Env(t)
		c := cols[int(table)%len(cols)]
		ingesttest.CheckDecode(t, c, env, ingest.Doc{Raw: raw, Format: ingest.FormatJSON, Ref: "fuzz:1", CSV: csv})
	})
}
