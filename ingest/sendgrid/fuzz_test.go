package sendgrid

import (
	"testing"

	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/ingest/ingesttest"
)

// FuzzDecode feeds arbitrary bodies to the SendGrid collector, starting
// from the published Event Webhook bodies.
func FuzzDecode(f *testing.F) {
	for _, b := range ingesttest.SeedFiles(f, []string{fixtures}) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		ingesttest.CheckDecode(t, Collector{}, ingesttest.Env(t), ingest.Doc{Raw: raw, Format: ingest.FormatJSON, Ref: "fuzz:1"})
	})
}
