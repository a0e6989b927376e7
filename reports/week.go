package reports

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

var weekRe = regexp.MustCompile(`^(\d{4})-W(\d{2})$`)

// ParseWeek reads an ISO week "YYYY-Www" and returns its Monday 00:00 and
// the next Monday 00:00 in loc (DST-correct: calendar days, not 168 hours).
func ParseWeek(s string, loc *time.Location) (time.Time, time.Time, error) {
	m := weekRe.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, time.Time{}, fmt.Errorf("--week %q is not an ISO week like 2026-W09", s)
	}
	y, _ := strconv.Atoi(m[1])
	w, _ := strconv.Atoi(m[2])
	// ISO week 1 is the week with January 4th.
	jan4 := time.Date(y, time.January, 4, 0, 0, 0, 0, loc)
	monday := jan4.AddDate(0, 0, -((int(jan4.Weekday()) + 6) % 7))
	from := monday.AddDate(0, 0, 7*(w-1))
	if gy, gw := from.ISOWeek(); w < 1 || gy != y || gw != w {
		return time.Time{}, time.Time{}, fmt.Errorf("--week %q: %d has no ISO week %d", s, y, w)
	}
	return from, from.AddDate(0, 0, 7), nil
}

// WeekOf names the ISO week a local time falls in.
func WeekOf(t time.Time) string {
	y, w := t.ISOWeek()
	return fmt.Sprintf("%04d-W%02d", y, w)
}

// LastFullWeek is the ISO week before the one containing t (in loc).
func LastFullWeek(t time.Time, loc *time.Location) string {
	return WeekOf(t.In(loc).AddDate(0, 0, -7))
}
