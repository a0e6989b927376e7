package reports

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/closedloop/closedloop/store"
	"github.com/closedloop/closedloop/transforms"
)

// Gates evaluates the sanity gates (SPEC §3) of the pack opt describes
// without building it: it reads only what the gate rules read — the rates
// of the trend weeks and of the reported week by queue and by workflow,
// the sources' events and the events after the as-of — with one query for
// all the rates, aggregated in the database. Build takes its gates from
// the same gathering, so the two agree. Failing gates are returned, not an
// error: opt.Force does not matter. The store's facts are rebuilt for
// opt.AsOf when needed.
func Gates(ctx context.Context, st store.Store, opt Options) ([]Gate, error) {
	pr, err := prepare(ctx, st, &opt)
	if err != nil {
		return nil, err
	}
	in, err := pr.gateInputs(opt)
	if err != nil {
		return nil, err
	}
	return in.gates(pr.asof, opt.WarnOnly), nil
}

// workflowKPIs are the KPIs the pack reports by workflow.
var workflowKPIs = []string{"completion_rate", "exception_rate", "writeback_success", "manual_wrap_up_rate"}

// prepared is what Build and Gates share: the options checked and
// defaulted, the reported week, the trend weeks and a querier on facts
// rebuilt for the as-of.
type prepared struct {
	from, to, asof time.Time
	// starts are the trend weeks' first days, oldest first; the last is
	// the reported week.
	starts []time.Time
	q      *querier
}

// prepare checks and defaults opt, and brings the facts to opt.AsOf.
func prepare(ctx context.Context, st store.Store, opt *Options) (*prepared, error) {
	if opt.Loc == nil {
		opt.Loc = time.UTC
	}
	if opt.Weeks == 0 {
		opt.Weeks = 12
	}
	if opt.Weeks < 8 || opt.Weeks > 12 {
		return nil, fmt.Errorf("trend length %d weeks: use 8 to 12", opt.Weeks)
	}
	if st.Dialect() != "duckdb" {
		return nil, fmt.Errorf("the governance pack reads a DuckDB store; %s is not supported yet", st.Dialect())
	}
	if opt.AsOf.IsZero() {
		return nil, fmt.Errorf("the pack needs an as-of time")
	}
	if opt.Calendars == nil {
		opt.Calendars = transforms.AlwaysOpen{Target: 15 * time.Minute}
	}
	if opt.FreshnessLimit == nil {
		opt.FreshnessLimit = func(string) time.Duration { return 26 * time.Hour }
	}
	from, to, err := ParseWeek(opt.Week, opt.Loc)
	if err != nil {
		return nil, err
	}
	asof := opt.AsOf.UTC().Truncate(time.Millisecond)
	if _, err := transforms.Ensure(ctx, st, opt.Calendars, asof); err != nil {
		return nil, err
	}
	defs, err := transforms.Definitions(st.Dialect())
	if err != nil {
		return nil, err
	}
	pr := &prepared{from: from, to: to, asof: asof, q: &querier{st: st, ctx: ctx, asof: asof, defs: defs}}
	for i := opt.Weeks - 1; i >= 0; i-- {
		pr.starts = append(pr.starts, from.AddDate(0, 0, -7*i))
	}
	return pr, nil
}

// gateInputs are the figures and events the gate rules read, in the order
// the pack lists them (so a failing gate names its figures in that order).
type gateInputs struct {
	// all is every rate figure of the pack: the reported week by queue
	// and by workflow, then the trend weeks oldest first.
	all []transforms.Figure
	// week is the reported week's rates over all queues; byQueue by queue.
	week, byQueue []transforms.Figure
	fresh         []Freshness
	future        []Reason
}

func (in gateInputs) gates(asof time.Time, warnOnly []string) []Gate {
	return gates(in.all, in.week, in.byQueue, in.fresh, in.future, asof, warnOnly)
}

// gateInputs gathers what the gates read: the rates (gateRates), the
// sources' freshness over the trend window and the events after the as-of.
func (pr *prepared) gateInputs(opt Options) (gateInputs, error) {
	var in gateInputs
	weeks, byQueue, byWorkflow, err := pr.gateRates()
	if err != nil {
		return in, err
	}
	in.week, in.byQueue = weeks[len(weeks)-1], byQueue
	in.all = append(append(in.all, byQueue...), byWorkflow...)
	for _, w := range weeks {
		in.all = append(in.all, w...)
	}
	if in.fresh, err = pr.q.freshness(pr.from, pr.to, pr.starts[0], opt); err != nil {
		return in, err
	}
	if in.future, err = pr.q.futureEvents(); err != nil {
		return in, err
	}
	return in, nil
}

