package transforms

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/closedloop/closedloop/store"
)

// Dimensions a KPI can be cut by.
var Dimensions = []string{"queue", "category", "workflow", "week"}

// Request asks for KPIs over [From, To) as of Cutoff.
type Request struct {
	From, To time.Time
	Cutoff   time.Time
	Loc      *time.Location // for week buckets
	By       string         // "" or one of Dimensions
	Only     []string       // KPI names; empty = all
}

// Count is one row of a breakdown.
type Count struct {
	Key   string `json:"key"`
	Count int64  `json:"count"`
}

// Figure is one KPI value for one group.
type Figure struct {
	KPI         string   `json:"kpi"`
	Version     int      `json:"version"`
	Kind        Kind     `json:"kind"`
	Group       string   `json:"group,omitempty"`
	Value       *float64 `json:"value"`
	Numerator   int64    `json:"numerator"`
	Denominator *int64   `json:"denominator"`
	Unit        string   `json:"unit,omitempty"`
	Immature    bool     `json:"immature,omitempty"`
	Breakdown   []Count  `json:"breakdown,omitempty"`
	// Case ids behind the numerator and the denominator (drill-down).
	NumeratorCases   []string `json:"numerator_cases,omitempty"`
	DenominatorCases []string `json:"denominator_cases,omitempty"`
	// Units are the ids of what was counted (cases, messages, waits, resolutions).
	NumeratorUnits   []string `json:"-"`
	DenominatorUnits []string `json:"-"`
	Definition       string   `json:"definition"`
}

// unitRow is one row of a KPI's SQL.
type unitRow struct {
	unit, caseID    string
	periodTS        time.Time
	den, num        bool
	value           *float64
	detail          string
	queue, category string
	workflow        string
}

// Compute evaluates the KPIs on the store's current facts. Call Ensure
// first so the facts reflect req.Cutoff.
func Compute(ctx context.Context, st store.Store, req Request) ([]Figure, error) {
	defs, err := Definitions(st.Dialect())
	if err != nil {
		return nil, err
	}
	if req.Loc == nil {
		req.Loc = time.UTC
	}
	want := map[string]bool{}
	for _, n := range req.Only {
		want[n] = true
	}
	var out []Figure
	for _, d := range defs {
		if len(want) > 0 && !want[d.Name] && !want[d.Name+"_p50"] && !want[d.Name+"_p90"] {
			continue
		}
		rows, err := units(ctx, st, d, req)
		if err != nil {
			return nil, err
		}
		out = append(out, figures(d, rows, req)...)
	}
	return out, nil
}

func units(ctx context.Context, st store.Store, d Definition, req Request) ([]unitRow, error) {
	dl := dialectFor(st.Dialect())
	q := fmt.Sprintf(dl.unitsQuery, d.SQL)
	rs, err := st.DB().QueryContext(ctx, q, dl.timeArg(req.From.UTC()), dl.timeArg(req.To.UTC()), dl.timeArg(req.Cutoff.UTC()))
	if err != nil {
		return nil, fmt.Errorf("computing %s: %w", d.Name, err)
	}
	defer rs.Close()
	var out []unitRow
	for rs.Next() {
		var r unitRow
		var v *float64
		var period dbTime
		if err := rs.Scan(&r.unit, &r.caseID, &period, &r.den, &r.num, &v, &r.detail, &r.queue, &r.category, &r.workflow); err != nil {
			return nil, fmt.Errorf("reading %s: %w", d.Name, err)
		}
		if !period.Valid {
			return nil, fmt.Errorf("reading %s: period_ts is NULL", d.Name)
		}
		r.value = v
		r.periodTS = period.Time
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", d.Name, err)
	}
	return out, nil
}

// groupKey places a unit in its --by group.
func groupKey(r unitRow, by string, loc *time.Location) string {
	var k string
	switch by {
	case "queue":
		k = r.queue
	case "category":
		k = r.category
	case "workflow":
		k = r.workflow
	case "week":
		y, w := r.periodTS.In(loc).ISOWeek()
		k = fmt.Sprintf("%04d-W%02d", y, w)
	default:
		return ""
	}
	if k == "" {
		return "(none)"
	}
	return k
}

func figures(d Definition, rows []unitRow, req Request) []Figure {
	groups := map[string][]unitRow{}
	var keys []string
	if req.By == "" {
		groups[""] = rows
		keys = []string{""}
	} else {
		for _, r := range rows {
			k := groupKey(r, req.By, req.Loc)
			if _, ok := groups[k]; !ok {
				keys = append(keys, k)
			}
			groups[k] = append(groups[k], r)
		}
		sort.Strings(keys)
	}
	immature := immatureAt(d, req)
	var out []Figure
	for _, k := range keys {
		out = append(out, d.figuresOf(k, immature, tallyRows(d, groups[k]))...)
	}
	return out
}

