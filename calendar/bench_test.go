package calendar

import (
	"testing"
	"time"

	"github.com/closedloop/closedloop/config"
)

// The common call: a reply within minutes, both instants in one local day.
func BenchmarkBusinessTimeShort(b *testing.B) {
	c := mustNew(b, ukOffice())
	from := at(mustLoc(b, "Europe/London"), "2026-06-10 10:03")
	to := from.Add(7 * time.Minute)
	b.ReportAllocs()
	for b.Loop() {
		c.BusinessTime(from, to)
	}
}

// A wait over a night and into the next day.
func BenchmarkBusinessTimeOvernight(b *testing.B) {
	c := mustNew(b, ukOffice())
	from := at(mustLoc(b, "Europe/London"), "2026-06-10 17:55")
	to := from.Add(16 * time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		c.BusinessTime(from, to)
	}
}

// A wait of three weeks.
func BenchmarkBusinessTimeThreeWeeks(b *testing.B) {
	c := mustNew(b, ukOffice())
	from := at(mustLoc(b, "Europe/London"), "2026-06-10 17:55")
	to := from.Add(21 * 24 * time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		c.BusinessTime(from, to)
	}
}

// A year, crossing both DST changes, the holidays and the exceptions.
func BenchmarkBusinessTimeYear(b *testing.B) {
	c := mustNew(b, ukOffice())
	from := at(mustLoc(b, "Europe/London"), "2026-01-01 00:00")
	to := from.AddDate(1, 0, 0)
	b.ReportAllocs()
	for b.Loop() {
		c.BusinessTime(from, to)
	}
}

// A short span on the night the clocks go back (the slow path).
func BenchmarkBusinessTimeDSTNight(b *testing.B) {
	c := mustNew(b, config.CalendarVersion{ValidFrom: date("2026-01-01"), Timezone: "Europe/London",
		Hours: allDays("00:00-24:00")})
	from := at(time.UTC, "2026-10-25 00:30")
	to := from.Add(time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		c.BusinessTime(from, to)
	}
}

// Short spans under a calendar with two versions and a 2040 date, where
// offsets come from the zone's rule rather than its transition list.
func BenchmarkBusinessTimeShortVersioned2040(b *testing.B) {
	c := mustNew(b,
		config.CalendarVersion{ValidFrom: date("2030-01-01"), Timezone: "America/New_York", Hours: allDays("09:00-17:00")},
		config.CalendarVersion{ValidFrom: date("2035-01-01"), Timezone: "America/New_York", Hours: allDays("08:00-18:00")},
	)
	from := at(mustLoc(b, "America/New_York"), "2040-06-12 10:03")
	to := from.Add(7 * time.Minute)
	b.ReportAllocs()
	for b.Loop() {
		c.BusinessTime(from, to)
	}
}

func BenchmarkAlwaysOpen(b *testing.B) {
	c := AlwaysOpen()
	from := time.Date(2026, 6, 10, 10, 3, 0, 0, time.UTC)
	to := from.Add(7 * time.Minute)
	for b.Loop() {
		c.BusinessTime(from, to)
	}
}

// Building a calendar builds its zone table once.
func BenchmarkNew(b *testing.B) {
	v := ukOffice()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New([]config.CalendarVersion{v}); err != nil {
			b.Fatal(err)
		}
	}
}
