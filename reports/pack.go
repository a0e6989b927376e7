package reports

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/closedloop/closedloop/config"
	"github.com/closedloop/closedloop/diagnose"
	"github.com/closedloop/closedloop/stats"
	"github.com/closedloop/closedloop/store"
	"github.com/closedloop/closedloop/transforms"
)

// Options say which pack to build.
type Options struct {
	// Week is the ISO week reported, "YYYY-Www", in Loc.
	Week string
	Loc  *time.Location
	// AsOf is the cutoff every figure is computed at (required; the
	// command's default is the newest event in the store).
	AsOf time.Time
	// Calendars give business hours and SLA targets per queue.
	Calendars transforms.Calendars
	// Weeks of trend, ending with the reported week (8–12; default 12).
	Weeks int
	// WarnOnly names gates whose failure is printed without refusing.
	WarnOnly []string
	// Force publishes despite failing gates, stamping the pack.
	Force bool
	// Pilot and Baseline are cohort selectors; both set adds the pilot
	// comparison over the trend window.
	Pilot, Baseline string
	// FreshnessLimit is the staleness limit of a source (nil: 26 h).
	FreshnessLimit func(source string) time.Duration
	// Sources are the sources expected to send events every week, in
	// addition to those seen during the trend window.
	Sources []string
	// ScaleMinWins is the scale gate's number of significant wins (config
	// diagnose.scale_gate_min_wins; 0: DefaultScaleMinWins).
	ScaleMinWins int
	// Diagnose holds the thresholds of the "where to automate next"
	// section (nil: the defaults); DiagnoseDays its window, the days
	// ending with the reported week (0: 30).
	Diagnose     *diagnose.Thresholds
	DiagnoseDays int
	// Config supplies the rate card, the register of business numbers,
	// pickup targets and the funnel's fallback wait (nil: defaults, no
	// register).
	Config *config.Config
}

// Pack is everything the weekly governance pack shows. It is embedded in
// the HTML as JSON (id "pack-data"); case lists are in the drill-downs.
type Pack struct {
	Title     string        `json:"title"`
	Week      string        `json:"week"`
	From      string        `json:"from"`
	To        string        `json:"to"`
	Period    string        `json:"period"`
	Timezone  string        `json:"timezone"`
	AsOf      string        `json:"as_of"`
	AsOfLocal string        `json:"as_of_local"`
	Status    string        `json:"status"`
	Weeks     []string      `json:"trend_weeks"`
	Headline  []Headline    `json:"headline"`
	Queues    []QueueRow    `json:"sla_by_queue"`
	Workflows []WorkflowRow `json:"workflows"`
	Handover  []Reason      `json:"handover_reasons"`
	Exception []Reason      `json:"exception_reasons"`
	Templates []ErrorCode   `json:"template_failures"`
	Writeback []Writeback   `json:"writebacks_by_system"`
	Findings  []Finding     `json:"governance_findings"`
	Quality   DataQuality   `json:"data_quality"`
	Changes   Changes       `json:"what_changed"`
	Defs      []DefRow      `json:"definitions"`
	Pilot     *Comparison   `json:"pilot,omitempty"`
	// Diagnosis ranks workflows and categories by resolution fit over the
	// DiagnoseDays before the end of the week; Demand maps the trend
	// weeks' cases by local hour of the week, category and queue.
	Diagnosis *diagnose.Result `json:"diagnosis,omitempty"`
	Demand    *diagnose.Demand `json:"demand,omitempty"`
	// Funnels are the reported week's workflow funnels with channel
	// sequences and cost; Governance the findings of the trend weeks and
	// the risk log (channels.go).
	Funnels    []transforms.FunnelResult `json:"funnels"`
	Governance *transforms.Governance    `json:"governance,omitempty"`
	Figures    []FigureRow               `json:"figures"`

	drill  []drill
	trends map[string][]*float64
	kinds  map[string]transforms.Kind
}

