package ingest

import (
	"time"
	"unicode/utf8"

	"github.com/closedloop/closedloop/models"
)

// CheckDecoded returns why a document that its collector accepted must be
// rejected all the same, or "" when its records may be stored: bytes or
// decoded values that are not UTF-8 (the store would keep NULLs, or refuse
// the whole batch when the column is required) and events stamped more
// than MaxFuture after now. Run applies it to every document; code that calls a
// collector's Decode itself (the webhook receiver) should too, with the
// time the document was received.
func CheckDecoded(doc Doc, recs []models.Record, now time.Time) string {
	if !utf8.Valid(doc.Raw) {
		return invalidUTF8Reason(doc.Raw)
	}
	if r := futureReason(recs, futureLimit(now)); r != "" {
		return r
	}
	return invalidStringReason(recs)
}

// NewReject builds the rejects row Run stores for a document: the reason
// and a copy of the input (at most MaxRawBytes) with customer numbers
// replaced by their pseudonyms, and an event_id that makes re-ingesting the
// same bad input add nothing.
func NewReject(env *Env, source, ref, reason string, raw []byte) *models.Reject {
	r := &models.Reject{Reason: redact(reason, env.Pseudo), Raw: rejectRaw(raw, env.Pseudo)}
	r.Source = source
	r.SourceRef = ref
	r.IngestedAt = env.Now
	r.EventID = models.HashID(source, ref, r.Reason, r.Raw)
	return r
}