// immatureAt says whether d's figures for the period of req are immature:
// the cutoff is less than d.ImmatureDays past the period's end.
func immatureAt(d Definition, req Request) bool {
	return d.ImmatureDays > 0 && req.Cutoff.Before(req.To.Add(time.Duration(d.ImmatureDays)*24*time.Hour))
}

// tally is what the figures of one group are made of: counts of units,
// the nearest-rank percentiles of their values, the breakdown by detail
// and, for the drill-down, the cases and units behind the counts.
type tally struct {
	den, num int64 // units in the denominator; of those, in the numerator
	n        int64 // denominator units with a value
	p50, p90 float64
	details  map[string]int64 // denominator units by non-empty detail
	// Sorted ids, nil when the tally was aggregated in the database.
	numCases, denCases, numUnits, denUnits []string
}

// tallyRows counts one group's unit rows. A unit counts in the numerator
// only when it is in the denominator.
func tallyRows(d Definition, rows []unitRow) tally {
	var t tally
	numCases, denCases := map[string]bool{}, map[string]bool{}
	t.details = map[string]int64{}
	var values []float64
	for _, r := range rows {
		if !r.den {
			continue
		}
		t.den++
		t.denUnits = append(t.denUnits, r.unit)
		if r.caseID != "" {
			denCases[r.caseID] = true
		}
		if r.value != nil {
			values = append(values, *r.value)
		}
		if r.num {
			t.num++
			t.numUnits = append(t.numUnits, r.unit)
			if r.caseID != "" {
				numCases[r.caseID] = true
			}
		}
		// Only KPIs that declare a breakdown fill detail for the units it
		// breaks down (failed templates, handed-over cases).
		if d.Breakdown != "" && r.detail != "" {
			t.details[r.detail]++
		}
	}
	t.numCases = sortedSet(numCases)
	t.denCases = sortedSet(denCases)
	sort.Strings(t.numUnits)
	sort.Strings(t.denUnits)
	if d.Kind != KindPercentile {
		return t
	}
	sort.Float64s(values)
	if t.n = int64(len(values)); t.n > 0 {
		t.p50 = values[NearestRank(0.5, len(values))-1]
		t.p90 = values[NearestRank(0.9, len(values))-1]
	}
	return t
}

// figuresOf turns one group's tally into d's figures: one, or p50 and
// p90 for a percentile KPI.
func (d Definition) figuresOf(group string, immature bool, t tally) []Figure {
	base := Figure{KPI: d.Name, Version: d.Version, Kind: d.Kind, Group: group, Immature: immature,
		Definition: d.Definition, Unit: d.Unit,
		NumeratorCases: t.numCases, DenominatorCases: t.denCases, NumeratorUnits: t.numUnits, DenominatorUnits: t.denUnits}
	if d.Breakdown != "" {
		for k, v := range t.details {
			base.Breakdown = append(base.Breakdown, Count{Key: k, Count: v})
		}
		sort.Slice(base.Breakdown, func(i, j int) bool {
			if base.Breakdown[i].Count != base.Breakdown[j].Count {
				return base.Breakdown[i].Count > base.Breakdown[j].Count
			}
			return base.Breakdown[i].Key < base.Breakdown[j].Key
		})
	}
	switch d.Kind {
	case KindCount:
		f := base
		f.Numerator = t.num
		v := float64(t.num)
		f.Value = &v
		return []Figure{f}
	case KindPercentile:
		var out []Figure
		for _, p := range []struct {
			suffix string
			q, v   float64
		}{{"_p50", 0.5, t.p50}, {"_p90", 0.9, t.p90}} {
			f := base
			f.KPI = d.Name + p.suffix
			n := t.n
			f.Denominator = &n
			if n > 0 {
				f.Numerator = int64(NearestRank(p.q, int(n)))
				v := p.v
				f.Value = &v
			}
			out = append(out, f)
		}
		return out
	default:
		f := base
		f.Numerator = t.num
		den := t.den
		f.Denominator = &den
		if den > 0 {
			v := float64(t.num) / float64(den)
			f.Value = &v
		}
		return []Figure{f}
	}
}

// NearestRank is the 1-based position ceil(p·n) of the nearest-rank
// percentile (SPEC §3), at least 1.
func NearestRank(p float64, n int) int {
	r := int(math.Ceil(p*float64(n) - 1e-9))
	if r < 1 {
		r = 1
	}
	if r > n {
		r = n
	}
	return r
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
