package transforms

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"time"

	"github.com/closedloop/closedloop/store"
)

// Ensure brings the facts up to date when they are missing, were built for
// another cutoff, or the raw tables changed since: incrementally when the
// previous build allows it (see Update), else in full. It reports whether
// it changed them.
func Ensure(ctx context.Context, st store.Store, cal Calendars, cutoff time.Time) (bool, error) {
	cutoff = cutoff.UTC().Truncate(time.Millisecond)
	s, ok, err := LoadState(ctx, st.DB())
	if err != nil {
		return false, err
	}
	if ok && s.AsOf.Equal(cutoff) {
		wm, err := stateWatermark(ctx, st.DB(), st.Dialect(), cal)
		if err != nil {
			return false, err
		}
		if wm == s.Watermark {
			return false, nil
		}
	}
	_, err = Update(ctx, st, cal, cutoff, false)
	return err == nil, err
}

// AlwaysOpen is the calendar of a deployment without configured calendars:
// business time equals calendar time and every queue has the same target.
type AlwaysOpen struct{ Target time.Duration }

// BusinessTime implements Calendars.
func (a AlwaysOpen) BusinessTime(_ string, from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	return to.Sub(from)
}

// SLATarget implements Calendars.
func (a AlwaysOpen) SLATarget(string) time.Duration { return a.Target }

// Fingerprinter is implemented by calendars whose configuration can change
// between runs; the facts depend on it (business time, targets).
type Fingerprinter interface{ Fingerprint() string }

// stateWatermark is the raw-table watermark plus the calendar fingerprint
// and a digest of the fact-building SQL, so a changed calendar, target or
// transform definition also makes the facts stale.
func stateWatermark(ctx context.Context, db *sql.DB, dialect string, cal Calendars) (string, error) {
	wm, err := Watermark(ctx, db)
	if err != nil {
		return "", err
	}
	_, steps, err := transformSteps(dialect)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, s := range steps {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	wm += ";sql=" + hex.EncodeToString(h.Sum(nil)[:8])
	if f, ok := cal.(Fingerprinter); ok {
		wm += ";calendars=" + f.Fingerprint()
	}
	if _, ok := cal.(FunnelSettings); ok {
		wm += ";fallback_wait=" + fallbackWait(cal).String()
	}
	return wm, nil
}

// CurrentWatermark is what the facts' watermark would be if built now; a
// facts state with another watermark is stale.
func CurrentWatermark(ctx context.Context, st store.Store, cal Calendars) (string, error) {
	return stateWatermark(ctx, st.DB(), st.Dialect(), cal)
}
