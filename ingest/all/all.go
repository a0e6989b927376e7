// Package all registers every collector; import it for its side effect.
package all

import (
	// Registration order is detection order under --source auto. Go
	// initialises imported packages in import-path order, so that is the
	// order below. SendGrid events are never claimed by canonical (an
	// "event" without case_id) or chatwoot (no Chatwoot event name or
	// attribute) — unless a sender attached a custom argument named
	// case_id: read such files with --source sendgrid. Twilio reads only
	// form bodies and JSON strings, which nothing else claims.
	_ "github.com/closedloop/closedloop/ingest/canonical"
	_ "github.com/closedloop/closedloop/ingest/chatwoot"
	_ "github.com/closedloop/closedloop/ingest/meta"
	_ "github.com/closedloop/closedloop/ingest/sendgrid"
	_ "github.com/closedloop/closedloop/ingest/twilio"
)