// Headline is one KPI of the reported week with its movement and target.
type Headline struct {
	KPI         string   `json:"kpi"`
	Label       string   `json:"label"`
	Kind        string   `json:"kind"`
	Version     int      `json:"version"`
	Value       *float64 `json:"value"`
	Display     string   `json:"display"`
	Numerator   int64    `json:"numerator"`
	Denominator *int64   `json:"denominator"`
	Previous    *float64 `json:"previous"`
	Change      string   `json:"change"`
	Movement    string   `json:"movement"` // better, worse, flat or "" (no direction / no data)
	Target      string   `json:"target"`
	Status      string   `json:"status"` // met, missed, "" (no target or no value)
	Immature    bool     `json:"immature,omitempty"`
	Breakdown   []Reason `json:"breakdown,omitempty"`
}

// FigureRow is one figure of the pack, as written to figures.csv.
type FigureRow struct {
	Week        string   `json:"week"`
	KPI         string   `json:"kpi"`
	Group       string   `json:"group"`
	Value       *float64 `json:"value"`
	Numerator   int64    `json:"numerator"`
	Denominator *int64   `json:"denominator"`
	Version     int      `json:"version"`
	Immature    bool     `json:"immature,omitempty"`
}

// QueueRow is SLA attainment in one queue.
type QueueRow struct {
	Queue     string   `json:"queue"`
	Attained  int64    `json:"attained"`
	Breached  int64    `json:"breached"`
	Rate      *float64 `json:"rate"`
	Target    string   `json:"sla_target"`
	Handover  *float64 `json:"handover_rate"`
	FirstP90  *float64 `json:"first_response_p90_seconds"`
	MeetsGoal bool     `json:"meets_goal"`
}

// WorkflowRow is the workflow KPIs of one workflow.
type WorkflowRow struct {
	Workflow   string   `json:"workflow"`
	Cases      int64    `json:"cases"`
	Completion *float64 `json:"completion_rate"`
	Exception  *float64 `json:"exception_rate"`
	Completed  int64    `json:"completed"`
	Writeback  *float64 `json:"writeback_success"`
	Manual     int64    `json:"manual_wrap_ups"`
	ManualRate *float64 `json:"manual_wrap_up_rate"`
}

// Reason is a count by reason.
type Reason struct {
	Key   string `json:"key"`
	Count int64  `json:"count"`
	New   bool   `json:"new,omitempty"`
}

// ErrorCode is template failures with one Meta error code.
type ErrorCode struct {
	Code  string `json:"code"`
	Title string `json:"title"`
	Count int64  `json:"count"`
	New   bool   `json:"new,omitempty"`
}

// Writeback is writebacks first attempted in the week, by target system.
type Writeback struct {
	System    string `json:"target_system"`
	Total     int64  `json:"writebacks"`
	Succeeded int64  `json:"succeeded"`
	Failed    int64  `json:"failed"`
	Retried   int64  `json:"retried"`
	Attempts  int64  `json:"attempts"`
	Manual    int64  `json:"manual"`
	TopError  string `json:"top_error,omitempty"`
}

// Finding is a governance finding with the messages behind it.
type Finding struct {
	KPI     string        `json:"kpi"`
	Label   string        `json:"label"`
	Count   int64         `json:"count"`
	Of      int64         `json:"of"`
	Explain string        `json:"explain"`
	Items   []FindingItem `json:"items"`
}

// FindingItem is one message of a finding.
type FindingItem struct {
	TS      string `json:"ts"`
	CaseID  string `json:"case_id"`
	Message string `json:"message_id"`
	Detail  string `json:"detail"`
}

// DataQuality is the data-quality panel.
type DataQuality struct {
	RejectsTotal    int64       `json:"rejects_total"`
	RejectsBySource []Reason    `json:"rejects_by_source"`
	RejectsByReason []Reason    `json:"rejects_by_reason"`
	Freshness       []Freshness `json:"freshness"`
	OrphanStatuses  int64       `json:"orphan_statuses"`
	InferredOpens   int64       `json:"inferred_opens"`
	Gates           []Gate      `json:"gates"`
}

