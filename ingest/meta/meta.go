// Package meta collects WhatsApp Cloud API webhook bodies exactly as Meta
// posts them: {"object":"whatsapp_business_account","entry":[{"changes":
// [{"field":"messages","value":{...}}]}]}. Inbound `messages[]` become
// canonical messages from the customer; `statuses[]` become delivery
// statuses of outbound messages.
//
// This is the hot path of a deployment (one document per message and per
// status), so bodies are decoded into typed structs with goccy/go-json and
// nothing that the mapping does not need is declared.
package meta

import (
	"bytes"

	"github.com/closedloop/closedloop/ingest"
)

// Name is the collector's registered name (`--source meta`).
const Name = "meta"

// objectWABA is the only `object` Meta uses for WhatsApp Business webhooks.
const objectWABA = "whatsapp_business_account"

func init() { ingest.Register(Collector{}) }

// Collector maps Meta webhook bodies onto canonical records. It holds no
// state, so one value serves every worker.
type Collector struct{}

// Name implements ingest.Collector.
func (Collector) Name() string { return Name }

// Detect is a byte check, cheap enough to run on every document under
// `--source auto`: a body naming the WABA object, or a bare change value
// (`messaging_product: whatsapp`) that someone saved without its envelope.
// The bare value is recognised so that it reaches Decode and is rejected
// with a clear reason, instead of being called unrecognised.
func (Collector) Detect(doc ingest.Doc) bool {
	if doc.Format != ingest.FormatJSON {
		return false
	}
	if bytes.Contains(doc.Raw, []byte(`"`+objectWABA+`"`)) {
		return true
	}
	return bytes.Contains(doc.Raw, []byte(`"messaging_product"`)) && bytes.Contains(doc.Raw, []byte(`"whatsapp"`))
}