// rateKey identifies one aggregate of gateRates: a rate KPI in a trend
// week (index into starts), over all queues (dim "") or in one queue or
// workflow.
type rateKey struct {
	kpi      string
	week     int
	dim, grp string
}

// gateRates computes every rate KPI's numerator and denominator per trend
// week, and for the reported week by queue and by workflow, as the pack's
// figures count them (transforms.ComputeWeeks and Compute: a unit counts in
// the numerator only when it is in the denominator; a case without a queue
// or workflow is in group "(none)"), but aggregated in the database in one
// query instead of reading every unit row. Figures carry what the gates
// read: KPI, kind, group, value, numerator and denominator.
func (pr *prepared) gateRates() (weeks [][]transforms.Figure, byQueue, byWorkflow []transforms.Figure, err error) {
	var rates []transforms.Definition
	var units []string
	for _, d := range pr.q.defs {
		if d.Kind == transforms.KindRate {
			rates = append(rates, d)
			units = append(units, fmt.Sprintf("SELECT '%s' AS kpi, period_ts, den, num, case_id FROM (%s) k", d.Name, d.SQL))
		}
	}
	// $1 and $2 span the trend weeks, $3 is the as-of, $4… the starts of
	// the second to the last week: a unit's week is how many it is past.
	args := []any{pr.starts[0].UTC(), pr.to.UTC(), pr.asof}
	week := "0"
	for _, s := range pr.starts[1:] {
		args = append(args, s.UTC())
		week += fmt.Sprintf(" + (u.period_ts >= $%d)::INTEGER", len(args))
	}
	rs, err := pr.q.rows("the gates' rates", `SELECT kpi, week, grouping(queue), grouping(workflow),
			coalesce(queue, ''), coalesce(workflow, ''), count(*) FILTER (WHERE den), count(*) FILTER (WHERE den AND num)
		FROM (SELECT u.kpi, `+week+` AS week, coalesce(nullif(c.queue, ''), '(none)') AS queue,
				coalesce(nullif(c.workflow, ''), '(none)') AS workflow, u.den, u.num
			FROM (`+strings.Join(units, " UNION ALL ")+`) u LEFT JOIN fact_cases c ON c.case_id = u.case_id
			WHERE u.period_ts >= $1 AND u.period_ts < $2) b
		GROUP BY GROUPING SETS ((kpi, week), (kpi, week, queue), (kpi, week, workflow))`, args...)
	if err != nil {
		return nil, nil, nil, err
	}
	defer rs.Close()
	agg := map[rateKey][2]int64{}
	groups := map[string][]string{} // dim/kpi → groups of the reported week
	last := len(pr.starts) - 1
	for rs.Next() {
		var k rateKey
		var noQueue, noWorkflow bool
		var queue, workflow string
		var n [2]int64
		if err := rs.Scan(&k.kpi, &k.week, &noQueue, &noWorkflow, &queue, &workflow, &n[0], &n[1]); err != nil {
			return nil, nil, nil, fmt.Errorf("pack: reading the gates' rates: %w", err)
		}
		switch {
		case !noQueue:
			k.dim, k.grp = "queue", queue
		case !noWorkflow:
			k.dim, k.grp = "workflow", workflow
		}
		if k.dim != "" && k.week == last {
			groups[k.dim+"/"+k.kpi] = append(groups[k.dim+"/"+k.kpi], k.grp)
		}
		agg[k] = n
	}
	if err := rs.Err(); err != nil {
		return nil, nil, nil, fmt.Errorf("pack: reading the gates' rates: %w", err)
	}
	figure := func(k rateKey) transforms.Figure {
		n := agg[k]
		f := transforms.Figure{KPI: k.kpi, Kind: transforms.KindRate, Group: k.grp, Numerator: n[1], Denominator: &n[0]}
		if n[0] > 0 {
			v := float64(n[1]) / float64(n[0])
			f.Value = &v
		}
		return f
	}
	byGroup := func(dim string, d transforms.Definition) []transforms.Figure {
		gs := groups[dim+"/"+d.Name]
		sort.Strings(gs)
		var out []transforms.Figure
		for _, g := range gs {
			out = append(out, figure(rateKey{kpi: d.Name, week: last, dim: dim, grp: g}))
		}
		return out
	}
	weeks = make([][]transforms.Figure, len(pr.starts))
	for _, d := range rates {
		for i := range weeks {
			weeks[i] = append(weeks[i], figure(rateKey{kpi: d.Name, week: i}))
		}
		byQueue = append(byQueue, byGroup("queue", d)...)
		if contains(workflowKPIs, d.Name) {
			byWorkflow = append(byWorkflow, byGroup("workflow", d)...)
		}
	}
	return weeks, byQueue, byWorkflow, nil
}
