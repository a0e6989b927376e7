package diagnose

import (
	"fmt"
	"sort"
	"time"
)

// DemandCase is one case for the demand map: when it opened, and its
// category and queue.
type DemandCase struct {
	Opened   time.Time
	Category string
	Queue    string
}

// Weekdays are the heatmap's rows, Monday first (ISO weeks).
var Weekdays = []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

// HourOfWeek buckets an instant by its local weekday (0 = Monday) and
// local hour in loc. Local time comes from time.In, so the buckets follow
// DST changes: on the spring-forward night the skipped hour gets no cases,
// on the fall-back night the repeated hour gets both.
func HourOfWeek(t time.Time, loc *time.Location) (day, hour int) {
	lt := t.In(loc)
	return (int(lt.Weekday()) + 6) % 7, lt.Hour()
}

// Heatmap counts cases per local weekday (rows, Monday first) and hour.
type Heatmap [7][24]int64

// Slice is the demand of one category or queue.
type Slice struct {
	Key   string `json:"key"`
	Cases int64  `json:"cases"`
	// Heatmap is the slice's own map (nil once dropped with WithoutSliceMaps).
	Heatmap *Heatmap `json:"heatmap,omitempty"`
	// Peak is the busiest hour of the week ("Tue 10:00") and PeakCases its count.
	Peak      string `json:"peak"`
	PeakCases int64  `json:"peak_cases"`
}

// CategoryQueue is the volume of one category in one queue.
type CategoryQueue struct {
	Category string `json:"category"`
	Queue    string `json:"queue"`
	Cases    int64  `json:"cases"`
}

// TrendSeries is one category's cases per week.
type TrendSeries struct {
	Category string  `json:"category"`
	Cases    []int64 `json:"cases"`
}

// Demand is the demand map of a period.
type Demand struct {
	From     string `json:"from"`
	To       string `json:"to"`
	Timezone string `json:"timezone"`
	Cases    int64  `json:"cases"`
	// Heatmap is all cases by local weekday (Mon..Sun) and hour (0..23).
	Heatmap    Heatmap         `json:"heatmap"`
	Peak       string          `json:"peak"`
	PeakCases  int64           `json:"peak_cases"`
	ByCategory []Slice         `json:"by_category"`
	ByQueue    []Slice         `json:"by_queue"`
	Volume     []CategoryQueue `json:"by_category_and_queue"`
	// Weeks label the trend's weeks (ISO week of each start); Trend holds
	// the top categories' cases opened per week.
	Weeks []string      `json:"trend_weeks"`
	Trend []TrendSeries `json:"trend"`
}

// BuildDemand maps the cases opened in [weekStarts[0], end) by local hour
// of the week, category and queue, and counts the top categories (by
// volume over the whole period) per week; weekStarts are the weeks' first
// instants in order, the last week ends at end. Cases outside the period
// are ignored. Categories and queues missing on a case count as "(none)".
func BuildDemand(cases []DemandCase, loc *time.Location, weekStarts []time.Time, end time.Time, top int) *Demand {
	if loc == nil {
		loc = time.UTC
	}
	d := &Demand{Timezone: loc.String()}
	if len(weekStarts) == 0 {
		return d
	}
	start := weekStarts[0]
	d.From, d.To = start.In(loc).Format(time.DateOnly), end.In(loc).Format(time.DateOnly)
	for _, w := range weekStarts {
		y, wk := w.In(loc).ISOWeek()
		d.Weeks = append(d.Weeks, isoWeek(y, wk))
	}
	cats, queues := map[string]*Slice{}, map[string]*Slice{}
	vol := map[[2]string]int64{}
	weekly := map[string][]int64{}
	slice := func(m map[string]*Slice, k string) *Slice {
		s, ok := m[k]
		if !ok {
			s = &Slice{Key: k, Heatmap: &Heatmap{}}
			m[k] = s
		}
		return s
	}
	for _, c := range cases {
		if c.Opened.Before(start) || !c.Opened.Before(end) {
			continue
		}
		cat, q := orNone(c.Category), orNone(c.Queue)
		day, hour := HourOfWeek(c.Opened, loc)
		d.Cases++
		d.Heatmap[day][hour]++
		for _, s := range []*Slice{slice(cats, cat), slice(queues, q)} {
			s.Cases++
			s.Heatmap[day][hour]++
		}
		vol[[2]string{cat, q}]++
		w := sort.Search(len(weekStarts), func(i int) bool { return weekStarts[i].After(c.Opened) }) - 1
		if weekly[cat] == nil {
			weekly[cat] = make([]int64, len(weekStarts))
		}
		weekly[cat][w]++
	}
	d.Peak, d.PeakCases = peak(d.Heatmap)
	d.ByCategory, d.ByQueue = slices(cats), slices(queues)
	for k, n := range vol {
		d.Volume = append(d.Volume, CategoryQueue{k[0], k[1], n})
	}
	sort.Slice(d.Volume, func(i, j int) bool {
		a, b := d.Volume[i], d.Volume[j]
		if a.Cases != b.Cases {
			return a.Cases > b.Cases
		}
		if a.Category != b.Category {
			return a.Category < b.Category
		}
		return a.Queue < b.Queue
	})
	for i, s := range d.ByCategory {
		if i >= top {
			break
		}
		d.Trend = append(d.Trend, TrendSeries{Category: s.Key, Cases: weekly[s.Key]})
	}
	return d
}

// WithoutSliceMaps drops the per-category and per-queue heatmaps (their
// peaks stay), for a compact copy such as the pack's data section.
func (d *Demand) WithoutSliceMaps() *Demand {
	c := *d
	strip := func(in []Slice) []Slice {
		out := make([]Slice, len(in))
		for i, s := range in {
			s.Heatmap = nil
			out[i] = s
		}
		return out
	}
	c.ByCategory, c.ByQueue = strip(d.ByCategory), strip(d.ByQueue)
	return &c
}

// slices orders slices by volume (descending), then key, with their peaks.
func slices(m map[string]*Slice) []Slice {
	out := make([]Slice, 0, len(m))
	for _, s := range m {
		s.Peak, s.PeakCases = peak(*s.Heatmap)
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Cases != out[j].Cases {
			return out[i].Cases > out[j].Cases
		}
		return out[i].Key < out[j].Key
	})
	return out
}

// peak is the busiest hour of the week, the earliest of equal ones.
func peak(h Heatmap) (string, int64) {
	var best int64
	bd, bh := -1, 0
	for d := range h {
		for hr, n := range h[d] {
			if n > best {
				best, bd, bh = n, d, hr
			}
		}
	}
	if bd < 0 {
		return "", 0
	}
	return Weekdays[bd] + " " + twoDigits(bh) + ":00", best
}

func twoDigits(n int) string { return fmt.Sprintf("%02d", n) }

func isoWeek(y, w int) string { return fmt.Sprintf("%04d-W%02d", y, w) }

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
