package diagnose

import (
	"testing"
	"time"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// Europe/London springs forward on Sunday 2026-03-29 at 01:00 UTC (01:00
// GMT becomes 02:00 BST) and falls back on Sunday 2026-10-25 at 01:00 UTC
// (02:00 BST becomes 01:00 GMT). Hand-computed local buckets:
//
//	2026-03-29T00:59Z → Sun 00 (GMT)     2026-03-29T01:00Z → Sun 02 (BST)
//	2026-03-29T01:30Z → Sun 02           the local hour 01 never happens
//	2026-03-28T23:30Z → Sat 23           2026-03-30T08:15Z → Mon 09
//	2026-10-25T00:30Z → Sun 01 (BST)     2026-10-25T01:30Z → Sun 01 (GMT)
//	2026-10-24T23:30Z → Sun 00 (BST)     2026-10-26T08:15Z → Mon 08 (GMT)
func TestHourOfWeekAcrossDST(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		utc       string
		day, hour int
	}{
		{"2026-03-29T00:59:59Z", 6, 0},
		{"2026-03-29T01:00:00Z", 6, 2},
		{"2026-03-29T01:30:00Z", 6, 2},
		{"2026-03-28T23:30:00Z", 5, 23},
		{"2026-03-30T08:15:00Z", 0, 9},
		{"2026-10-25T00:30:00Z", 6, 1},
		{"2026-10-25T01:30:00Z", 6, 1},
		{"2026-10-24T23:30:00Z", 6, 0},
		{"2026-10-26T08:15:00Z", 0, 8},
	} {
		d, h := HourOfWeek(utc(c.utc), london)
		if d != c.day || h != c.hour {
			t.Errorf("%s: %s %02d, want %s %02d", c.utc, Weekdays[d], h, Weekdays[c.day], c.hour)
		}
	}
}

// The same instants in a map over the two DST weeks: the spring week
// (W13, Mon 23 Mar – Sun 29 Mar, 167 hours) and the autumn week (W43, Mon
// 19 Oct – Sun 25 Oct, 169 hours), with two weeks in between ignored.
func TestDemandMapAcrossDST(t *testing.T) {
	london, _ := time.LoadLocation("Europe/London")
	w13 := time.Date(2026, 3, 23, 0, 0, 0, 0, london)
	w14 := time.Date(2026, 3, 30, 0, 0, 0, 0, london)
	w43 := time.Date(2026, 10, 19, 0, 0, 0, 0, london)
	w44 := time.Date(2026, 10, 26, 0, 0, 0, 0, london)
	cases := []DemandCase{
		{utc("2026-03-29T00:59:59Z"), "billing", "collections"},
		{utc("2026-03-29T01:00:00Z"), "billing", "collections"},
		{utc("2026-03-29T01:30:00Z"), "payments", "payments"},
		{utc("2026-03-22T23:59:59Z"), "billing", "collections"}, // Sun 22 Mar 23:59 GMT: before the period
		{utc("2026-03-23T00:00:00Z"), "billing", ""},            // Mon 00:00 GMT: first instant
		{utc("2026-10-25T00:30:00Z"), "billing", "collections"},
		{utc("2026-10-25T01:30:00Z"), "payments", "payments"},
		{utc("2026-10-25T23:59:59Z"), "billing", "collections"}, // Sun 23:59 GMT: last second of W43
		{utc("2026-10-26T00:00:00Z"), "billing", "collections"}, // Mon 26 Oct: at the end, excluded
	}
	starts := []time.Time{w13, w14, w14.AddDate(0, 0, 7), w43}
	d := BuildDemand(cases, london, starts, w44, 1)
	if d.Cases != 7 {
		t.Fatalf("%d cases in the map, want 7", d.Cases)
	}
	h := d.Heatmap
	if h[6][0] != 1 || h[6][1] != 2 || h[6][2] != 2 || h[0][0] != 1 || h[6][23] != 1 {
		t.Errorf("heatmap Sun 00..02 = %d %d %d, Mon 00 = %d, Sun 23 = %d; want 1 2 2, 1, 1",
			h[6][0], h[6][1], h[6][2], h[0][0], h[6][23])
	}
	if d.Peak != "Sun 01:00" || d.PeakCases != 2 {
		t.Errorf("peak %s (%d), want the earliest busiest hour Sun 01:00 (2)", d.Peak, d.PeakCases)
	}
	if d.ByCategory[0].Key != "billing" || d.ByCategory[0].Cases != 5 || d.ByCategory[1].Key != "payments" {
		t.Errorf("by category %+v", d.ByCategory)
	}
	if b := d.ByCategory[0].Heatmap; b[6][0] != 1 || b[6][1] != 1 || b[6][2] != 1 || b[0][0] != 1 || b[6][23] != 1 || d.ByCategory[0].Peak != "Mon 00:00" {
		t.Errorf("billing's own map: Sun 00..02 = %d %d %d, peak %s", b[6][0], b[6][1], b[6][2], d.ByCategory[0].Peak)
	}
	if c := d.WithoutSliceMaps(); c.ByCategory[0].Heatmap != nil || c.ByCategory[0].Peak != "Mon 00:00" || d.ByCategory[0].Heatmap == nil || c.Heatmap != d.Heatmap {
		t.Error("WithoutSliceMaps must drop the slices' maps of a copy only")
	}
	if len(d.ByQueue) != 3 || d.ByQueue[2].Key != "(none)" {
		t.Errorf("by queue %+v", d.ByQueue)
	}
	if d.Volume[0] != (CategoryQueue{"billing", "collections", 4}) {
		t.Errorf("volume %+v", d.Volume)
	}
	want := []string{"2026-W13", "2026-W14", "2026-W15", "2026-W43"}
	for i, w := range want {
		if d.Weeks[i] != w {
			t.Errorf("week %d = %s, want %s", i, d.Weeks[i], w)
		}
	}
	// Top 1 category's trend: billing, 3 cases in W13 (the Mon 00:00 case
	// and the two Sunday-night ones), 2 in the last bucket (W43 onwards).
	if len(d.Trend) != 1 || d.Trend[0].Category != "billing" || d.Trend[0].Cases[0] != 3 || d.Trend[0].Cases[3] != 2 {
		t.Errorf("trend %+v", d.Trend)
	}
	if d.From != "2026-03-23" || d.To != "2026-10-26" || d.Timezone != "Europe/London" {
		t.Errorf("period %s – %s %s", d.From, d.To, d.Timezone)
	}
}
