package config

import (
	"fmt"
	"strings"
	"time"
)

// weekdayKeys are the keys of CalendarVersion.Hours, Monday first.
var weekdayKeys = [7]string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// WeekdayKey returns the Hours key of a weekday ("mon" for time.Monday).
func WeekdayKey(d time.Weekday) string { return weekdayKeys[(int(d)+6)%7] }

// ParseInterval reads "09:00-12:30" into minutes after midnight. "24:00"
// is allowed as an end, so a day can be open until midnight.
func ParseInterval(s string) (from, to int, err error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return 0, 0, fmt.Errorf("%q is not an interval like 09:00-17:30", s)
	}
	if from, err = parseClock(a); err != nil {
		return 0, 0, fmt.Errorf("%q: %w", s, err)
	}
	if from == 24*60 {
		return 0, 0, fmt.Errorf("%q: 24:00 can only end an interval", s)
	}
	if to, err = parseClock(b); err != nil {
		return 0, 0, fmt.Errorf("%q: %w", s, err)
	}
	if to <= from {
		return 0, 0, fmt.Errorf("%q ends before it starts", s)
	}
	return from, to, nil
}

func parseClock(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "24:00" {
		return 24 * 60, nil
	}
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a time like 09:00", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// ValidateCalendar checks one calendar's versions (path is the key path
// used in messages, e.g. "calendars.uk_office"). The calendar package calls
// it so that a calendar built in code obeys the same rules as the file.
func ValidateCalendar(path string, versions []CalendarVersion) error {
	var p problems
	validateCalendar(&p, path, versions)
	return p.err()
}

func validateCalendar(p *problems, path string, versions []CalendarVersion) {
	if len(versions) == 0 {
		p.add(path, "needs at least one version")
	}
	for i, v := range versions {
		vp := fmt.Sprintf("%s[%d]", path, i)
		if v.ValidFrom.IsZero() {
			p.add(vp+".valid_from", "is required")
		}
		if i > 0 && !versions[i-1].ValidFrom.IsZero() && !versions[i-1].ValidFrom.Before(v.ValidFrom) {
			p.add(vp+".valid_from", "must be later than the previous version's (%s)", versions[i-1].ValidFrom)
		}
		validateZone(p, vp+".timezone", v.Timezone)
		for _, day := range sortedKeys(v.Hours) {
			if !isWeekdayKey(day) {
				p.add(vp+".hours."+day, "unknown day (use mon, tue, wed, thu, fri, sat, sun)")
				continue
			}
			validateIntervals(p, vp+".hours."+day, v.Hours[day])
		}
		validateDates(p, vp, v)
	}
}

// validateDates rejects a date listed twice or both as a holiday and as an
// exception: which one wins would be a guess.
func validateDates(p *problems, vp string, v CalendarVersion) {
	holiday := map[Date]bool{}
	for _, h := range v.Holidays {
		holiday[h] = true
	}
	seen := map[Date]int{}
	for j, ex := range v.Exceptions {
		ep := fmt.Sprintf("%s.exceptions[%d]", vp, j)
		switch {
		case ex.Date.IsZero():
			p.add(ep+".date", "is required")
		case holiday[ex.Date]:
			p.add(ep+".date", "%s is also listed under holidays", ex.Date)
		default:
			if k, dup := seen[ex.Date]; dup {
				p.add(ep+".date", "%s already has an exception (exceptions[%d])", ex.Date, k)
			}
			seen[ex.Date] = j
		}
		validateIntervals(p, ep+".hours", ex.Hours)
	}
}

func isWeekdayKey(s string) bool {
	for _, k := range weekdayKeys {
		if s == k {
			return true
		}
	}
	return false
}

// validateIntervals requires each day's intervals in order and disjoint,
// so that business time never counts a minute twice.
func validateIntervals(p *problems, path string, ivs []string) {
	prevEnd := -1
	for i, s := range ivs {
		from, to, err := ParseInterval(s)
		if err != nil {
			p.add(fmt.Sprintf("%s[%d]", path, i), "%v", err)
			continue
		}
		if from < prevEnd {
			p.add(fmt.Sprintf("%s[%d]", path, i), "%q overlaps or precedes the previous interval", s)
		}
		prevEnd = to
	}
}
