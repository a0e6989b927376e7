package duckdb

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"github.com/closedloop/closedloop/models"
)

// Dedup keys (migration 0005): every stored event's id is also kept in
// event_keys_<table> as the first 128 bits of its SHA-256, two UBIGINTs.
// A load's duplicate check scans those 16 bytes per stored event rather
// than the 64-character ids, so it stays cheap as the store grows. 128
// bits of SHA-256 identify an event as surely as the whole id does.

// eventKey is an event id's dedup key.
type eventKey struct{ k1, k2 uint64 }

// keyOf returns the key of an event id: the id's own first 128 bits when it
// is a lowercase SHA-256 hex (every collector's ids are), else those of its
// SHA-256. sqlKeys computes the same in SQL.
func keyOf(id string) eventKey {
	var b [16]byte
	if isSHA256Hex(id) {
		hex.Decode(b[:], []byte(id[:32])) //nolint:errcheck // checked by isSHA256Hex
	} else {
		sum := sha256.Sum256([]byte(id))
		copy(b[:], sum[:16])
	}
	return eventKey{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// sqlKeys returns SQL expressions of the two key columns of the event id
// column col, computed as keyOf does.
func sqlKeys(col string) (k1, k2 string) {
	h := fmt.Sprintf("(CASE WHEN regexp_full_match(%[1]s, '[0-9a-f]{64}') THEN %[1]s ELSE sha256(%[1]s) END)", col)
	return "('0x' || substr(" + h + ", 1, 16))::UBIGINT", "('0x' || substr(" + h + ", 17, 16))::UBIGINT"
}

// keyTable names a raw table's key table.
func keyTable(t models.Table) string { return "event_keys_" + string(t) }
