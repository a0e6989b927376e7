package canonical

import (
	"strconv"
	"time"

	"github.com/closedloop/closedloop/models"
)

// eventID returns own (the line's event_id field) when set, else the hash of
// parts: the table name, then the row's normalised values in column order
// (see the package comment for why values rather than raw bytes are hashed).
func eventID(own string, parts ...string) string {
	if own != "" {
		return own
	}
	return models.HashID(parts...)
}

// tsKey is a timestamp's canonical text for hashing: Unix milliseconds, the
// resolution the store keeps, so every spelling of one instant (any offset,
// RFC 3339 or Unix seconds) hashes alike.
func tsKey(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// boolKey is a boolean's canonical text.
func boolKey(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
