package reports

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/closedloop/closedloop/stats"
	"github.com/closedloop/closedloop/store"
)

// DefaultScaleMinWins is how many significant wins the scale gate needs
// by default (config diagnose.scale_gate_min_wins).
const DefaultScaleMinWins = 3

// Scale verdicts.
const (
	ScaleReady     = "ready to scale"
	ScaleNotReady  = "not ready to scale"
	ScaleUndecided = "undecided"
)

// gateMeasures are the measures the scale gate weighs (SPEC §3), in the
// order the reasoning lists them; handover is compared but not weighed.
var gateMeasures = []string{"completion", "time_to_resolution", "writeback_success", "exception", "manual_wrap_up"}

// DurationComparison compares the time to resolution of the two cohorts:
// calendar time from opened to completed of the workflow cases opened in
// the period and completed by the cutoff, medians by nearest rank, tested
// with the two-sided Mann–Whitney U test (normal approximation).
type DurationComparison struct {
	Metric     string `json:"metric"`
	Label      string `json:"label"`
	Definition string `json:"definition"`
	Better     string `json:"better"`
	PilotN     int64  `json:"pilot_n"`
	BaselineN  int64  `json:"baseline_n"`
	// Medians in seconds; DiffMedian is pilot − baseline.
	PilotMedian    *float64 `json:"pilot_median_seconds"`
	BaselineMedian *float64 `json:"baseline_median_seconds"`
	DiffMedian     *float64 `json:"difference_seconds"`
	U              *float64 `json:"u"`
	Z              *float64 `json:"z"`
	P              *float64 `json:"p_value"`
	// PSup is the chance that a pilot case takes longer than a baseline
	// case (ties half): below 0.5 the pilot tends to be faster.
	PSup      *float64 `json:"p_pilot_slower"`
	Decidable bool     `json:"decidable"`
	TooSmall  string   `json:"too_small,omitempty"`
	// Needed is the cases per cohort that would detect the observed
	// shift with 80% power at α = 0.05 (Noether), nil when none is seen.
	Needed  *int64 `json:"needed_per_cohort"`
	Verdict string `json:"verdict"`
}

const ttrDefinition = "workflow cases opened in the period and completed by the cutoff: calendar time from opened to completed"

// compareDurations runs the Mann–Whitney test on two samples of seconds.
func compareDurations(pilot, base []float64) DurationComparison {
	d := DurationComparison{Metric: "time_to_resolution", Label: "Time to resolution", Definition: ttrDefinition,
		Better: "lower", PilotN: int64(len(pilot)), BaselineN: int64(len(base))}
	if len(pilot) > 0 {
		m := round6(stats.Median(pilot))
		d.PilotMedian = &m
	}
	if len(base) > 0 {
		m := round6(stats.Median(base))
		d.BaselineMedian = &m
	}
	if d.PilotMedian != nil && d.BaselineMedian != nil {
		v := round6(*d.PilotMedian - *d.BaselineMedian)
		d.DiffMedian = &v
	}
	if len(pilot) == 0 || len(base) == 0 {
		d.Verdict = VerdictTooSmall
		who := "pilot"
		if len(pilot) > 0 {
			who = "baseline"
		} else if len(base) == 0 {
			who = "pilot and baseline"
		}
		d.TooSmall = who + ": no completed cases"
		return d
	}
	t, _ := stats.MannWhitneyU(pilot, base)
	u, z, p, ps := round6(t.U1), round6(t.Z), round6(t.P), round6(t.PSup)
	d.U, d.Z, d.P, d.PSup = &u, &z, &p, &ps
	if t.PSup != 0.5 {
		n := int64(math.Ceil(stats.MannWhitneySampleSize(t.PSup, 0.05, 0.80)))
		d.Needed = &n
	}
	var why []string
	for _, c := range []struct {
		who string
		n   int
	}{{"pilot", len(pilot)}, {"baseline", len(base)}} {
		if c.n < stats.MinN {
			why = append(why, fmt.Sprintf("%s: fewer than %d completed cases", c.who, stats.MinN))
		}
	}
	if len(why) > 0 {
		d.Verdict = VerdictTooSmall
		d.TooSmall = strings.Join(why, "; ")
		return d
	}
	d.Decidable = true
	switch {
	case t.P >= 0.05:
		d.Verdict = VerdictNoDiff
	case t.PSup < 0.5:
		d.Verdict = VerdictBetter
	default:
		d.Verdict = VerdictWorse
	}
	return d
}

const durationsSQL = `SELECT epoch_ms(completed_at - opened_at) / 1000.0 FROM case_facts
WHERE opened_at >= $1 AND opened_at < $2 AND workflow IS NOT NULL AND completed_at IS NOT NULL AND `

