package calendar

import (
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // tests must not depend on the host's zone database

	"github.com/closedloop/closedloop/config"
)

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustNew(t testing.TB, versions ...config.CalendarVersion) *Calendar {
	t.Helper()
	c, err := New(versions)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func date(s string) config.Date {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return config.Date{Y: t.Year(), M: int(t.Month()), D: t.Day()}
}

// ukOffice is the example calendar of SPEC §4a: a lunch break on Mondays,
// Christmas holidays, a short Christmas Eve and a closed New Year's Eve.
func ukOffice() config.CalendarVersion {
	return config.CalendarVersion{
		ValidFrom: date("2026-01-01"),
		Timezone:  "Europe/London",
		Hours: map[string][]string{
			"mon": {"09:00-12:30", "13:30-18:00"},
			"tue": {"09:00-18:00"},
			"wed": {"09:00-18:00"},
			"thu": {"09:00-18:00"},
			"fri": {"09:00-17:00"},
		},
		Holidays: []config.Date{date("2026-05-04"), date("2026-12-25"), date("2026-12-26")},
		Exceptions: []config.Exception{
			{Date: date("2026-12-24"), Hours: []string{"09:00-13:00"}},
			{Date: date("2026-12-31"), Hours: []string{}},
			{Date: date("2026-03-07"), Hours: []string{"10:00-12:00"}}, // a Saturday opened for a campaign
		},
	}
}

// at parses local wall time "2006-01-02 15:04[:05]" in loc.
func at(loc *time.Location, s string) time.Time {
	layout := "2006-01-02 15:04"
	if strings.Count(s, ":") == 2 {
		layout += ":05"
	}
	t, err := time.ParseInLocation(layout, s, loc)
	if err != nil {
		panic(err)
	}
	return t
}

type span2 struct {
	name     string
	from, to string // local wall times in the calendar's zone
	want     time.Duration
}

func runSpans(t *testing.T, c *Calendar, loc *time.Location, tests []span2) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, to := at(loc, tt.from), at(loc, tt.to)
			if got := c.BusinessTime(from, to); got != tt.want {
				t.Errorf("BusinessTime(%s, %s) = %v, want %v", from, to, got, tt.want)
			}
		})
	}
}

func TestBusinessTimeUKOffice(t *testing.T) {
	c := mustNew(t, ukOffice())
	london := mustLoc(t, "Europe/London")
	// 2026-01-05 is a Monday; 2026-01-09 a Friday.
	runSpans(t, c, london, []span2{
		{"inside opening hours", "2026-01-06 10:00", "2026-01-06 10:15", 15 * time.Minute},
		{"across a weekend", "2026-01-09 16:50", "2026-01-12 09:10", 20 * time.Minute},
		{"overnight", "2026-01-06 17:30", "2026-01-07 09:30", time.Hour},
		{"across the lunch break", "2026-01-12 12:20", "2026-01-12 13:40", 20 * time.Minute},
		{"starting in the lunch break", "2026-01-12 12:45", "2026-01-12 13:35", 5 * time.Minute},
		{"wholly in the lunch break", "2026-01-12 12:31", "2026-01-12 13:29", 0},
		{"before opening", "2026-01-06 07:00", "2026-01-06 09:30", 30 * time.Minute},
		{"wholly on a weekend", "2026-01-10 08:00", "2026-01-11 20:00", 0},
		{"three weeks", "2026-01-05 00:00", "2026-01-26 00:00", 3 * (8 + 9 + 9 + 9 + 8) * time.Hour},
		{"a year", "2026-01-01 00:00", "2027-01-01 00:00", yearOfUKOffice},
		// 2026-05-04 (Monday) is a holiday.
		{"across a holiday", "2026-05-01 16:55", "2026-05-05 09:05", 10 * time.Minute},
		{"on a holiday", "2026-05-04 10:00", "2026-05-04 11:00", 0},
		// 2026-12-24 (Thursday) closes at 13:00; 25 and 26 are holidays.
		{"on a short exception day", "2026-12-24 12:00", "2026-12-24 17:00", time.Hour},
		{"across exception, holidays and weekend", "2026-12-24 12:50", "2026-12-28 09:10", 20 * time.Minute},
		// 2026-12-31 (Thursday) is closed by an exception with no hours.
		{"across a closed exception", "2026-12-30 17:55", "2027-01-01 09:05", 10 * time.Minute},
		// 2026-03-07 is a Saturday opened 10:00-12:00.
		{"an exception opening a Saturday", "2026-03-07 00:00", "2026-03-08 23:59", 2 * time.Hour},
		// Boundaries: intervals are half-open [open, close).
		{"from exactly at closing", "2026-01-09 17:00", "2026-01-12 09:00", 0},
		{"from exactly at opening", "2026-01-06 09:00", "2026-01-06 09:00:01", time.Second},
		{"to exactly at closing", "2026-01-09 16:00", "2026-01-09 17:00", time.Hour},
		{"to exactly at opening", "2026-01-06 08:00", "2026-01-06 09:00", 0},
		{"lunch break boundaries", "2026-01-12 12:30", "2026-01-12 13:30", 0},
		{"from == to", "2026-01-06 10:00", "2026-01-06 10:00", 0},
		{"from > to", "2026-01-06 11:00", "2026-01-06 10:00", 0},
	})
}

