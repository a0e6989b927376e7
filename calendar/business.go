package calendar

import (
	"time"
)

// maxSpan caps the span BusinessTime looks at (200 years), so that its
// nanosecond arithmetic cannot overflow; clampSec bounds instants relative
// to the span's start for the same reason.
const (
	maxSpan  int64 = 200 * 366 * day
	clampSec int64 = 250 * 366 * day
	nano     int64 = int64(time.Second)
)

// BusinessTime is the length of the overlap of [from, to) with the opening
// intervals, each computed in the local time of the version in force (see
// the package documentation for versions and DST). It returns 0 when
// to <= from. A nil Calendar is always open. Spans longer than 200 years
// are cut at 200 years.
func (c *Calendar) BusinessTime(from, to time.Time) time.Duration {
	if !from.Before(to) {
		return 0
	}
	if c == nil || c.always {
		return to.Sub(from)
	}
	// Instants are nanoseconds relative to base, the second of from.
	base := from.Unix()
	a := int64(from.Nanosecond())
	b := a + min(int64(to.Sub(from)), maxSpan*nano) // Sub saturates instead of overflowing
	var total int64
	for i := range c.versions {
		v := &c.versions[i]
		lo, hi := a, b
		if i > 0 {
			lo = max(lo, rel(v.start, base))
		}
		if i+1 < len(c.versions) {
			hi = min(hi, rel(c.versions[i+1].start, base))
		}
		if lo < hi {
			total += v.businessTime(base, lo, hi)
		}
	}
	return time.Duration(total)
}

// rel converts a Unix second to nanoseconds after base, clamped to
// ±clampSec so that unbounded zone edges (math.MinInt64) cannot overflow.
func rel(sec, base int64) int64 {
	d := sec - base
	if (sec < 0) != (base < 0) && (d < 0) != (sec < 0) {
		d = sec // the subtraction overflowed; only its sign matters
	}
	return min(max(d, -clampSec), clampSec) * nano
}

// businessTime measures the instants in [a, b) (nanoseconds after base)
// whose local wall time lies in an opening interval of their local date.
// It walks local days; a day far from any offset change converts its
// intervals with one offset, a day near one intersects each interval with
// every zone around it (slowDay).
func (v *version) businessTime(base, a, b int64) int64 {
	aSec := base + floorDiv(a, nano)
	bSec := base + floorDiv(b-1, nano)
	z, _ := v.zones.at(aSec)
	first := floorDiv(aSec+z.off, day)
	if !z.steady(first) {
		first-- // near a change, instants of the span may carry the previous date
	}
	zb := z
	if bSec < z.start || bSec >= z.end {
		zb, _ = v.zones.at(bSec)
	}
	last := floorDiv(bSec+zb.off, day)
	if !zb.steady(last) {
		last++
	}
	var total int64
	for d := first; d <= last; d++ {
		spans := v.hours(d)
		if len(spans) == 0 {
			continue
		}
		mid := d * day
		if !z.steady(d) {
			if nz, ok := v.zones.at(mid - z.off); ok {
				z = nz
			}
		}
		if !z.steady(d) {
			total += v.slowDay(mid, spans, base, a, b)
			continue
		}
		for _, s := range spans {
			total += overlap(mid+s.from-z.off, mid+s.to-z.off, base, a, b)
		}
	}
	return total
}

// slowDay handles a local day near an offset change: each interval's wall
// times are intersected with every zone in reach, so a repeated hour
// counts twice and a skipped one not at all. The pieces never overlap: an
// instant has one wall time, and a day's intervals are disjoint.
func (v *version) slowDay(mid int64, spans []span, base, a, b int64) int64 {
	z, ok := v.zones.at(mid - window)
	if !ok { // outside the table: the offset at the day's start holds all day
		off := offsetAt(v.zones.loc, mid-offsetAt(v.zones.loc, mid))
		var total int64
		for _, s := range spans {
			total += overlap(mid+s.from-off, mid+s.to-off, base, a, b)
		}
		return total
	}
	var total int64
	for {
		for _, s := range spans {
			total += overlap(max(z.start, mid+s.from-z.off), min(z.end, mid+s.to-z.off), base, a, b)
		}
		if z.end >= mid+day+window {
			return total
		}
		if z, ok = v.zones.at(z.end); !ok {
			return total
		}
	}
}

// overlap is the length in nanoseconds of [start, end) (Unix seconds)
// within [a, b) (nanoseconds after base).
func overlap(start, end, base, a, b int64) int64 {
	lo := max(rel(start, base), a)
	hi := min(rel(end, base), b)
	return max(hi-lo, 0)
}
