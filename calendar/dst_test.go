package calendar

import (
	"testing"
	"time"

	"github.com/closedloop/closedloop/config"
)

// TestDSTDays measures whole local days on which the clocks change, with
// opening hours on those days only. Expected values are counted by hand:
//
//	Europe/London    2026-03-29 01:00 GMT → 02:00 BST (01:00-02:00 never happens)
//	Europe/London    2026-10-25 02:00 BST → 01:00 GMT (01:00-02:00 happens twice)
//	America/New_York 2026-03-08 02:00 EST → 03:00 EDT (02:00-03:00 never happens)
//	America/New_York 2026-11-01 02:00 EDT → 01:00 EST (01:00-02:00 happens twice)
func TestDSTDays(t *testing.T) {
	tests := []struct {
		zone, day string
		hours     string
		want      time.Duration
	}{
		{"Europe/London", "2026-03-29", "00:00-24:00", 23 * time.Hour},
		{"Europe/London", "2026-03-29", "01:00-03:00", 1 * time.Hour},           // only 02:00-03:00 BST
		{"Europe/London", "2026-03-29", "01:00-02:00", 0},                       // skipped entirely
		{"Europe/London", "2026-03-29", "01:30-02:30", 30 * time.Minute},        // 02:00-02:30 BST
		{"Europe/London", "2026-03-29", "09:00-17:00", 8 * time.Hour},           // unaffected
		{"Europe/London", "2026-10-25", "00:00-24:00", 25 * time.Hour},          //
		{"Europe/London", "2026-10-25", "01:00-02:00", 2 * time.Hour},           // BST hour + GMT hour
		{"Europe/London", "2026-10-25", "01:00-03:00", 3 * time.Hour},           // 2h + 02:00-03:00 GMT
		{"Europe/London", "2026-10-25", "01:30-02:30", 90 * time.Minute},        // 30m BST + 30m GMT + 30m GMT
		{"Europe/London", "2026-10-25", "00:30-01:30", 90 * time.Minute},        // 00:30-01:30 BST + 01:00-01:30 GMT
		{"Europe/London", "2026-10-25", "09:00-17:00", 8 * time.Hour},           //
		{"America/New_York", "2026-03-08", "00:00-24:00", 23 * time.Hour},       //
		{"America/New_York", "2026-03-08", "01:00-03:00", 1 * time.Hour},        // only 01:00-02:00 EST
		{"America/New_York", "2026-03-08", "02:00-03:00", 0},                    // skipped entirely
		{"America/New_York", "2026-03-08", "02:30-04:00", 1 * time.Hour},        // 03:00-04:00 EDT
		{"America/New_York", "2026-03-08", "09:00-17:00", 8 * time.Hour},        //
		{"America/New_York", "2026-11-01", "00:00-24:00", 25 * time.Hour},       //
		{"America/New_York", "2026-11-01", "01:00-02:00", 2 * time.Hour},        // EDT hour + EST hour
		{"America/New_York", "2026-11-01", "01:00-03:00", 3 * time.Hour},        // 2h + 02:00-03:00 EST
		{"America/New_York", "2026-11-01", "02:00-03:00", 1 * time.Hour},        // happens once, in EST
		{"America/New_York", "2026-11-01", "00:00-01:00", 1 * time.Hour},        // before the change
		{"America/New_York", "2026-11-01", "09:00-17:00", 8 * time.Hour},        //
		{"Australia/Lord_Howe", "2026-04-05", "01:00-03:00", 150 * time.Minute}, // 30-minute DST: 01:30-02:00 twice
	}
	for _, tt := range tests {
		t.Run(tt.zone+" "+tt.day+" "+tt.hours, func(t *testing.T) {
			loc := mustLoc(t, tt.zone)
			d := date(tt.day)
			c := mustNew(t, config.CalendarVersion{
				ValidFrom:  date("2020-01-01"),
				Timezone:   tt.zone,
				Exceptions: []config.Exception{{Date: d, Hours: []string{tt.hours}}},
			})
			from := time.Date(d.Y, time.Month(d.M), d.D, 0, 0, 0, 0, loc)
			to := time.Date(d.Y, time.Month(d.M), d.D+1, 0, 0, 0, 0, loc)
			if got := c.BusinessTime(from, to); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			// Whole days before and after add nothing: only the exception is open.
			if got := c.BusinessTime(from.Add(-72*time.Hour), to.Add(72*time.Hour)); got != tt.want {
				t.Errorf("with surrounding days: got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestDSTSpans measures spans given as UTC instants, which is how events
// arrive, inside and across the repeated and the skipped hours.
func TestDSTSpans(t *testing.T) {
	weekdays := map[string][]string{"mon": {"09:00-17:00"}, "tue": {"09:00-17:00"}, "wed": {"09:00-17:00"},
		"thu": {"09:00-17:00"}, "fri": {"09:00-17:00"}, "sun": {"01:00-02:00"}}
	london := mustNew(t, config.CalendarVersion{ValidFrom: date("2026-01-01"), Timezone: "Europe/London", Hours: weekdays})
	newYork := mustNew(t, config.CalendarVersion{ValidFrom: date("2026-01-01"), Timezone: "America/New_York", Hours: weekdays})
	tests := []struct {
		name     string
		c        *Calendar
		from, to string // UTC
		want     time.Duration
	}{
		// London fall-back: 01:00-02:00 local is 00:00-01:00 UTC (BST) and 01:00-02:00 UTC (GMT).
		{"London first pass", london, "2026-10-25 00:00", "2026-10-25 01:00", time.Hour},
		{"London second pass", london, "2026-10-25 01:00", "2026-10-25 02:00", time.Hour},
		{"London straddling the change", london, "2026-10-25 00:30", "2026-10-25 01:30", time.Hour},
		{"London whole night", london, "2026-10-24 20:00", "2026-10-25 06:00", 2 * time.Hour},
		// London spring-forward: 01:00-02:00 local does not exist.
		{"London spring night", london, "2026-03-28 20:00", "2026-03-29 06:00", 0},
		// A weekday wait across the spring change: Fri 2026-03-27 12:00 GMT
		// to Mon 2026-03-30 12:00 BST (11:00 UTC): 5h Friday + 3h Monday.
		{"London weekend across spring", london, "2026-03-27 12:00", "2026-03-30 11:00", 8 * time.Hour},
		// New York fall-back: 01:00-02:00 local is 05:00-06:00 UTC (EDT) and 06:00-07:00 UTC (EST).
		{"New York first pass", newYork, "2026-11-01 05:00", "2026-11-01 06:00", time.Hour},
		{"New York second pass", newYork, "2026-11-01 06:00", "2026-11-01 07:00", time.Hour},
		{"New York whole night", newYork, "2026-11-01 00:00", "2026-11-01 12:00", 2 * time.Hour},
		// New York spring: Sunday 01:00-02:00 EST is 06:00-07:00 UTC and exists.
		{"New York spring night", newYork, "2026-03-08 00:00", "2026-03-08 12:00", time.Hour},
		// Weekday hours shift by an hour in UTC across the change:
		// Fri 2026-03-06 09:00-17:00 EST = 14:00-22:00 UTC; Mon 2026-03-09 09:00-17:00 EDT = 13:00-21:00 UTC.
		{"New York Friday evening UTC", newYork, "2026-03-06 21:00", "2026-03-06 23:00", time.Hour},
		{"New York Monday morning UTC", newYork, "2026-03-09 12:00", "2026-03-09 14:00", time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, to := at(time.UTC, tt.from), at(time.UTC, tt.to)
			if got := tt.c.BusinessTime(from, to); got != tt.want {
				t.Errorf("BusinessTime(%s, %s) = %v, want %v", tt.from, tt.to, got, tt.want)
			}
		})
	}
}