// Freshness is the newest event of a source against the as-of.
type Freshness struct {
	Source    string `json:"source"`
	Newest    string `json:"newest_event"`
	Age       string `json:"age"`
	AgeSecs   int64  `json:"age_seconds"`
	Limit     string `json:"limit"`
	Stale     bool   `json:"stale"`
	WeekCount int64  `json:"events_in_week"`
}

// Gate is one sanity gate's result.
type Gate struct {
	Name     string `json:"name"`
	Rule     string `json:"rule"`
	OK       bool   `json:"ok"`
	Detail   string `json:"detail"`
	Blocking bool   `json:"blocking"`
}

// Changes are the week's largest movements and new failure reasons.
type Changes struct {
	Movements  []Movement `json:"movements"`
	NewReasons []NewKey   `json:"new_reasons"`
}

// Movement is a week-over-week change of one figure.
type Movement struct {
	KPI      string   `json:"kpi"`
	Label    string   `json:"label"`
	From     string   `json:"from"`
	To       string   `json:"to"`
	Change   string   `json:"change"`
	Movement string   `json:"movement"`
	P        *float64 `json:"p_value,omitempty"`
	Note     string   `json:"note"`
}

// NewKey is a failure reason or error code not seen in the previous weeks.
type NewKey struct {
	Kind  string `json:"kind"`
	Key   string `json:"key"`
	Title string `json:"title,omitempty"`
	Count int64  `json:"count"`
}

// DefRow is the definition of a KPI as used in the pack.
type DefRow struct {
	KPI        string `json:"kpi"`
	Version    int    `json:"version"`
	Definition string `json:"definition"`
	Target     string `json:"target,omitempty"`
	SHA256     string `json:"sql_sha256"`
}

// drill is the case ids behind one figure of the reported week.
type drill struct {
	kpi, group         string
	kind               transforms.Kind
	num, den           []string // case ids
	numUnits, denUnits []string // what was counted (cases, waits, messages …)
	numCount, denCnt   int64
}

// GateError is returned when gates fail and Force is not set.
type GateError struct{ Failed []Gate }

func (e *GateError) Error() string {
	var parts []string
	for _, g := range e.Failed {
		parts = append(parts, fmt.Sprintf("%s (%s): %s", g.Name, g.Rule, g.Detail))
	}
	return "the pack is not published because sanity gates failed:\n  " + strings.Join(parts, "\n  ") +
		"\nfix the data or rerun with --force to publish it stamped \"published with failing gates\""
}

// Status values.
const (
	StatusPublished = "published"
	StatusForced    = "published with failing gates"
	StatusWarnings  = "published with warnings"
)

