package reports

import (
	"strings"
	"testing"
)

// gateOf runs the comparison's own tests on hand-made cohorts: rates as
// (x1, n1, x2, n2) for completion, writeback success, exception and manual
// wrap-up, and the two samples of times to resolution (seconds).
func gateOf(t *testing.T, minWins int, completion, writeback, exception, manual [4]int64, pilotT, baseT []float64) ScaleGate {
	t.Helper()
	rate := func(name, label string, better Direction, c [4]int64) GateMeasure {
		mc := MetricComparison{Metric: name, Label: label, Better: "higher", Pilot: proportion(c[0], c[1]), Baseline: proportion(c[2], c[3])}
		if better == LowerIsBetter {
			mc.Better = "lower"
		}
		decide(&mc, c[0], c[1], c[2], c[3], better)
		return proportionMeasure(mc)
	}
	ms := []GateMeasure{
		rate("completion", "Completion", HigherIsBetter, completion),
		durationMeasure(compareDurations(pilotT, baseT)),
		rate("writeback_success", "Writeback success", HigherIsBetter, writeback),
		rate("exception", "Exception (handover)", LowerIsBetter, exception),
		rate("manual_wrap_up", "Manual wrap-up", LowerIsBetter, manual),
	}
	return decideGate(ms, minWins)
}

// seconds returns n durations from, from+step, …
func seconds(n int, from, step float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = from + float64(i)*step
	}
	return out
}

func results(g ScaleGate) string {
	var r []string
	for _, m := range g.Measures {
		r = append(r, m.Measure+"="+m.Result)
	}
	return strings.Join(r, " ")
}

// Three significant wins and no loss: ready.
//
//	completion 80/100 vs 60/100: p̄ = 0.7, SE = √(0.7·0.3·0.02) = 0.0648, z = 3.09, p = 0.002 → better
//	time: pilot 40 cases of 10–49 min, baseline 40 of 50–89 min: every pilot case is faster,
//	      U = 0, PSup = 0 → z = −7.7 → better
//	exception 10/100 vs 30/100: p̄ = 0.2, SE = 0.0566, z = −3.54 → better (lower)
//	writeback 78/80 vs 58/60: 5 expected failures not reached → too small
//	manual wrap-up 2/80 vs 3/60: too small
func TestScaleGateThreeWinsReady(t *testing.T) {
	g := gateOf(t, 3, [4]int64{80, 100, 60, 100}, [4]int64{78, 80, 58, 60}, [4]int64{10, 100, 30, 100}, [4]int64{2, 80, 3, 60},
		seconds(40, 600, 60), seconds(40, 3000, 60))
	if g.Verdict != ScaleReady || len(g.Wins) != 3 || len(g.Losses) != 0 {
		t.Fatalf("verdict %s, wins %v, losses %v (%s)", g.Verdict, g.Wins, g.Losses, results(g))
	}
	if g.Summary != "ready to scale: significantly better on 3 of 5 measures (Completion, Time to resolution, Exception rate) and worse on none" {
		t.Errorf("summary %q", g.Summary)
	}
	if len(g.Reasoning) != 6 || !strings.HasPrefix(g.Reasoning[0], "+ Completion (higher is better): pilot 80.0% (80/100) vs baseline 60.0% (60/100), two-proportion z-test p = 0.002 → pilot better") ||
		!strings.HasPrefix(g.Reasoning[1], "+ Time to resolution (lower is better): pilot median 29m (40 cases) vs baseline median 1h 09m (40 cases), Mann–Whitney U p < 0.001 → pilot better") ||
		!strings.HasPrefix(g.Reasoning[2], "? Writeback success") || g.Reasoning[5] != "verdict: "+g.Summary {
		t.Errorf("reasoning:\n%s", strings.Join(g.Reasoning, "\n"))
	}
	// With four wins required, the same evidence is not enough.
	if g4 := gateOf(t, 4, [4]int64{80, 100, 60, 100}, [4]int64{78, 80, 58, 60}, [4]int64{10, 100, 30, 100}, [4]int64{2, 80, 3, 60},
		seconds(40, 600, 60), seconds(40, 3000, 60)); g4.Verdict == ScaleReady {
		t.Errorf("4 wins required, 3 found: %s", g4.Summary)
	}
}

