// Package all registers every collector; import it for its side effect.
package all

import (
	// Registration order is detection order under --source auto.
	_ "github.com/closedloop/closedloop/ingest/canonical"
	_ "github.com/closedloop/closedloop/ingest/chatwoot"
	_ "github.com/closedloop/closedloop/ingest/meta"
)