// Build computes the pack. The store's facts are rebuilt for opt.AsOf when
// needed.
func Build(ctx context.Context, st store.Store, opt Options) (*Pack, error) {
	pr, err := prepare(ctx, st, &opt)
	if err != nil {
		return nil, err
	}
	from, to, asof, starts, q := pr.from, pr.to, pr.asof, pr.starts, pr.q
	defs := q.defs
	p := &Pack{
		Title:     "Weekly governance pack " + opt.Week,
		Week:      opt.Week,
		From:      from.Format(time.DateOnly),
		To:        to.AddDate(0, 0, -1).Format(time.DateOnly),
		Period:    from.Format("Mon 2 Jan") + " – " + to.AddDate(0, 0, -1).Format("Mon 2 Jan 2006"),
		Timezone:  opt.Loc.String(),
		AsOf:      asof.Format(time.RFC3339),
		AsOfLocal: asof.In(opt.Loc).Format("Mon 2 Jan 2006 15:04 MST"),
		trends:    map[string][]*float64{},
		kinds:     map[string]transforms.Kind{},
	}

	// One Compute per trend week, oldest first; the last is the reported week.
	type weekFigs struct {
		label    string
		from, to time.Time
		figs     []transforms.Figure
		byKPI    map[string]transforms.Figure
	}
	var weeks []weekFigs
	perWeek, err := transforms.ComputeWeeks(ctx, st, transforms.Request{To: to, Cutoff: asof, Loc: opt.Loc}, starts)
	if err != nil {
		return nil, err
	}
	for i, wf := range starts {
		wt := wf.AddDate(0, 0, 7)
		figs := perWeek[i]
		w := weekFigs{label: WeekOf(wf), from: wf, to: wt, figs: figs, byKPI: map[string]transforms.Figure{}}
		for _, f := range figs {
			w.byKPI[f.KPI] = f
			p.kinds[f.KPI] = f.Kind
		}
		weeks = append(weeks, w)
		p.Weeks = append(p.Weeks, w.label)
	}
	cur := weeks[len(weeks)-1]
	prev := weeks[len(weeks)-2]
	for _, w := range weeks {
		for _, f := range w.figs {
			p.Figures = append(p.Figures, figureRow(w.label, "all", f))
			p.trends[f.KPI] = append(p.trends[f.KPI], f.Value)
		}
	}
	req := transforms.Request{From: from, To: to, Cutoff: asof, Loc: opt.Loc, By: "queue"}
	byQueue, err := transforms.Compute(ctx, st, req)
	if err != nil {
		return nil, err
	}
	req.By = "workflow"
	req.Only = workflowKPIs
	byWorkflow, err := transforms.Compute(ctx, st, req)
	if err != nil {
		return nil, err
	}
	for _, f := range byQueue {
		p.Figures = append(p.Figures, figureRow(cur.label, "queue="+f.Group, f))
	}
	for _, f := range byWorkflow {
		p.Figures = append(p.Figures, figureRow(cur.label, "workflow="+f.Group, f))
	}

	// Headline and drill-downs of the reported week.
	for _, f := range cur.figs {
		p.Headline = append(p.Headline, headline(f, prev.byKPI[f.KPI]))
		p.drill = append(p.drill, drill{kpi: f.KPI, group: "all", kind: f.Kind, num: f.NumeratorCases, den: f.DenominatorCases,
			numUnits: f.NumeratorUnits, denUnits: f.DenominatorUnits, numCount: f.Numerator, denCnt: deref(f.Denominator)})
	}
	for _, set := range []struct {
		dim  string
		figs []transforms.Figure
	}{{"queue", byQueue}, {"workflow", byWorkflow}} {
		for _, f := range set.figs {
			p.drill = append(p.drill, drill{kpi: f.KPI, group: set.dim + "=" + f.Group, kind: f.Kind, num: f.NumeratorCases,
				den: f.DenominatorCases, numCount: f.Numerator, denCnt: deref(f.Denominator)})
		}
	}

	p.Queues = queueRows(byQueue, opt.Calendars)
	p.Workflows = workflowRows(byWorkflow)

	// Reasons and codes of the reported week against the 4 weeks before.
	prior := weeks[max(0, len(weeks)-5) : len(weeks)-1]
	seen := func(kpi string) map[string]bool {
		m := map[string]bool{}
		for _, w := range prior {
			for _, b := range w.byKPI[kpi].Breakdown {
				m[b.Key] = true
			}
		}
		return m
	}
	seenExc := seen("exception_rate")
	for _, b := range cur.byKPI["exception_rate"].Breakdown {
		p.Exception = append(p.Exception, Reason{Key: b.Key, Count: b.Count, New: !seenExc[b.Key]})
	}
	if p.Handover, err = q.handoverReasons(from, to); err != nil {
		return nil, err
	}
	seenHand := map[string]bool{}
	for _, w := range prior {
		rs, err := q.handoverReasons(w.from, w.to)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			seenHand[r.Key] = true
		}
	}
	for i := range p.Handover {
		p.Handover[i].New = !seenHand[p.Handover[i].Key]
	}
	titles, err := q.errorTitles()
	if err != nil {
		return nil, err
	}
	seenCodes := seen("template_delivery_success")
	for _, b := range cur.byKPI["template_delivery_success"].Breakdown {
		t := titles[b.Key]
		if t == "" {
			t = errorTitles[b.Key]
		}
		p.Templates = append(p.Templates, ErrorCode{Code: b.Key, Title: t, Count: b.Count, New: !seenCodes[b.Key]})
	}
	if p.Writeback, err = q.writebacks(from, to); err != nil {
		return nil, err
	}
	curErr, err := q.writebackErrors(from, to)
	if err != nil {
		return nil, err
	}
	priorErr, err := q.writebackErrors(prior[0].from, prior[len(prior)-1].to)
	if err != nil {
		return nil, err
	}

	// Governance findings.
	for _, k := range []struct{ kpi, explain string }{
		{"consent_violations", "Template messages sent to a customer whose latest consent on that channel before the send was not an opt-in (detail: the consent state at the time)."},
		{"unapproved_template_sends", "Template messages sent while the template had no approval in force (detail: the template)."},
	} {
		f := cur.byKPI[k.kpi]
		items, err := q.findingItems(k.kpi, from, to)
		if err != nil {
			return nil, err
		}
		p.Findings = append(p.Findings, Finding{KPI: k.kpi, Label: label(k.kpi), Count: f.Numerator, Of: deref(f.Denominator),
			Explain: k.explain, Items: items})
	}

	if err := p.addChannels(ctx, st, opt, starts, from, to, asof); err != nil {
		return nil, err
	}

	// Data quality and gates.
	if p.Quality, err = q.dataQuality(from, to); err != nil {
		return nil, err
	}
	in, err := pr.gateInputs(opt)
	if err != nil {
		return nil, err
	}
	p.Quality.Freshness = in.fresh
	p.Quality.Gates = in.gates(asof, opt.WarnOnly)
	var blocking, warnings []Gate
	for _, g := range p.Quality.Gates {
		switch {
		case g.OK:
		case g.Blocking:
			blocking = append(blocking, g)
		default:
			warnings = append(warnings, g)
		}
	}
	switch {
	case len(blocking) > 0 && !opt.Force:
		return nil, &GateError{Failed: blocking}
	case len(blocking) > 0:
		p.Status = StatusForced
	case len(warnings) > 0:
		p.Status = StatusWarnings
	default:
		p.Status = StatusPublished
	}

	// What changed.
	p.Changes.Movements = movements(cur.byKPI, prev.byKPI, cur.figs)
	for _, r := range p.Templates {
		if r.New {
			p.Changes.NewReasons = append(p.Changes.NewReasons, NewKey{Kind: "template error code", Key: r.Code, Title: r.Title, Count: r.Count})
		}
	}
	for _, r := range p.Exception {
		if r.New {
			p.Changes.NewReasons = append(p.Changes.NewReasons, NewKey{Kind: "exception reason", Key: r.Key, Count: r.Count})
		}
	}
	for _, r := range p.Handover {
		if r.New {
			p.Changes.NewReasons = append(p.Changes.NewReasons, NewKey{Kind: "handover reason", Key: r.Key, Count: r.Count})
		}
	}
	for _, r := range curErr {
		if !contains(keys(priorErr), r.Key) {
			p.Changes.NewReasons = append(p.Changes.NewReasons, NewKey{Kind: "writeback error", Key: r.Key, Count: r.Count})
		}
	}

	// Definitions.
	for _, d := range defs {
		row := DefRow{KPI: d.Name, Version: d.Version, Definition: d.Definition, SHA256: d.SHA256}
		var ts []string
		for _, n := range []string{d.Name, d.Name + "_p50", d.Name + "_p90"} {
			if t, ok := Targets[n]; ok {
				pre := ""
				if n != d.Name {
					pre = strings.TrimPrefix(n, d.Name+"_") + " "
				}
				ts = append(ts, pre+targetText(d.Kind, t))
			}
		}
		row.Target = strings.Join(ts, "; ")
		p.Defs = append(p.Defs, row)
	}

	// Pilot comparison over the trend window.
	if opt.Pilot != "" || opt.Baseline != "" {
		if opt.Pilot == "" || opt.Baseline == "" {
			return nil, fmt.Errorf("a pilot comparison needs both a pilot and a baseline selector")
		}
		ps, err := ParseSelector(opt.Pilot)
		if err != nil {
			return nil, fmt.Errorf("pilot: %w", err)
		}
		bs, err := ParseSelector(opt.Baseline)
		if err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
		if p.Pilot, err = CompareGate(ctx, st, ps, bs, weeks[0].from, to, asof, opt.Loc, opt.ScaleMinWins); err != nil {
			return nil, err
		}
	}

	// Where to automate next, and the demand map.
	if err := p.addDiagnosis(ctx, st, opt, starts, to, asof); err != nil {
		return nil, err
	}
	return p, nil
}

