package twilio

import (
	"testing"

	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/ingest/ingesttest"
)

// FuzzDecode feeds arbitrary bodies to the Twilio collector, as form
// bodies or as JSON, starting from the published callbacks.
func FuzzDecode(f *testing.F) {
	for _, b := range ingesttest.SeedFiles(f, []string{fixtures}) {
		f.Add(b, true)
	}
	f.Add([]byte(`{"MessageSid":"SM1","MessageStatus":"delivered","To":"whatsapp:+447700900123"}`), false)
	f.Fuzz(func(t *testing.T, raw []byte, form bool) {
		format := ingest.FormatJSON
		if form {
			format = ingest.FormatForm
		}
		ingesttest.CheckDecode(t, Collector{}, ingesttest.Env(t), ingest.Doc{Raw: raw, Format: format, Ref: "fuzz:1"})
	})
}