// yearOfUKOffice is 2026 under ukOffice, counted by hand: 52 weeks and
// Thursday 2026-01-01 (9h) give 52 × 43h + 9h = 2245h; minus the holiday
// Monday 2026-05-04 (8h) and Friday 2026-12-25 (8h; Saturday 26 is closed
// anyway); minus 5h on Christmas Eve (4h instead of 9h); minus 9h on
// New Year's Eve; plus 2h on Saturday 2026-03-07.
const yearOfUKOffice = (52*43+9-8-8-5-9+2)*time.Hour + 0

func TestSubSecondPrecision(t *testing.T) {
	c := mustNew(t, ukOffice())
	london := mustLoc(t, "Europe/London")
	from := at(london, "2026-01-06 08:59:59").Add(999 * time.Millisecond)
	to := at(london, "2026-01-06 09:00:00").Add(1500 * time.Microsecond)
	if got := c.BusinessTime(from, to); got != 1500*time.Microsecond {
		t.Errorf("got %v, want 1.5ms", got)
	}
	// Instants in another zone are the same instants.
	if got := c.BusinessTime(from.UTC(), to.In(mustLoc(t, "Asia/Tokyo"))); got != 1500*time.Microsecond {
		t.Errorf("zone of the arguments changed the result: %v", got)
	}
}

func TestAlwaysOpen(t *testing.T) {
	c := AlwaysOpen()
	london := mustLoc(t, "Europe/London")
	tests := []struct{ from, to string }{
		{"2026-01-06 10:00", "2026-01-06 10:15"},
		{"2026-03-28 12:00", "2026-03-30 12:00"}, // across spring-forward: 47 real hours
		{"2026-10-24 12:00", "2026-10-26 12:00"}, // across fall-back: 49 real hours
		{"2026-01-01 00:00", "2027-01-01 00:00"},
	}
	for _, tt := range tests {
		from, to := at(london, tt.from), at(london, tt.to)
		if got := c.BusinessTime(from, to); got != to.Sub(from) {
			t.Errorf("AlwaysOpen.BusinessTime(%s, %s) = %v, want %v", tt.from, tt.to, got, to.Sub(from))
		}
	}
	from := at(london, "2026-01-06 10:00")
	if got := c.BusinessTime(from, from.Add(-time.Hour)); got != 0 {
		t.Errorf("from > to: %v", got)
	}
	if !c.IsAlwaysOpen() || mustNew(t, ukOffice()).IsAlwaysOpen() {
		t.Errorf("IsAlwaysOpen wrong")
	}
	var nilCal *Calendar
	if got := nilCal.BusinessTime(from, from.Add(time.Hour)); got != time.Hour {
		t.Errorf("nil calendar: %v", got)
	}
}