func figureRow(week, group string, f transforms.Figure) FigureRow {
	return FigureRow{Week: week, KPI: f.KPI, Group: group, Value: roundPtr(f.Value), Numerator: f.Numerator,
		Denominator: f.Denominator, Version: f.Version, Immature: f.Immature}
}

func headline(f, prev transforms.Figure) Headline {
	h := Headline{KPI: f.KPI, Label: label(f.KPI), Kind: string(f.Kind), Version: f.Version, Value: roundPtr(f.Value),
		Display: display(f.Kind, f.Value), Numerator: f.Numerator, Denominator: f.Denominator,
		Previous: roundPtr(prev.Value), Immature: f.Immature}
	for _, b := range f.Breakdown {
		h.Breakdown = append(h.Breakdown, Reason{Key: b.Key, Count: b.Count})
	}
	t, hasTarget := Targets[f.KPI]
	if hasTarget {
		h.Target = targetText(f.Kind, t)
		if f.Value != nil {
			h.Status = "missed"
			if t.meets(*f.Value) {
				h.Status = "met"
			}
		}
	}
	if f.Value != nil && prev.Value != nil {
		d := *f.Value - *prev.Value
		h.Change = change(f.Kind, d)
		switch {
		case math.Abs(d) < 1e-9:
			h.Movement = "flat"
			h.Change = "no change"
		case !hasTarget:
			h.Movement = ""
		case (d > 0) == (t.Direction == HigherIsBetter):
			h.Movement = "better"
		default:
			h.Movement = "worse"
		}
	}
	return h
}

