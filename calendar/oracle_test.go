package calendar

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/closedloop/closedloop/config"
)

// The oracle defines business time independently of the implementation:
// a real minute counts when the queue is open during it, and the queue is
// open at instant t when the wall-clock time of t, in the zone of the
// version in force, lies in an opening interval of t's local date. Offsets
// of the zones below are whole minutes, so openness is constant within a
// UTC minute and counting minutes is exact.

func oracleOpen(vs []config.CalendarVersion, locs []*time.Location, t time.Time) bool {
	i := 0
	for j := 1; j < len(vs); j++ {
		if !localDate(t.In(locs[j])).Before(vs[j].ValidFrom) {
			i = j
		}
	}
	v, l := vs[i], t.In(locs[i])
	d := localDate(l)
	hours := v.Hours[config.WeekdayKey(l.Weekday())]
	for _, h := range v.Holidays {
		if h == d {
			hours = nil
		}
	}
	for _, ex := range v.Exceptions {
		if ex.Date == d {
			hours = ex.Hours
		}
	}
	m := l.Hour()*60 + l.Minute()
	for _, iv := range hours {
		from, to, err := config.ParseInterval(iv)
		if err != nil {
			panic(err)
		}
		if from <= m && m < to {
			return true
		}
	}
	return false
}

func localDate(t time.Time) config.Date {
	return config.Date{Y: t.Year(), M: int(t.Month()), D: t.Day()}
}

func oracle(vs []config.CalendarVersion, locs []*time.Location, from, to time.Time) time.Duration {
	n := 0
	for t := from; t.Before(to); t = t.Add(time.Minute) {
		if oracleOpen(vs, locs, t) {
			n++
		}
	}
	return time.Duration(n) * time.Minute
}

// oracleZones mix DST rules: northern and southern hemisphere, 30-minute
// DST (Lord_Howe), odd offsets (Kathmandu, Chatham, St_Johns), changes at
// midnight (Havana, Santiago), negative DST (Dublin), Ramadan changes
// (Casablanca) and no DST at all.
var oracleZones = []string{
	"Europe/London", "America/New_York", "Australia/Sydney", "Australia/Lord_Howe",
	"Asia/Kathmandu", "Pacific/Chatham", "America/St_Johns", "America/Havana",
	"America/Santiago", "Europe/Dublin", "Africa/Casablanca", "Asia/Tokyo", "UTC",
}

// oracleYears include 2040 and 2041, past the zone files' explicit
// transitions, where time.ZoneBounds misreports bounds in leap years.
var oracleYears = []int{2026, 2027, 2040, 2041}

func TestBusinessTimeMatchesOracle(t *testing.T) {
	cases := 1500
	if testing.Short() {
		cases = 150
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < cases; i++ {
		vs, locs := randomCalendar(t, rng)
		c, err := New(vs)
		if err != nil {
			t.Fatalf("case %d: %v\n%+v", i, err, vs)
		}
		from, to := randomSpan(rng, locs[0], vs)
		got, want := c.BusinessTime(from, to), oracle(vs, locs, from, to)
		if got != want {
			t.Fatalf("case %d: BusinessTime(%s, %s) = %v, oracle %v\ncalendar %+v",
				i, from.UTC(), to.UTC(), got, want, vs)
		}
		// Splitting a span anywhere never changes the sum.
		mid := from.Add(time.Duration(rng.Int64N(int64(to.Sub(from)) + 1)))
		if sum := c.BusinessTime(from, mid) + c.BusinessTime(mid, to); sum != got {
			t.Fatalf("case %d: split at %s: %v + ... = %v, whole %v", i, mid.UTC(), c.BusinessTime(from, mid), sum, got)
		}
	}
}

func randomCalendar(t *testing.T, rng *rand.Rand) ([]config.CalendarVersion, []*time.Location) {
	year := oracleYears[rng.IntN(len(oracleYears))]
	n := 1 + rng.IntN(2)
	var vs []config.CalendarVersion
	var locs []*time.Location
	for k := 0; k < n; k++ {
		zone := oracleZones[rng.IntN(len(oracleZones))]
		// The second version starts somewhere in the year, so spans cross it sometimes.
		vf := config.Date{Y: year - 1, M: 12, D: 1}
		if k == 1 {
			vf = config.Date{Y: year, M: 1 + rng.IntN(12), D: 1 + rng.IntN(28)}
		}
		v := config.CalendarVersion{ValidFrom: vf, Timezone: zone, Hours: map[string][]string{}}
		for _, wd := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
			if ivs := randomIntervals(rng); ivs != nil {
				v.Hours[wd] = ivs
			}
		}
		for j := rng.IntN(8); j > 0; j-- {
			d := randomDate(rng, year)
			if rng.IntN(2) == 0 {
				v.Holidays = append(v.Holidays, d)
			} else {
				v.Exceptions = append(v.Exceptions, config.Exception{Date: d, Hours: randomIntervals(rng)})
			}
		}
		v.Holidays, v.Exceptions = dedupeDates(v.Holidays, v.Exceptions)
		vs = append(vs, v)
		locs = append(locs, mustLoc(t, zone))
	}
	return vs, locs
}

