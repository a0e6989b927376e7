package reports

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"

	"github.com/closedloop/closedloop/stats"
	"github.com/closedloop/closedloop/store"
)

// Term is one condition of a cohort selector.
type Term struct {
	Key, Value string
}

// Selector defines a cohort of cases: every term must hold.
type Selector []Term

// Selector keys. after (alias since) and before compare the case's
// opened_at with local midnight of the date in the report's time zone:
// after=D keeps cases opened on or after D, before=D those opened before D.
var selectorKeys = []string{"workflow", "queue", "category", "after", "since", "before"}

// ParseSelector reads "key=value[,key=value…]" strictly: known keys only,
// each at most once, non-empty values without control characters, dates as
// YYYY-MM-DD. Values are only ever passed to SQL as parameters.
func ParseSelector(s string) (Selector, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("empty selector (want e.g. workflow=promise_to_pay)")
	}
	var out Selector
	seen := map[string]bool{}
	for _, raw := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(raw, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("%q is not key=value (e.g. workflow=promise_to_pay, queue=collections, before=2026-10-01)", raw)
		}
		known := false
		for _, sk := range selectorKeys {
			known = known || sk == k
		}
		if !known {
			return nil, fmt.Errorf("unknown selector key %q (known: workflow, queue, category, after, before)", k)
		}
		if k == "since" {
			k = "after"
		}
		if seen[k] {
			return nil, fmt.Errorf("selector key %s is given twice", k)
		}
		seen[k] = true
		if strings.IndexFunc(v, unicode.IsControl) >= 0 || len(v) > 200 {
			return nil, fmt.Errorf("%s: value %q is not a plain name", k, v)
		}
		if k == "after" || k == "before" {
			if _, err := time.Parse(time.DateOnly, v); err != nil {
				return nil, fmt.Errorf("%s=%q is not a date like 2026-10-01", k, v)
			}
		}
		out = append(out, Term{k, v})
	}
	if seen["after"] && seen["before"] {
		a, _ := time.Parse(time.DateOnly, out.get("after"))
		b, _ := time.Parse(time.DateOnly, out.get("before"))
		if !a.Before(b) {
			return nil, fmt.Errorf("after=%s is not before before=%s: the cohort is empty", out.get("after"), out.get("before"))
		}
	}
	return out, nil
}

func (s Selector) get(k string) string {
	for _, t := range s {
		if t.Key == k {
			return t.Value
		}
	}
	return ""
}

// String writes the selector back in canonical form.
func (s Selector) String() string {
	parts := make([]string, len(s))
	for i, t := range s {
		parts[i] = t.Key + "=" + t.Value
	}
	return strings.Join(parts, ",")
}

// where turns the selector into SQL conditions with positional parameters
// starting at $next, and the parameter values.
func (s Selector) where(next int, loc *time.Location) (string, []any) {
	var conds []string
	var args []any
	for _, t := range s {
		switch t.Key {
		case "workflow", "queue", "category":
			conds = append(conds, fmt.Sprintf("%s = $%d", t.Key, next))
			args = append(args, t.Value)
		case "after", "before":
			d, _ := time.ParseInLocation(time.DateOnly, t.Value, loc)
			op := ">="
			if t.Key == "before" {
				op = "<"
			}
			conds = append(conds, fmt.Sprintf("opened_at %s $%d", op, next))
			args = append(args, d.UTC())
		}
		next++
	}
	if len(conds) == 0 {
		return "true", nil
	}
	return strings.Join(conds, " AND "), args
}

// Metric names of the comparison, in the order they are shown.
var compareMetrics = []struct {
	Name, Label, Definition string
	Better                  Direction
}{
	{"completion", "Completion", "workflow cases opened in the period that completed by the cutoff", HigherIsBetter},
	{"exception", "Exception (handover)", "workflow cases opened in the period with at least one handover to a person", LowerIsBetter},
	{"handover", "Handover", "cases opened in the period in which a bot replied, handed over to a person", LowerIsBetter},
	{"writeback_success", "Writeback success", "completed workflow cases with an automatic successful writeback at or after completion", HigherIsBetter},
	{"manual_wrap_up", "Manual wrap-up", "completed workflow cases also written back by hand", LowerIsBetter},
}

// Proportion is x successes out of n with its 95% Wilson interval.
type Proportion struct {
	X    int64    `json:"x"`
	N    int64    `json:"n"`
	Rate *float64 `json:"rate"`
	Lo   float64  `json:"ci95_low"`
	Hi   float64  `json:"ci95_high"`
}

func proportion(x, n int64) Proportion {
	p := Proportion{X: x, N: n}
	iv := stats.Wilson(x, n, stats.Z95)
	p.Lo, p.Hi = round6(iv.Lo), round6(iv.Hi)
	if n > 0 {
		r := round6(float64(x) / float64(n))
		p.Rate = &r
	}
	return p
}