func queueRows(figs []transforms.Figure, cal transforms.Calendars) []QueueRow {
	rows := map[string]*QueueRow{}
	var names []string
	get := func(q string) *QueueRow {
		if r, ok := rows[q]; ok {
			return r
		}
		target := "—"
		if q != "(none)" {
			target = duration(cal.SLATarget(q).Seconds())
		}
		rows[q] = &QueueRow{Queue: q, Target: target}
		names = append(names, q)
		return rows[q]
	}
	for _, f := range figs {
		switch f.KPI {
		case "response_sla_attainment":
			r := get(f.Group)
			r.Attained = f.Numerator
			r.Breached = deref(f.Denominator) - f.Numerator
			r.Rate = roundPtr(f.Value)
			r.MeetsGoal = f.Value != nil && Targets[f.KPI].meets(*f.Value)
		case "agent_handover_rate":
			get(f.Group).Handover = roundPtr(f.Value)
		case "first_response_time_p90":
			get(f.Group).FirstP90 = roundPtr(f.Value)
		}
	}
	sort.Strings(names)
	out := make([]QueueRow, 0, len(names))
	for _, n := range names {
		out = append(out, *rows[n])
	}
	return out
}

func workflowRows(figs []transforms.Figure) []WorkflowRow {
	rows := map[string]*WorkflowRow{}
	var names []string
	for _, f := range figs {
		r, ok := rows[f.Group]
		if !ok {
			r = &WorkflowRow{Workflow: f.Group}
			rows[f.Group] = r
			names = append(names, f.Group)
		}
		switch f.KPI {
		case "completion_rate":
			r.Cases = deref(f.Denominator)
			r.Completion = roundPtr(f.Value)
		case "exception_rate":
			r.Exception = roundPtr(f.Value)
		case "writeback_success":
			r.Completed = deref(f.Denominator)
			r.Writeback = roundPtr(f.Value)
		case "manual_wrap_up_rate":
			r.Manual = f.Numerator
			r.ManualRate = roundPtr(f.Value)
		}
	}
	sort.Strings(names)
	out := make([]WorkflowRow, 0, len(names))
	for _, n := range names {
		if n == "(none)" {
			continue
		}
		out = append(out, *rows[n])
	}
	return out
}

