package meta

import (
	"testing"

	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/ingest/ingesttest"
)

// FuzzDecode feeds arbitrary bodies to the Meta collector, starting from
// the published payloads and the bad-input corpus.
func FuzzDecode(f *testing.F) {
	for _, b := range ingesttest.SeedFiles(f, []string{fixtures}) {
		f.Add(b)
	}
	for _, b := range ingesttest.SeedFiles(f, []string{"../../testdata/bad"}, ".json") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		env := ingesttest.Env(t)
		ingesttest.CheckDecode(t, Collector{}, env, ingest.Doc{Raw: raw, Format: ingest.FormatJSON, Ref: "fuzz:1"})
	})
}