func cohortDurations(ctx context.Context, st store.Store, s Selector, from, to time.Time, loc *time.Location) ([]float64, error) {
	cond, args := s.where(3, loc)
	rows, err := st.DB().QueryContext(ctx, durationsSQL+cond+` ORDER BY 1`, append([]any{from.UTC(), to.UTC()}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("reading times to resolution of %s: %w", s, err)
	}
	defer rows.Close()
	var out []float64
	for rows.Next() {
		var v float64
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("reading times to resolution of %s: %w", s, err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// GateMeasure is one measure as the scale gate reads it.
type GateMeasure struct {
	Measure string `json:"measure"`
	Label   string `json:"label"`
	Better  string `json:"better"`
	// Result is the comparison's verdict: pilot better, pilot worse, no
	// significant difference or too small to decide.
	Result    string   `json:"result"`
	Pilot     string   `json:"pilot"`
	Baseline  string   `json:"baseline"`
	PilotN    int64    `json:"pilot_n"`
	BaselineN int64    `json:"baseline_n"`
	P         *float64 `json:"p_value"`
	Test      string   `json:"test"`
	// Ahead: the observed difference points the pilot's way.
	Ahead    bool   `json:"pilot_ahead"`
	TooSmall string `json:"too_small,omitempty"`
	// Needed is the cases per cohort that would decide the measure: enough
	// to detect the observed difference with 80% power at α = 0.05, and
	// enough for the test's own rules (at least 30 cases; for a rate, 5
	// expected successes and failures). More is how many more that is than
	// the smaller cohort has now. Nil when no difference was observed.
	Needed *int64 `json:"needed_per_cohort"`
	More   *int64 `json:"more_per_cohort"`
	Line   string `json:"line"`
}

// ScaleGate is the verdict of SPEC §3's scale gate with its reasoning.
type ScaleGate struct {
	MinWins   int           `json:"min_wins"`
	Wins      []string      `json:"wins"`
	Losses    []string      `json:"losses"`
	Verdict   string        `json:"verdict"`
	Summary   string        `json:"summary"`
	HeldBack  []string      `json:"held_back_by"`
	More      *int64        `json:"more_cases_per_cohort"`
	Measures  []GateMeasure `json:"measures"`
	Reasoning []string      `json:"reasoning"`
}

// proportionMeasure reads a proportion comparison as a gate measure.
func proportionMeasure(m MetricComparison) GateMeasure {
	g := GateMeasure{Measure: m.Metric, Label: m.Label, Better: m.Better, Result: m.Verdict,
		Pilot: rateText(m.Pilot), Baseline: rateText(m.Baseline), PilotN: m.Pilot.N, BaselineN: m.Baseline.N,
		P: m.P, Test: "two-proportion z-test", TooSmall: m.TooSmall}
	if m.Needed != nil {
		need := *m.Needed // already the size that decides (decideSize)
		g.Needed = &need
	}
	if m.Diff != nil {
		g.Ahead = (*m.Diff > 0) == (m.Better == "higher") && *m.Diff != 0
	}
	if m.Metric == "exception" {
		g.Label = "Exception rate"
	}
	return g
}

func rateText(p Proportion) string {
	if p.Rate == nil {
		return "— (0/0)"
	}
	return fmt.Sprintf("%s (%d/%d)", pct(*p.Rate), p.X, p.N)
}

// durationMeasure reads the time-to-resolution comparison as a gate measure.
func durationMeasure(d DurationComparison) GateMeasure {
	g := GateMeasure{Measure: d.Metric, Label: d.Label, Better: d.Better, Result: d.Verdict,
		Pilot: medianText(d.PilotMedian, d.PilotN), Baseline: medianText(d.BaselineMedian, d.BaselineN),
		PilotN: d.PilotN, BaselineN: d.BaselineN, P: d.P, Test: "Mann–Whitney U", TooSmall: d.TooSmall}
	if d.Needed != nil {
		need := max(*d.Needed, stats.MinN)
		g.Needed = &need
	}
	if d.PSup != nil {
		g.Ahead = *d.PSup < 0.5
	}
	return g
}

func medianText(v *float64, n int64) string {
	if v == nil {
		return "— (0 cases)"
	}
	return fmt.Sprintf("median %s (%d cases)", duration(*v), n)
}

// decideGate applies the scale gate: ready when the pilot is significantly
// better on at least minWins measures and significantly worse on none.
// Otherwise it names what holds the pilot back; when enough measures point
// the pilot's way, the verdict is undecided and More is the extra cases per
// cohort after which, if the observed differences hold, the remaining wins
// would be significant (the largest of the cheapest measures needed).
func decideGate(ms []GateMeasure, minWins int) ScaleGate {
	if minWins <= 0 {
		minWins = DefaultScaleMinWins
	}
	g := ScaleGate{MinWins: minWins}
	type cand struct {
		label string
		more  int64
	}
	var cands []cand
	for i := range ms {
		m := &ms[i]
		if m.Needed != nil {
			more := *m.Needed - min(m.PilotN, m.BaselineN)
			if more < 0 {
				more = 0
			}
			m.More = &more
		}
		switch m.Result {
		case VerdictBetter:
			g.Wins = append(g.Wins, m.Label)
		case VerdictWorse:
			g.Losses = append(g.Losses, m.Label)
			g.HeldBack = append(g.HeldBack, m.Label+" (significantly worse)")
		case VerdictNoDiff, VerdictTooSmall:
			why := "no significant difference"
			if m.Result == VerdictTooSmall {
				why = "too few cases to decide"
			}
			if !m.Ahead {
				why += ", and the pilot is not ahead"
			}
			g.HeldBack = append(g.HeldBack, m.Label+" ("+why+")")
			if m.Ahead && m.More != nil {
				cands = append(cands, cand{m.Label, *m.More})
			}
		}
		m.Line = measureLine(*m)
	}
	need := minWins - len(g.Wins)
	n := len(ms)
	switch {
	case len(g.Losses) > 0:
		g.Verdict = ScaleNotReady
		g.Summary = fmt.Sprintf("%s: significantly worse on %s", ScaleNotReady, strings.Join(g.Losses, " and "))
		if len(g.Wins) > 0 {
			g.Summary += fmt.Sprintf(" (better on %d of %d: %s)", len(g.Wins), n, strings.Join(g.Wins, ", "))
		}
		g.HeldBack = nil
		for _, l := range g.Losses {
			g.HeldBack = append(g.HeldBack, l+" (significantly worse)")
		}
	case need <= 0:
		g.Verdict = ScaleReady
		g.Summary = fmt.Sprintf("%s: significantly better on %d of %d measures (%s) and worse on none", ScaleReady,
			len(g.Wins), n, strings.Join(g.Wins, ", "))
		g.HeldBack = nil
	case len(cands) >= need:
		sort.SliceStable(cands, func(i, j int) bool { return cands[i].more < cands[j].more })
		more := cands[need-1].more
		g.More = &more
		var names []string
		for _, c := range cands[:need] {
			names = append(names, c.label)
		}
		g.Verdict = ScaleUndecided
		g.Summary = fmt.Sprintf("%s: significantly better on %d of %d measures, %d needed, worse on none; held back by %s; "+
			"about %d more cases per cohort would decide %s, if the observed differences hold",
			ScaleUndecided, len(g.Wins), n, minWins, strings.Join(g.HeldBack, ", "), more, strings.Join(names, " and "))
	default:
		g.Verdict = ScaleNotReady
		g.Summary = fmt.Sprintf("%s: significantly better on %d of %d measures, %d needed, and only %d more point the pilot's way; held back by %s",
			ScaleNotReady, len(g.Wins), n, minWins, len(cands), strings.Join(g.HeldBack, ", "))
	}
	g.Measures = ms
	for _, m := range ms {
		g.Reasoning = append(g.Reasoning, m.Line)
	}
	g.Reasoning = append(g.Reasoning, "verdict: "+g.Summary)
	return g
}

// measureLine is the reasoning line of one measure, e.g.
// "+ Completion (higher is better): pilot 77.1% (108/140) vs baseline
// 62.3% (38/61), p = 0.031 → pilot better".
func measureLine(m GateMeasure) string {
	sign := map[string]string{VerdictBetter: "+", VerdictWorse: "−", VerdictNoDiff: "=", VerdictTooSmall: "?"}[m.Result]
	s := fmt.Sprintf("%s %s (%s is better): pilot %s vs baseline %s", sign, m.Label, m.Better, m.Pilot, m.Baseline)
	if m.P != nil {
		if *m.P < 0.001 {
			s += fmt.Sprintf(", %s p < 0.001", m.Test)
		} else {
			s += fmt.Sprintf(", %s p = %.3f", m.Test, *m.P)
		}
	}
	s += " → " + m.Result
	if m.TooSmall != "" {
		s += " (" + m.TooSmall + ")"
	}
	if m.Result == VerdictNoDiff || m.Result == VerdictTooSmall {
		switch {
		case m.Needed == nil:
			s += "; no difference observed, so no sample would decide it"
		case !m.Ahead:
			s += fmt.Sprintf("; the pilot is behind (about %d cases per cohort would show it)", *m.Needed)
		default:
			s += fmt.Sprintf("; about %d cases per cohort would decide it (%d more than the smaller cohort has)", *m.Needed, *m.More)
		}
	}
	return s
}