// movements ranks week-over-week changes: rates by the z statistic of the
// change (so a big swing on few cases does not outrank a real shift),
// timings and counts by relative change.
func movements(cur, prev map[string]transforms.Figure, order []transforms.Figure) []Movement {
	type scored struct {
		m     Movement
		score float64
	}
	var rates, others []scored
	for _, f := range order {
		pf, ok := prev[f.KPI]
		if !ok || f.Value == nil || pf.Value == nil {
			continue
		}
		d := *f.Value - *pf.Value
		if math.Abs(d) < 1e-9 {
			continue
		}
		m := Movement{KPI: f.KPI, Label: label(f.KPI), From: display(f.Kind, pf.Value), To: display(f.Kind, f.Value),
			Change: change(f.Kind, d)}
		switch dir := direction(f.KPI); {
		case dir == Neutral:
		case (d > 0) == (dir == HigherIsBetter):
			m.Movement = "better"
		default:
			m.Movement = "worse"
		}
		switch f.Kind {
		case transforms.KindRate:
			t, err := stats.TwoProportionZ(f.Numerator, deref(f.Denominator), pf.Numerator, deref(pf.Denominator))
			if err != nil {
				continue
			}
			pv := round6(t.P)
			m.P = &pv
			if t.P < 0.05 {
				m.Note = fmt.Sprintf("beyond week-to-week noise (p = %s)", pvalue(t.P))
			} else {
				m.Note = fmt.Sprintf("within week-to-week noise (p = %s)", pvalue(t.P))
			}
			rates = append(rates, scored{m, math.Abs(t.Z)})
		default:
			rel := math.Inf(1)
			if *pf.Value != 0 {
				rel = d / math.Abs(*pf.Value)
				m.Note = fmt.Sprintf("%+.0f%% relative", rel*100)
			}
			others = append(others, scored{m, math.Abs(rel)})
		}
	}
	rank := func(s []scored, n int) []Movement {
		sort.SliceStable(s, func(i, j int) bool {
			if s[i].score != s[j].score {
				return s[i].score > s[j].score
			}
			return s[i].m.KPI < s[j].m.KPI
		})
		var out []Movement
		for i := 0; i < len(s) && i < n; i++ {
			out = append(out, s[i].m)
		}
		return out
	}
	return append(rank(rates, 5), rank(others, 3)...)
}

func pvalue(p float64) string {
	if p < 0.001 {
		return "< 0.001"
	}
	return fmt.Sprintf("%.3f", p)
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func roundPtr(v *float64) *float64 {
	if v == nil {
		return nil
	}
	r := math.Round(*v*1e9) / 1e9
	return &r
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func keys(rs []Reason) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Key
	}
	return out
}