// MetricComparison is one metric of the pilot comparison.
type MetricComparison struct {
	Metric     string     `json:"metric"`
	Label      string     `json:"label"`
	Definition string     `json:"definition"`
	Better     string     `json:"better"` // higher or lower
	Pilot      Proportion `json:"pilot"`
	Baseline   Proportion `json:"baseline"`
	// Diff is pilot − baseline.
	Diff *float64 `json:"difference"`
	Z    *float64 `json:"z"`
	P    *float64 `json:"p_value"`
	// Decidable is false when a cohort is too small for the test.
	Decidable bool   `json:"decidable"`
	TooSmall  string `json:"too_small,omitempty"`
	// Needed is the cases per cohort that would decide: enough to detect
	// the observed difference with 80% power at α = 0.05, and enough for
	// the test's own rules (30 cases, 5 expected successes and failures
	// under the pooled rate). Nil: no difference observed.
	Needed  *int64 `json:"needed_per_cohort"`
	Verdict string `json:"verdict"`
}

// Comparison is the pilot against the baseline.
type Comparison struct {
	From     string             `json:"from"`
	To       string             `json:"to"`
	Timezone string             `json:"timezone"`
	AsOf     string             `json:"as_of"`
	Pilot    string             `json:"pilot"`
	Baseline string             `json:"baseline"`
	PilotN   int64              `json:"pilot_cases"`
	BaseN    int64              `json:"baseline_cases"`
	Overlap  int64              `json:"overlap_cases"`
	Metrics  []MetricComparison `json:"metrics"`
	// TimeToResolution compares the cohorts' times to resolution.
	TimeToResolution DurationComparison `json:"time_to_resolution"`
	// Gate is the scale gate with its reasoning; Scale its one-line summary.
	Gate  ScaleGate `json:"scale_gate"`
	Scale string    `json:"scale_verdict"`
}

// Verdicts.
const (
	VerdictBetter   = "pilot better"
	VerdictWorse    = "pilot worse"
	VerdictNoDiff   = "no significant difference"
	VerdictTooSmall = "too small to decide"
)

type cohortCounts struct {
	n, wfN, completed, exceptions, botN, handedOver, wbOK, manual int64
}

func (c cohortCounts) metric(name string) (x, n int64) {
	switch name {
	case "completion":
		return c.completed, c.wfN
	case "exception":
		return c.exceptions, c.wfN
	case "handover":
		return c.handedOver, c.botN
	case "writeback_success":
		return c.wbOK, c.completed
	case "manual_wrap_up":
		return c.manual, c.completed
	}
	return 0, 0
}

// Compare counts both cohorts among cases opened in [from, to) on the
// store's facts (call transforms.Ensure for the cutoff first), tests each
// metric and applies the scale gate with DefaultScaleMinWins.
func Compare(ctx context.Context, st store.Store, pilot, baseline Selector, from, to, asof time.Time, loc *time.Location) (*Comparison, error) {
	return CompareGate(ctx, st, pilot, baseline, from, to, asof, loc, DefaultScaleMinWins)
}

// CompareGate is Compare with the scale gate needing minWins significant
// wins (config diagnose.scale_gate_min_wins; 0 means the default).
func CompareGate(ctx context.Context, st store.Store, pilot, baseline Selector, from, to, asof time.Time, loc *time.Location, minWins int) (*Comparison, error) {
	if st.Dialect() != "duckdb" {
		return nil, fmt.Errorf("the pilot comparison reads a DuckDB store; %s is not supported yet", st.Dialect())
	}
	if pilot.String() == baseline.String() {
		return nil, fmt.Errorf("pilot and baseline are the same cohort (%s)", pilot)
	}
	pc, err := countCohort(ctx, st, pilot, from, to, loc)
	if err != nil {
		return nil, err
	}
	bc, err := countCohort(ctx, st, baseline, from, to, loc)
	if err != nil {
		return nil, err
	}
	overlap, err := countOverlap(ctx, st, pilot, baseline, from, to, loc)
	if err != nil {
		return nil, err
	}
	c := &Comparison{From: from.In(loc).Format(time.DateOnly), To: to.In(loc).Format(time.DateOnly), Timezone: loc.String(),
		AsOf: asof.UTC().Format(time.RFC3339), Pilot: pilot.String(), Baseline: baseline.String(),
		PilotN: pc.n, BaseN: bc.n, Overlap: overlap}
	byName := map[string]MetricComparison{}
	for _, m := range compareMetrics {
		x1, n1 := pc.metric(m.Name)
		x2, n2 := bc.metric(m.Name)
		mc := MetricComparison{Metric: m.Name, Label: m.Label, Definition: m.Definition,
			Better: "higher", Pilot: proportion(x1, n1), Baseline: proportion(x2, n2)}
		if m.Better == LowerIsBetter {
			mc.Better = "lower"
		}
		decide(&mc, x1, n1, x2, n2, m.Better)
		c.Metrics = append(c.Metrics, mc)
		byName[m.Name] = mc
	}
	pd, err := cohortDurations(ctx, st, pilot, from, to, loc)
	if err != nil {
		return nil, err
	}
	bd, err := cohortDurations(ctx, st, baseline, from, to, loc)
	if err != nil {
		return nil, err
	}
	c.TimeToResolution = compareDurations(pd, bd)
	var ms []GateMeasure
	for _, name := range gateMeasures {
		if name == "time_to_resolution" {
			ms = append(ms, durationMeasure(c.TimeToResolution))
			continue
		}
		ms = append(ms, proportionMeasure(byName[name]))
	}
	c.Gate = decideGate(ms, minWins)
	c.Scale = c.Gate.Summary
	return c, nil
}

