// Package chatwoot collects Chatwoot webhook bodies (the agent console):
// conversation lifecycle events become case events (opened, handover,
// resolved, reopened) and created messages become canonical messages with
// who sent them. The mapping is exported (MapOpened, MapStatusChange,
// MapMessage and the Conversation and Message types) so that the REST API
// pull collector maps exactly the same way: one mapping, two transports.
package chatwoot

import (
	"bytes"

	"github.com/closedloop/closedloop/ingest"
)

// Name is the collector's registered name (`--source chatwoot`).
const Name = "chatwoot"

func init() { ingest.Register(Collector{}) }

// Collector maps Chatwoot webhook bodies onto canonical records. It holds
// no state.
type Collector struct{}

// Name implements ingest.Collector.
func (Collector) Name() string { return Name }

// Detect recognises a Chatwoot body by its `event` plus an attribute only
// Chatwoot sends (conversation, inbox_id, contact_inbox, account), or by a
// Chatwoot event name. Canonical JSON Lines also have `event` (opened,
// handover, …) but always `case_id`, which Chatwoot never sends; Meta's
// template webhooks have `event` inside a WhatsApp Business envelope.
func (Collector) Detect(doc ingest.Doc) bool {
	raw := doc.Raw
	if doc.Format != ingest.FormatJSON || doc.CSV || !bytes.Contains(raw, []byte(`"event"`)) {
		return false
	}
	if bytes.Contains(raw, []byte(`"case_id"`)) || bytes.Contains(raw, []byte(`"whatsapp_business_account"`)) {
		return false
	}
	if bytes.Contains(raw, []byte(`"conversation"`)) || bytes.Contains(raw, []byte(`"inbox_id"`)) ||
		bytes.Contains(raw, []byte(`"contact_inbox"`)) || bytes.Contains(raw, []byte(`"account"`)) {
		return true
	}
	return IsEvent(eventName(raw))
}

// IsEvent reports whether name is a Chatwoot webhook event.
func IsEvent(name string) bool {
	switch name {
	case "conversation_created", "conversation_status_changed", "conversation_updated",
		"conversation_opened", "conversation_resolved", "conversation_typing_on",
		"conversation_typing_off", "contact_created", "contact_updated", "message_created",
		"message_updated", "webwidget_triggered", "inbox_created", "inbox_updated":
		return true
	}
	return false
}

// eventName finds the string value of the first "event" key without
// parsing the document; "" when there is none.
func eventName(raw []byte) string {
	key := []byte(`"event"`)
	for off := 0; ; {
		i := bytes.Index(raw[off:], key)
		if i < 0 {
			return ""
		}
		rest := bytes.TrimLeft(raw[off+i+len(key):], " \t\r\n")
		off += i + len(key)
		if len(rest) == 0 || rest[0] != ':' {
			continue // "event" was a value, not a key
		}
		rest = bytes.TrimLeft(rest[1:], " \t\r\n")
		if len(rest) == 0 || rest[0] != '"' {
			return ""
		}
		end := bytes.IndexByte(rest[1:], '"')
		if end < 0 {
			return ""
		}
		return string(rest[1 : 1+end])
	}
}
