package calendar

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/closedloop/closedloop/config"
)

// Calendar is one queue's calendar with its version history.
type Calendar struct {
	always   bool
	versions []version // sorted by start
}

// span is an opening interval in seconds after local midnight; to may be
// 24h (an interval open until midnight).
type span struct{ from, to int64 }

// version is one CalendarVersion prepared for computation.
type version struct {
	validFrom                 config.Date
	start                     int64 // Unix second at which validFrom begins locally (first instant at or after 00:00)
	zones                     *zoneTable
	week                      [7][]span        // indexed by time.Weekday
	special                   map[int64][]span // local day → hours of an exception, or none for a holiday
	firstSpecial, lastSpecial int64
}

// AlwaysOpen returns the 24×7 calendar of a queue with none configured:
// business time equals calendar time.
func AlwaysOpen() *Calendar { return &Calendar{always: true} }

// New builds a calendar from its versions in any order: they are sorted by
// valid_from, then validated by the same rules as the configuration file
// (version indexes in error messages count in valid_from order).
func New(versions []config.CalendarVersion) (*Calendar, error) {
	return build("calendar", versions, map[string]*zoneTable{})
}

// build names the calendar by its key path in error messages; calendars
// built together share the zone tables of their time zones.
func build(path string, versions []config.CalendarVersion, tables map[string]*zoneTable) (*Calendar, error) {
	sorted := append([]config.CalendarVersion(nil), versions...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].ValidFrom.Before(sorted[j].ValidFrom) })
	if err := config.ValidateCalendar(path, sorted); err != nil {
		return nil, fmt.Errorf("invalid calendar: %w", err)
	}
	c := &Calendar{versions: make([]version, len(sorted))}
	for i, cv := range sorted {
		v, err := newVersion(cv, tables)
		if err != nil {
			return nil, fmt.Errorf("building %s version valid from %s: %w", path, cv.ValidFrom, err)
		}
		if i > 0 && v.start <= c.versions[i-1].start {
			return nil, fmt.Errorf("building %s: version valid from %s (%s) does not start after the version valid from %s",
				path, cv.ValidFrom, cv.Timezone, c.versions[i-1].validFrom)
		}
		c.versions[i] = v
	}
	return c, nil
}

func newVersion(cv config.CalendarVersion, tables map[string]*zoneTable) (version, error) {
	zt := tables[cv.Timezone]
	if zt == nil {
		loc, err := time.LoadLocation(cv.Timezone)
		if err != nil {
			return version{}, fmt.Errorf("loading time zone: %w", err)
		}
		zt = newZoneTable(loc)
		tables[cv.Timezone] = zt
	}
	v := version{validFrom: cv.ValidFrom, zones: zt, special: map[int64][]span{},
		firstSpecial: math.MaxInt64, lastSpecial: math.MinInt64}
	v.start = zt.firstAtOrAfter(dayNumber(cv.ValidFrom) * day)
	for wd := time.Sunday; wd <= time.Saturday; wd++ {
		spans, err := parseSpans(cv.Hours[config.WeekdayKey(wd)])
		if err != nil {
			return version{}, fmt.Errorf("hours of %s: %w", config.WeekdayKey(wd), err)
		}
		v.week[wd] = spans
	}
	for _, h := range cv.Holidays {
		v.setSpecial(dayNumber(h), []span{})
	}
	for _, ex := range cv.Exceptions {
		spans, err := parseSpans(ex.Hours)
		if err != nil {
			return version{}, fmt.Errorf("exception %s: %w", ex.Date, err)
		}
		v.setSpecial(dayNumber(ex.Date), spans)
	}
	return v, nil
}

func (v *version) setSpecial(d int64, spans []span) {
	if spans == nil {
		spans = []span{}
	}
	v.special[d] = spans
	v.firstSpecial = min(v.firstSpecial, d)
	v.lastSpecial = max(v.lastSpecial, d)
}

func parseSpans(ivs []string) ([]span, error) {
	var out []span
	for _, s := range ivs {
		from, to, err := config.ParseInterval(s)
		if err != nil {
			return nil, err
		}
		out = append(out, span{int64(from) * 60, int64(to) * 60})
	}
	return out, nil
}

// dayNumber counts days from 1970-01-01 to a calendar date.
func dayNumber(d config.Date) int64 {
	return floorDiv(time.Date(d.Y, time.Month(d.M), d.D, 0, 0, 0, 0, time.UTC).Unix(), day)
}

// hours returns the opening intervals of local day d.
func (v *version) hours(d int64) []span {
	if d >= v.firstSpecial && d <= v.lastSpecial {
		if s, ok := v.special[d]; ok {
			return s
		}
	}
	return v.week[(d%7+7+4)%7] // 1970-01-01 was a Thursday
}

// IsAlwaysOpen reports whether business time equals calendar time.
func (c *Calendar) IsAlwaysOpen() bool { return c == nil || c.always }