// decide runs the test for one metric and words the verdict.
func decide(mc *MetricComparison, x1, n1, x2, n2 int64, better Direction) {
	if n1 == 0 || n2 == 0 {
		mc.Verdict = VerdictTooSmall
		who := "pilot"
		if n1 > 0 {
			who = "baseline"
		} else if n2 == 0 {
			who = "pilot and baseline"
		}
		mc.TooSmall = who + ": no cases"
		return
	}
	t, _ := stats.TwoProportionZ(x1, n1, x2, n2)
	d, z, p := round6(t.Diff), round6(t.Z), round6(t.P)
	mc.Diff, mc.Z, mc.P = &d, &z, &p
	if t.Diff != 0 {
		need := decideSize(stats.SampleSize(t.P1, t.P2, 0.05, 0.80), t.Pooled)
		mc.Needed = &need
	}
	var why []string
	for _, c := range []struct {
		who string
		n   int64
	}{{"pilot", n1}, {"baseline", n2}} {
		if a := stats.CheckAdequacy(c.n, t.Pooled); !a.OK {
			why = append(why, c.who+": "+a.Reason)
		}
	}
	if len(why) > 0 {
		mc.Verdict = VerdictTooSmall
		mc.TooSmall = strings.Join(why, "; ")
		return
	}
	mc.Decidable = true
	if t.P >= 0.05 {
		mc.Verdict = VerdictNoDiff
		return
	}
	up := t.Diff > 0
	if (better == HigherIsBetter) == up {
		mc.Verdict = VerdictBetter
	} else {
		mc.Verdict = VerdictWorse
	}
}

const cohortSQL = `SELECT
	count(*),
	count(*) FILTER (WHERE workflow IS NOT NULL),
	count(*) FILTER (WHERE workflow IS NOT NULL AND completed_at IS NOT NULL),
	count(*) FILTER (WHERE workflow IS NOT NULL AND handovers > 0),
	count(*) FILTER (WHERE bot_msgs > 0),
	count(*) FILTER (WHERE bot_msgs > 0 AND outcome = 'handed_over'),
	count(*) FILTER (WHERE workflow IS NOT NULL AND completed_at IS NOT NULL AND writeback_ok),
	count(*) FILTER (WHERE workflow IS NOT NULL AND completed_at IS NOT NULL AND manual_wrap_up)
FROM case_facts
WHERE opened_at >= $1 AND opened_at < $2 AND `

func countCohort(ctx context.Context, st store.Store, s Selector, from, to time.Time, loc *time.Location) (cohortCounts, error) {
	cond, args := s.where(3, loc)
	var c cohortCounts
	err := st.DB().QueryRowContext(ctx, cohortSQL+cond, append([]any{from.UTC(), to.UTC()}, args...)...).
		Scan(&c.n, &c.wfN, &c.completed, &c.exceptions, &c.botN, &c.handedOver, &c.wbOK, &c.manual)
	if err != nil {
		return c, fmt.Errorf("counting cohort %s: %w", s, err)
	}
	return c, nil
}

func countOverlap(ctx context.Context, st store.Store, a, b Selector, from, to time.Time, loc *time.Location) (int64, error) {
	ca, aa := a.where(3, loc)
	cb, ab := b.where(3+len(aa), loc)
	args := append([]any{from.UTC(), to.UTC()}, aa...)
	args = append(args, ab...)
	var n int64
	err := st.DB().QueryRowContext(ctx, `SELECT count(*) FROM case_facts WHERE opened_at >= $1 AND opened_at < $2 AND (`+
		ca+`) AND (`+cb+`)`, args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("counting overlap of cohorts: %w", err)
	}
	return n, nil
}

// decideSize is the cases per cohort that decide a rate comparison: the
// power-based size n, at least MinN, and enough for MinExpected successes
// and failures under the pooled rate.
func decideSize(n, pooled float64) int64 {
	need := max(int64(math.Ceil(n)), stats.MinN)
	for _, q := range []float64{pooled, 1 - pooled} {
		if q > 0 {
			need = max(need, int64(math.Ceil(stats.MinExpected/q-1e-9)))
		}
	}
	return need
}

func round6(v float64) float64 {
	return math.Round(v*1e6) / 1e6
}