// TestCalendarChange checks valid_from: earlier periods keep the calendar
// that was in force, and the change happens at 00:00 local time.
func TestCalendarChange(t *testing.T) {
	old := config.CalendarVersion{
		ValidFrom: date("2025-01-01"),
		Timezone:  "Europe/London",
		Hours: map[string][]string{
			"mon": {"08:00-20:00"}, "tue": {"08:00-20:00"}, "wed": {"08:00-20:00"},
			"thu": {"08:00-20:00"}, "fri": {"08:00-20:00"}, "sat": {"09:00-13:00"},
		},
	}
	// Versions are given out of order on purpose: New sorts them.
	c := mustNew(t, ukOffice(), old)
	london := mustLoc(t, "Europe/London")
	runSpans(t, c, london, []span2{
		{"a Saturday under the old calendar", "2025-12-27 10:00", "2025-12-27 11:00", time.Hour},
		{"a Saturday under the new calendar", "2026-01-03 10:00", "2026-01-03 11:00", 0},
		{"an evening under the old calendar", "2025-12-30 18:00", "2025-12-30 21:00", 2 * time.Hour},
		{"an evening under the new calendar", "2026-01-06 18:00", "2026-01-06 21:00", 0},
		// Wed 2025-12-31 19:00-20:00 (old) + Thu 2026-01-01 09:00-18:00 (new)
		// + Fri 2026-01-02 09:00-09:30.
		{"across the change", "2025-12-31 19:00", "2026-01-02 09:30", 10*time.Hour + 30*time.Minute},
		{"before the first version", "2024-06-01 10:00", "2024-06-01 11:00", time.Hour}, // first version applies (a Saturday)
	})
}

// TestCalendarChangeOwnZone checks that a version starts at 00:00 of its
// valid_from in its own time zone, not in the previous version's.
func TestCalendarChangeOwnZone(t *testing.T) {
	c := mustNew(t,
		config.CalendarVersion{ValidFrom: date("2025-01-01"), Timezone: "America/New_York", Hours: allDays("00:00-24:00")},
		config.CalendarVersion{ValidFrom: date("2026-01-01"), Timezone: "Asia/Tokyo"}, // closed every day
	)
	utc := time.UTC
	// The Tokyo version starts at 2026-01-01 00:00 JST = 2025-12-31 15:00 UTC.
	runSpans(t, c, utc, []span2{
		{"switch at Tokyo midnight", "2025-12-31 12:00", "2025-12-31 18:00", 3 * time.Hour},
		{"after the switch", "2026-01-01 00:00", "2026-01-10 00:00", 0},
	})
}

func allDays(iv ...string) map[string][]string {
	m := map[string][]string{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		m[d] = iv
	}
	return m
}

func TestNewRejectsInvalid(t *testing.T) {
	tests := []struct {
		name string
		v    []config.CalendarVersion
		want string
	}{
		{"no versions", nil, "calendar: needs at least one version"},
		{"bad zone", []config.CalendarVersion{{ValidFrom: date("2026-01-01"), Timezone: "Nowhere/City"}},
			`calendar[0].timezone: unknown time zone "Nowhere/City"`},
		{"bad interval", []config.CalendarVersion{{ValidFrom: date("2026-01-01"), Timezone: "UTC",
			Hours: map[string][]string{"mon": {"18:00-09:00"}}}}, `calendar[0].hours.mon[0]: "18:00-09:00" ends before it starts`},
		{"same valid_from", []config.CalendarVersion{{ValidFrom: date("2026-01-01"), Timezone: "UTC"},
			{ValidFrom: date("2026-01-01"), Timezone: "UTC"}}, "calendar[1].valid_from: must be later"},
		{"starts out of order across zones", []config.CalendarVersion{
			{ValidFrom: date("2026-01-01"), Timezone: "Pacific/Pago_Pago"},  // 2026-01-01 11:00 UTC
			{ValidFrom: date("2026-01-02"), Timezone: "Pacific/Kiritimati"}, // 2026-01-01 10:00 UTC
		}, "does not start after"},
	}
	for _, tt := range tests {
		_, err := New(tt.v)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: New error = %v, want it to contain %q", tt.name, err, tt.want)
		}
	}
}

// TestExtremeInstants checks that absurd arguments (a zero time.Time, the
// far future) neither hang nor overflow.
func TestExtremeInstants(t *testing.T) {
	c := mustNew(t, ukOffice())
	now := time.Date(2026, 6, 10, 12, 0, 0, 0, time.UTC)
	start := time.Now()
	got := c.BusinessTime(time.Time{}, now)
	if got <= 0 || got > 200*366*24*time.Hour {
		t.Errorf("BusinessTime(zero, now) = %v", got)
	}
	far := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := c.BusinessTime(far, far.Add(24*time.Hour)); got != 8*time.Hour { // 9999-01-01 is a Friday
		t.Errorf("BusinessTime on 9999-01-01 = %v, want 8h", got)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("extreme spans took %v", time.Since(start))
	}
}
