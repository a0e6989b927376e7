package transforms

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/closedloop/closedloop/store"
)

// ComputeWeeks evaluates the KPIs for consecutive periods [starts[i],
// starts[i+1]) (the last one ends at req.To) with one query per KPI over
// the whole span, instead of one per period: trend charts cost the same as
// a single week. Results equal calling Compute for each period, except
// that on DuckDB, where the periods before the last are counted in the
// database, only the last period's figures carry the drill-down
// (NumeratorCases, DenominatorCases, NumeratorUnits and DenominatorUnits
// are nil in the others).
func ComputeWeeks(ctx context.Context, st store.Store, req Request, starts []time.Time) ([][]Figure, error) {
	return computeWeeks(ctx, st, req, starts, false)
}

// computeWeeks is ComputeWeeks; inGo reads every unit row of the span and
// aggregates here on any engine, drill-down included for every period.
func computeWeeks(ctx context.Context, st store.Store, req Request, starts []time.Time, inGo bool) ([][]Figure, error) {
	if len(starts) == 0 {
		return nil, nil
	}
	defs, err := Definitions(st.Dialect())
	if err != nil {
		return nil, err
	}
	if req.Loc == nil {
		req.Loc = time.UTC
	}
	ends := make([]time.Time, len(starts))
	for i := range starts {
		if i+1 < len(starts) {
			ends[i] = starts[i+1]
		} else {
			ends[i] = req.To
		}
	}
	// Week groups need the time zone, and ClickHouse 18.16 is left as it
	// was: both read every unit row and aggregate here. So do periods out
	// of order, which overlap.
	_, byInSQL := sqlGroup(req.By)
	if inGo || !byInSQL || st.Dialect() != "duckdb" || !sort.SliceIsSorted(starts, func(i, j int) bool { return starts[i].Before(starts[j]) }) {
		return weeksInGo(ctx, st, defs, req, starts, ends)
	}
	out := make([][]Figure, len(starts))
	for _, d := range defs {
		figs, err := weeksInSQL(ctx, st, d, req, starts, ends)
		if err != nil {
			return nil, err
		}
		for i := range figs {
			out[i] = append(out[i], figs[i]...)
		}
	}
	return out, nil
}

// weeksInGo reads every unit row of the span and aggregates each period's.
func weeksInGo(ctx context.Context, st store.Store, defs []Definition, req Request, starts, ends []time.Time) ([][]Figure, error) {
	out := make([][]Figure, len(starts))
	span := req
	span.From = starts[0]
	for _, d := range defs {
		rows, err := units(ctx, st, d, span)
		if err != nil {
			return nil, err
		}
		for i := range starts {
			week := req
			week.From, week.To = starts[i], ends[i]
			var in []unitRow
			for _, r := range rows {
				if !r.periodTS.Before(week.From) && r.periodTS.Before(week.To) {
					in = append(in, r)
				}
			}
			out[i] = append(out[i], figures(d, in, week)...)
		}
	}
	return out, nil
}

