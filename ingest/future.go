package ingest

import (
	"fmt"
	"time"

	"github.com/closedloop/closedloop/models"
)

// MaxFuture is how far after the ingest time an event may be stamped. A
// clock a little fast is tolerated; anything later is a wrong clock or a
// wrong unit, and the document is rejected rather than let it skew every
// figure up to that date.
const MaxFuture = 24 * time.Hour

// futureLimit is the latest acceptable event time for a run: MaxFuture
// after the ingest time, or after the wall clock when the environment's
// time is earlier (tests fix Env.Now in the past for stable rows).
func futureLimit(now time.Time) time.Time {
	if wall := time.Now(); wall.After(now) {
		now = wall
	}
	return now.Add(MaxFuture)
}

// futureReason returns why one of recs is stamped after limit, or "".
// The reason names the timestamp but not the limit, so that re-ingesting
// the same document later gives the same reject (and event_id).
func futureReason(recs []models.Record, limit time.Time) string {
	for _, r := range recs {
		ts, ok := models.EventTime(r)
		if ok && ts.After(limit) {
			return fmt.Sprintf("%s timestamp %s is in the future (more than %d h after the ingest time)",
				r.Table(), ts.UTC().Format(time.RFC3339Nano), int(MaxFuture.Hours()))
		}
	}
	return ""
}