// randomIntervals favours the small hours, where clocks change.
func randomIntervals(rng *rand.Rand) []string {
	switch rng.IntN(6) {
	case 0:
		return nil
	case 1:
		return []string{"00:00-24:00"}
	}
	var out []string
	m := rng.IntN(4) * 30
	for k := 1 + rng.IntN(3); k > 0 && m < 24*60; k-- {
		from := m + rng.IntN(8)*15
		to := from + 15 + rng.IntN(16)*15
		if from >= 24*60 {
			break
		}
		to = min(to, 24*60)
		out = append(out, clock(from)+"-"+clock(to))
		m = to + rng.IntN(4)*15
	}
	return out
}

func clock(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// randomDate picks a date, often near the usual DST weekends.
func randomDate(rng *rand.Rand, year int) config.Date {
	months := []int{3, 4, 9, 10, 11, 1 + rng.IntN(12)}
	return config.Date{Y: year, M: months[rng.IntN(len(months))], D: 1 + rng.IntN(28)}
}

func dedupeDates(hs []config.Date, exs []config.Exception) ([]config.Date, []config.Exception) {
	seen := map[config.Date]bool{}
	var h2 []config.Date
	for _, h := range hs {
		if !seen[h] {
			seen[h] = true
			h2 = append(h2, h)
		}
	}
	var e2 []config.Exception
	for _, e := range exs {
		if !seen[e.Date] {
			seen[e.Date] = true
			e2 = append(e2, e)
		}
	}
	return h2, e2
}

// randomSpan picks minute-aligned spans, mostly near one of the zone's
// offset changes, of up to five days; a few are longer.
func randomSpan(rng *rand.Rand, loc *time.Location, vs []config.CalendarVersion) (time.Time, time.Time) {
	year := vs[0].ValidFrom.Y + 1
	start := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
	if changes := offsetChanges(loc, year); len(changes) > 0 && rng.IntN(4) > 0 {
		start = changes[rng.IntN(len(changes))].Add(-time.Duration(rng.IntN(3*24*60)) * time.Minute)
	} else {
		start = start.Add(time.Duration(rng.IntN(365*24*60)) * time.Minute)
	}
	length := time.Duration(rng.IntN(5*24*60)) * time.Minute
	if rng.IntN(50) == 0 {
		length = time.Duration(rng.IntN(60*24*60)) * time.Minute
	}
	return start, start.Add(length)
}

// offsetChanges finds the instants a zone changes offset in a year, by
// scanning hours and then minutes (independently of the zone table).
func offsetChanges(loc *time.Location, year int) []time.Time {
	var out []time.Time
	t := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
	end := t.AddDate(1, 0, 0)
	_, prev := t.In(loc).Zone()
	for ; t.Before(end); t = t.Add(time.Hour) {
		next := t.Add(time.Hour)
		if _, off := next.In(loc).Zone(); off != prev {
			for m := t; !m.After(next); m = m.Add(time.Minute) {
				if _, o := m.In(loc).Zone(); o != prev {
					out = append(out, m)
					break
				}
			}
			prev = off
		}
	}
	return out
}

// TestZoneTableMatchesTimePackage checks every zone's table against the
// offsets the time package reports, hour by hour, across the range where
// Go's own ZoneBounds is unreliable.
func TestZoneTableMatchesTimePackage(t *testing.T) {
	step := time.Hour
	if testing.Short() {
		step = 7 * time.Hour
	}
	for _, name := range oracleZones {
		zt := newZoneTable(mustLoc(t, name))
		for i := 1; i < len(zt.list); i++ {
			if zt.list[i].start != zt.list[i-1].end || zt.list[i].off == zt.list[i-1].off {
				t.Fatalf("%s: zones %d and %d not contiguous or not merged: %+v %+v", name, i-1, i, zt.list[i-1], zt.list[i])
			}
		}
		for _, year := range []int{1971, 2026, 2040, 2099} {
			from := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
			for tm := from; tm.Before(from.AddDate(1, 0, 0)); tm = tm.Add(step) {
				_, want := tm.In(zt.loc).Zone()
				z, ok := zt.at(tm.Unix())
				if !ok || z.off != int64(want) {
					t.Fatalf("%s at %s: table offset %d (ok %v), time package %d", name, tm, z.off, ok, want)
				}
			}
		}
	}
}