// weeksInSQL computes d's figures for the disjoint periods [starts[i],
// ends[i]) on DuckDB with one query over their span. For each period but
// the last it returns per group what tallyRows would count from the unit
// rows: the units in the denominator and in the numerator, the
// nearest-rank p50 and p90 of their values and, for a KPI with a
// breakdown, the units per detail. For the last period, whose figures
// carry the drill-down, it returns the denominator's unit rows, for
// tallyRows itself. By must be one that sqlGroup places.
func weeksInSQL(ctx context.Context, st store.Store, d Definition, req Request, starts, ends []time.Time) ([][]Figure, error) {
	group, ok := sqlGroup(req.By)
	if !ok {
		return nil, fmt.Errorf("computing %s by week: cannot group by %q in SQL", d.Name, req.By)
	}
	dl := dialectFor(st.Dialect())
	// Bounds are UTC instants and period_ts a UTC TIMESTAMP; the periods
	// are disjoint and in order, so the KPI's SQL runs over [starts[0], the
	// last end) as in weeksInGo.
	last := len(starts) - 1
	span := req
	span.From, span.To = starts[0], ends[last]
	period := "CASE"
	for i := range starts {
		period += fmt.Sprintf(" WHEN u.period_ts >= %s AND u.period_ts < %s THEN %d", tsLiteral(starts[i]), tsLiteral(ends[i]), i)
	}
	period += " END"
	// Percentiles count only denominator units with a value.
	values := "NULL::DOUBLE[]"
	if d.Kind == KindPercentile {
		values = "list_sort(list(CAST(u.value AS DOUBLE)) FILTER (WHERE u.den AND u.value IS NOT NULL))"
	}
	// With a breakdown, rows of the second grouping set count the
	// denominator units per detail.
	groupBy, detail, byDetail := "u.i, grp", "''", "false"
	if d.Breakdown != "" {
		groupBy = "GROUPING SETS ((u.i, grp), (u.i, grp, u.detail))"
		detail, byDetail = "coalesce(u.detail, '')", "grouping(u.detail) = 0"
	}
	q := fmt.Sprintf(`SELECT i, grp, detail, by_detail, den, num, n,
			CASE WHEN n > 0 THEN vals[%[1]s] END, CASE WHEN n > 0 THEN vals[%[2]s] END, units
		FROM (SELECT u.i, %[3]s AS grp, %[4]s AS detail, %[5]s AS by_detail,
				count(*) FILTER (WHERE u.den) AS den, count(*) FILTER (WHERE u.den AND u.num) AS num,
				count(u.value) FILTER (WHERE u.den) AS n, %[6]s AS vals,
				list({'unit': u.unit_id, 'case_id': u.case_id, 'num': u.num, 'value': CAST(u.value AS DOUBLE), 'detail': u.detail})
					FILTER (WHERE u.i = %[7]d AND u.den) AS units
			FROM (SELECT %[8]s AS i, u.* FROM (%[9]s
				) AS u(unit_id, case_id, period_ts, den, num, value, detail, queue, category, workflow)) AS u
			WHERE u.i IS NOT NULL
			GROUP BY %[10]s)`,
		rankSQL(0.5), rankSQL(0.9), group, detail, byDetail, values, last, period, fmt.Sprintf(dl.unitsQuery, d.SQL), groupBy)
	rs, err := st.DB().QueryContext(ctx, q, dl.timeArg(span.From.UTC()), dl.timeArg(span.To.UTC()), dl.timeArg(req.Cutoff.UTC()))
	if err != nil {
		return nil, fmt.Errorf("computing %s by week: %w", d.Name, err)
	}
	defer rs.Close()
	tallies := make([]map[string]*tally, len(starts))
	for i := range tallies {
		tallies[i] = map[string]*tally{}
	}
	rows := map[string][]unitRow{} // of the last period, by group
	for rs.Next() {
		var i int
		var grp, detail string
		var byDetail bool
		var den, num, n int64
		var p50, p90 *float64
		var units unitList
		if err := rs.Scan(&i, &grp, &detail, &byDetail, &den, &num, &n, &p50, &p90, &units); err != nil {
			return nil, fmt.Errorf("reading %s by week: %w", d.Name, err)
		}
		if i == last {
			if !byDetail {
				rows[grp] = units
			}
			continue
		}
		t := tallies[i][grp]
		if t == nil {
			t = &tally{details: map[string]int64{}}
			tallies[i][grp] = t
		}
		switch {
		case !byDetail:
			t.den, t.num, t.n = den, num, n
			if p50 != nil && p90 != nil { // percentile KPIs with values
				t.p50, t.p90 = *p50, *p90
			}
		case detail != "" && den > 0:
			t.details[detail] = den
		}
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("reading %s by week: %w", d.Name, err)
	}
	if _, ok := rows[""]; !ok && req.By == "" {
		rows[""] = nil
	}
	out := make([][]Figure, len(starts))
	for i := range starts {
		week := req
		week.From, week.To = starts[i], ends[i]
		immature := immatureAt(d, week)
		if i == last {
			for _, k := range slices.Sorted(maps.Keys(rows)) {
				out[i] = append(out[i], d.figuresOf(k, immature, tallyRows(d, rows[k]))...)
			}
			continue
		}
		if req.By == "" && tallies[i][""] == nil {
			tallies[i][""] = &tally{}
		}
		for _, k := range slices.Sorted(maps.Keys(tallies[i])) {
			out[i] = append(out[i], d.figuresOf(k, immature, *tallies[i][k])...)
		}
	}
	return out, nil
}

// rankSQL is NearestRank(p, n) in DuckDB for the column n, with the same
// floating-point steps.
func rankSQL(p float64) string {
	return fmt.Sprintf("greatest(1, least(n, CAST(ceil(CAST(%v AS DOUBLE) * CAST(n AS DOUBLE) - CAST(1e-9 AS DOUBLE)) AS BIGINT)))", p)
}

// tsLiteral is t as a DuckDB TIMESTAMP literal in UTC, to the microsecond.
func tsLiteral(t time.Time) string {
	return "TIMESTAMP '" + t.UTC().Format("2006-01-02 15:04:05.999999") + "'"
}

// sqlGroup is the SQL expression of the unit's group for By, as groupKey
// places it, over the columns of unitsQuery (u); false when By needs Go.
func sqlGroup(by string) (string, bool) {
	switch by {
	case "":
		return "''", true
	case "queue", "category", "workflow":
		return fmt.Sprintf("coalesce(nullif(u.%s, ''), '(none)')", by), true
	}
	return "", false
}

// unitList scans a LIST of denominator unit STRUCTs (unit, case_id, num,
// value, detail) as unit rows; NULL is none.
type unitList []unitRow

func (l *unitList) Scan(v any) error {
	*l = nil
	if v == nil {
		return nil
	}
	xs, ok := v.([]any)
	if !ok {
		return fmt.Errorf("scanning unit rows from %T", v)
	}
	for _, x := range xs {
		m, ok := x.(map[string]any)
		if !ok {
			return fmt.Errorf("scanning a unit row from %T", x)
		}
		r := unitRow{den: true}
		r.unit, _ = m["unit"].(string)
		r.caseID, _ = m["case_id"].(string)
		r.num, _ = m["num"].(bool)
		r.detail, _ = m["detail"].(string)
		if f, ok := m["value"].(float64); ok {
			r.value = &f
		}
		*l = append(*l, r)
	}
	return nil
}
