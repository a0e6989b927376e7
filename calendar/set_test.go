package calendar

import (
	"strings"
	"testing"
	"time"

	"github.com/closedloop/closedloop/config"
)

func TestSet(t *testing.T) {
	cfg, err := config.Parse([]byte(`
queues:
  support:
    calendar: uk_office
  billing:
    calendar: uk_office
  night_line:
    sla_target: 5m
calendars:
  uk_office:
    - valid_from: 2026-01-01
      timezone: Europe/London
      hours:
        mon: ["09:00-17:00"]
  unused:
    - valid_from: 2026-01-01
      timezone: Asia/Tokyo
`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	london := mustLoc(t, "Europe/London")
	from, to := at(london, "2026-01-12 08:00"), at(london, "2026-01-12 10:00") // a Monday
	tests := []struct {
		queue string
		want  time.Duration
	}{
		{"support", time.Hour},
		{"billing", time.Hour},
		{"night_line", 2 * time.Hour}, // listed without a calendar: 24×7
		{"unlisted", 2 * time.Hour},   // not listed: 24×7
		{"", 2 * time.Hour},
	}
	for _, tt := range tests {
		if got := s.For(tt.queue).BusinessTime(from, to); got != tt.want {
			t.Errorf("For(%q).BusinessTime = %v, want %v", tt.queue, got, tt.want)
		}
	}
	if s.For("support") != s.For("billing") {
		t.Errorf("queues sharing a calendar should share one Calendar")
	}
	if !s.For("unlisted").IsAlwaysOpen() {
		t.Errorf("unlisted queue should be always open")
	}
}

func TestSetDefaultsAndErrors(t *testing.T) {
	for _, cfg := range []*config.Config{nil, config.Default()} {
		s, err := NewSet(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if !s.For("anything").IsAlwaysOpen() {
			t.Errorf("with no queues every queue is always open")
		}
	}
	var nilSet *Set
	if !nilSet.For("x").IsAlwaysOpen() {
		t.Errorf("nil Set should answer always open")
	}
	// A Config changed in code after loading is checked again.
	cfg := config.Default()
	cfg.Queues = map[string]config.Queue{"a": {Calendar: "missing"}, "b": {Calendar: "broken"}}
	cfg.Calendars = map[string][]config.CalendarVersion{"broken": {{ValidFrom: date("2026-01-01"), Timezone: "Nowhere/City"}}}
	_, err := NewSet(cfg)
	for _, want := range []string{
		`queue a: calendar "missing" is not defined under calendars`,
		`queue b: invalid calendar: calendars.broken[0].timezone: unknown time zone "Nowhere/City"`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("NewSet error = %v, want it to contain %q", err, want)
		}
	}
}