// Two wins and a significant loss: not ready, and the loss is named.
//
//	exception 30/100 vs 10/100: z = +3.54, the pilot hands over more → worse
func TestScaleGateTwoWinsAndALoss(t *testing.T) {
	g := gateOf(t, 3, [4]int64{80, 100, 60, 100}, [4]int64{78, 80, 58, 60}, [4]int64{30, 100, 10, 100}, [4]int64{2, 80, 3, 60},
		seconds(40, 600, 60), seconds(40, 3000, 60))
	if g.Verdict != ScaleNotReady || len(g.Wins) != 2 || len(g.Losses) != 1 || g.Losses[0] != "Exception rate" {
		t.Fatalf("verdict %s, wins %v, losses %v (%s)", g.Verdict, g.Wins, g.Losses, results(g))
	}
	if g.Summary != "not ready to scale: significantly worse on Exception rate (better on 2 of 5: Completion, Time to resolution)" {
		t.Errorf("summary %q", g.Summary)
	}
	if len(g.HeldBack) != 1 || g.HeldBack[0] != "Exception rate (significantly worse)" {
		t.Errorf("held back by %v", g.HeldBack)
	}
	if !strings.HasPrefix(g.Reasoning[3], "− Exception rate (lower is better): pilot 30.0% (30/100) vs baseline 10.0% (10/100)") {
		t.Errorf("loss line %q", g.Reasoning[3])
	}
}

// Too few cases everywhere: undecided, with the sample that would decide.
// Hand-computed cases per cohort to decide (80% power, α = 0.05):
//
//	completion 20/25 vs 15/25: Fleiss n = [1.96·√(2·0.7·0.3) + 0.8416·√(0.16+0.24)]² / 0.2² = 81.2 → 82; 57 more than 25
//	time: pilot 1..25 min, baseline 11..35 min (ties at 11..25): U = 105 + 15/2 = 112.5, PSup = 0.18,
//	      Noether n = (1.96+0.8416)²/(3·0.32²)/2 = 12.8 → 13, but the test needs 30 → 5 more
//	exception 2/25 vs 6/25: n = [1.96·√(2·0.16·0.84) + 0.8416·√(0.0736+0.1824)]² / 0.16² = 81.2 → 82; 57 more
//	writeback 19/20 vs 14/15 (pilot ahead by 1.7 pp): thousands
//	manual 0/20 vs 1/15: n = 113 by power, but 5 expected successes at p̄ = 1/35 need 175
//
// Three wins are needed and none is significant: the three cheapest
// measures pointing the pilot's way are time (5 more), completion and
// exception (57 more each), so about 57 more cases per cohort decide.
func TestScaleGateTooFewCasesUndecided(t *testing.T) {
	g := gateOf(t, 3, [4]int64{20, 25, 15, 25}, [4]int64{19, 20, 14, 15}, [4]int64{2, 25, 6, 25}, [4]int64{0, 20, 1, 15},
		seconds(25, 60, 60), seconds(25, 660, 60))
	if g.Verdict != ScaleUndecided || len(g.Wins) != 0 || len(g.Losses) != 0 {
		t.Fatalf("verdict %s (%s)", g.Verdict, results(g))
	}
	for _, m := range g.Measures {
		if m.Result != VerdictTooSmall || !m.Ahead || m.Needed == nil {
			t.Errorf("%s: %s, ahead %v, needed %v", m.Measure, m.Result, m.Ahead, m.Needed)
		}
	}
	want := map[string]int64{"completion": 82, "time_to_resolution": 30, "exception": 82, "manual_wrap_up": 175}
	for _, m := range g.Measures {
		if w, ok := want[m.Measure]; ok && *m.Needed != w {
			t.Errorf("%s needs %d per cohort, want %d", m.Measure, *m.Needed, w)
		}
	}
	if g.More == nil || *g.More != 57 {
		t.Fatalf("more cases per cohort %v, want 57", g.More)
	}
	if !strings.Contains(g.Summary, "undecided: significantly better on 0 of 5 measures, 3 needed, worse on none; held back by Completion (too few cases to decide)") ||
		!strings.Contains(g.Summary, "about 57 more cases per cohort would decide Time to resolution and Completion and Exception rate") {
		t.Errorf("summary %q", g.Summary)
	}
	if !strings.Contains(g.Reasoning[0], "about 82 cases per cohort would decide it (57 more than the smaller cohort has)") {
		t.Errorf("completion line %q", g.Reasoning[0])
	}
}

// Enough cases, no loss, but too few measures point the pilot's way: more
// cases would not make it ready.
func TestScaleGateNotEnoughAhead(t *testing.T) {
	g := gateOf(t, 3, [4]int64{60, 100, 60, 100}, [4]int64{90, 100, 90, 100}, [4]int64{10, 100, 30, 100}, [4]int64{20, 100, 20, 100},
		seconds(40, 600, 60), seconds(40, 600, 60))
	if g.Verdict != ScaleNotReady || g.More != nil || !strings.Contains(g.Summary, "and only 0 more point the pilot's way") {
		t.Errorf("%s: %s", g.Verdict, g.Summary)
	}
	if !strings.Contains(g.Reasoning[0], "no difference observed, so no sample would decide it") {
		t.Errorf("line %q", g.Reasoning[0])
	}
}
