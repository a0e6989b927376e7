package gen

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the simulation must not depend on the host's zone database
)

// span is an opening interval in minutes after local midnight.
type span struct{ from, to int }

// calendar is a queue's weekly opening hours in its own time zone. The
// simulator uses it to decide when agents answer; the KPI side has its own
// calendars (configured), which should match the ones documented in
// world.go for the SLA figures to mean what the simulation intended.
type calendar struct {
	loc  *time.Location
	days [7][]span // indexed by time.Weekday
}

// newCalendar builds a calendar from "HH:MM-HH:MM" intervals per weekday.
func newCalendar(tz string, hours map[time.Weekday][]string) (calendar, error) {
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return calendar{}, fmt.Errorf("loading time zone %s: %w", tz, err)
	}
	c := calendar{loc: loc}
	for wd := time.Sunday; wd <= time.Saturday; wd++ {
		for _, h := range hours[wd] {
			s, err := parseSpan(h)
			if err != nil {
				return calendar{}, fmt.Errorf("calendar %s %s: %w", tz, wd, err)
			}
			c.days[wd] = append(c.days[wd], s)
		}
	}
	return c, nil
}

func parseSpan(s string) (span, error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return span{}, fmt.Errorf("interval %q is not HH:MM-HH:MM", s)
	}
	from, err1 := parseClock(a)
	to, err2 := parseClock(b)
	if err1 != nil || err2 != nil || to <= from {
		return span{}, fmt.Errorf("interval %q is not HH:MM-HH:MM with start before end", s)
	}
	return span{from, to}, nil
}

func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	if !ok {
		return 0, fmt.Errorf("clock %q is not HH:MM", s)
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 24 || mm < 0 || mm > 59 {
		return 0, fmt.Errorf("clock %q is not HH:MM", s)
	}
	return hh*60 + mm, nil
}

// local returns the instant in the calendar's zone.
func (c *calendar) local(ms int64) time.Time { return time.UnixMilli(ms).In(c.loc) }

// open reports whether the queue is staffed at ms.
func (c *calendar) open(ms int64) bool {
	lt := c.local(ms)
	mins := lt.Hour()*60 + lt.Minute()
	for _, s := range c.days[lt.Weekday()] {
		if mins >= s.from && mins < s.to {
			return true
		}
	}
	return false
}

// addBusiness returns the instant at which d milliseconds of opening time
// have elapsed after ms (the next opening plus d when ms is outside hours).
// Local wall-clock intervals are converted with time.Date, so DST changes
// shorten or lengthen the day the way a real rota does.
func (c *calendar) addBusiness(ms, d int64) int64 {
	t := c.local(ms)
	for day := 0; day < 28; day++ {
		y, m, dd := t.Date()
		for _, s := range c.days[t.Weekday()] {
			st := time.Date(y, m, dd, s.from/60, s.from%60, 0, 0, c.loc).UnixMilli()
			en := time.Date(y, m, dd, s.to/60, s.to%60, 0, 0, c.loc).UnixMilli()
			if ms >= en {
				continue
			}
			if ms < st {
				ms = st
			}
			if ms+d <= en {
				return ms + d
			}
			d -= en - ms
			ms = en
		}
		t = time.Date(y, m, dd+1, 0, 0, 0, 0, c.loc)
		if next := t.UnixMilli(); next > ms {
			ms = next
		}
	}
	return ms + d // a calendar without hours: fall back to wall time
}
