package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

var weekdays = map[string]bool{"mon": true, "tue": true, "wed": true, "thu": true, "fri": true, "sat": true, "sun": true}

// ParseInterval reads "09:00-12:30" into minutes after midnight.
func ParseInterval(s string) (from, to int, err error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return 0, 0, fmt.Errorf("%q is not an interval like 09:00-17:30", s)
	}
	if from, err = parseClock(a); err != nil {
		return 0, 0, fmt.Errorf("%q: %w", s, err)
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

func validateCalendar(path string, versions []CalendarVersion) []error {
	var errs []error
	add := func(p, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", p, fmt.Sprintf(format, a...)))
	}
	if len(versions) == 0 {
		add(path, "needs at least one version")
	}
	for i, v := range versions {
		vp := fmt.Sprintf("%s[%d]", path, i)
		if v.ValidFrom.IsZero() {
			add(vp+".valid_from", "is required")
		}
		if i > 0 && !versions[i-1].ValidFrom.IsZero() && v.ValidFrom.String() <= versions[i-1].ValidFrom.String() {
			add(vp+".valid_from", "must be later than the previous version's (%s)", versions[i-1].ValidFrom)
		}
		if v.Timezone == "" {
			add(vp+".timezone", "is required")
		} else if _, err := time.LoadLocation(v.Timezone); err != nil {
			add(vp+".timezone", "unknown time zone %q", v.Timezone)
		}
		for _, day := range sortedKeys(v.Hours) {
			if !weekdays[day] {
				add(vp+".hours."+day, "unknown day (use mon, tue, wed, thu, fri, sat, sun)")
				continue
			}
			errs = append(errs, validateIntervals(vp+".hours."+day, v.Hours[day])...)
		}
		for j, ex := range v.Exceptions {
			ep := fmt.Sprintf("%s.exceptions[%d]", vp, j)
			if ex.Date.IsZero() {
				add(ep+".date", "is required")
			}
			errs = append(errs, validateIntervals(ep+".hours", ex.Hours)...)
		}
	}
	return errs
}

func validateIntervals(path string, ivs []string) []error {
	var errs []error
	prevEnd := -1
	for i, s := range ivs {
		from, to, err := ParseInterval(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s[%d]: %v", path, i, err))
			continue
		}
		if from < prevEnd {
			errs = append(errs, fmt.Errorf("%s[%d]: %q overlaps or precedes the previous interval", path, i, s))
		}
		prevEnd = to
	}
	return errs
}

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSchedule parses a cron expression (CRON_TZ= prefix allowed).
func ParseSchedule(expr string) (cron.Schedule, error) { return cronParser.Parse(expr) }

func (s Schedules) validate() []error {
	var errs []error
	for _, f := range []struct{ key, v string }{{"transform", s.Transform}, {"collect", s.Collect}, {"weekly_pack", s.WeeklyPack}} {
		if f.v == "" {
			continue
		}
		if _, err := ParseSchedule(f.v); err != nil {
			errs = append(errs, fmt.Errorf("schedules.%s: %v", f.key, err))
		}
	}
	return errs
}
