package calendar

import (
	"math"
	"time"
)

// zone is a stretch of real time with one UTC offset.
type zone struct {
	start, end int64 // [start, end) in Unix seconds; math.MinInt64/MaxInt64 when unbounded
	off        int64 // seconds east of UTC
}

// zoneTable lists a location's offsets as contiguous zones, adjacent zones
// always differing in offset (a change of abbreviation alone is no change
// for business time).
type zoneTable struct {
	loc  *time.Location
	list []zone
}

// The table covers these instants (1970-01-01 and 2100-01-01 UTC);
// outside them, lookups report !ok.
const (
	tableFrom int64 = 0
	tableTo   int64 = 4102444800
)

const day = 24 * 60 * 60

func offsetAt(loc *time.Location, sec int64) int64 {
	_, off := time.Unix(sec, 0).In(loc).Zone()
	return int64(off)
}

// newZoneTable walks the location's transitions. time.Time.ZoneBounds is
// only a hint: for years computed from a zone's rule it can return an end
// a day early or not after the instant asked about, so every boundary is
// checked against the offsets themselves and, when wrong, found by
// bisection.
func newZoneTable(loc *time.Location) *zoneTable {
	zt := &zoneTable{loc: loc}
	t := tableFrom
	cur := zone{start: t, off: offsetAt(loc, t)}
	if s, _ := time.Unix(t, 0).In(loc).ZoneBounds(); s.IsZero() {
		cur.start = math.MinInt64 // no change before: the zone reaches back forever
	}
	for {
		_, e := time.Unix(t, 0).In(loc).ZoneBounds()
		if e.IsZero() {
			cur.end = math.MaxInt64 // no change ahead
			break
		}
		next := e.Unix()
		if next <= t {
			next = t + day
		}
		if next > tableTo {
			next = max(t+1, tableTo)
		}
		if offsetAt(loc, next) == cur.off {
			t = next
			if t >= tableTo {
				cur.end = t
				break
			}
			continue
		}
		change := firstChange(loc, t, next, cur.off)
		cur.end = change
		zt.list = append(zt.list, cur)
		cur = zone{start: change, off: offsetAt(loc, change)}
		t = change
	}
	zt.list = append(zt.list, cur)
	return zt
}

// firstChange returns the first second in (lo, hi] whose offset is not off,
// given that lo has offset off and hi does not.
func firstChange(loc *time.Location, lo, hi, off int64) int64 {
	if offsetAt(loc, hi-1) == off {
		return hi
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if offsetAt(loc, mid) == off {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}

// at returns the zone containing instant sec; ok is false outside the table.
func (zt *zoneTable) at(sec int64) (zone, bool) {
	l := zt.list
	if sec < l[0].start || sec >= l[len(l)-1].end {
		return zone{start: sec, end: sec, off: offsetAt(zt.loc, sec)}, false
	}
	lo, hi := 0, len(l)-1
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if l[mid].end <= sec {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return l[lo], true
}

// margin is how far a zone must extend beyond a local day for every wall
// time of that day to occur exactly once, at wall - offset. Offsets are
// within ±15h, so an occurrence in a neighbouring zone lies within 30h of
// the day; 36h leaves room.
const margin = 36 * 60 * 60

// steady reports whether local day d (days since 1970-01-01) lies well
// inside z, so that its wall times convert with z's offset alone.
func (z zone) steady(d int64) bool {
	mid := d * day
	return z.start <= mid-z.off-margin && mid+day-z.off+margin <= z.end
}

// window bounds where a wall time can occur: offsets are within ±15h.
const window = 16 * 60 * 60

// firstAtOrAfter returns the first instant (Unix seconds) at which the
// clocks show wall time w (seconds since 1970-01-01 00:00 local) or later:
// the first occurrence when w repeats, the instant of the jump when the
// clocks skip w.
func (zt *zoneTable) firstAtOrAfter(w int64) int64 {
	z, ok := zt.at(w - window)
	best := int64(math.MaxInt64)
	for ok {
		if c := max(z.start, w-z.off); c < z.end {
			best = min(best, c)
		}
		if z.end >= w+window {
			return best
		}
		z, ok = zt.at(z.end)
	}
	if best != math.MaxInt64 {
		return best
	}
	return w - offsetAt(zt.loc, w-offsetAt(zt.loc, w)) // outside the table
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
