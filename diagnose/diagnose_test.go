package diagnose

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// mk builds n cases of a workflow (or category when wf is "") with the
// given path; completed and resolved follow from the path.
func mk(n int, wf, cat, path string, mod func(*Case)) []Case {
	var out []Case
	for i := 0; i < n; i++ {
		c := Case{ID: fmt.Sprintf("%s-%s-%s-%d", wf, cat, path, i), Workflow: wf, Category: cat, Opened: t0,
			Events: strings.Split(path, ">"), Trigger: "opened · customer message"}
		for _, e := range c.Events {
			c.Completed = c.Completed || e == "completed"
			if e == "resolved" {
				c.Resolved = true
			}
			if e == "reopened" {
				c.Resolved = false
			}
		}
		if mod != nil {
			mod(&c)
		}
		out = append(out, c)
	}
	return out
}

func find(t *testing.T, cs []Candidate, kind, name string) Candidate {
	t.Helper()
	for _, c := range cs {
		if c.Kind == kind && c.Name == name {
			return c
		}
	}
	t.Fatalf("no candidate %s %s in %+v", kind, name, cs)
	return Candidate{}
}

// Outcome paths, counted by hand. 20 outcome cases (and 3 still open,
// which have no outcome path):
//
//	opened>completed>resolved          8
//	opened>handover>resolved           4  ┐ tie: taken by name,
//	opened>resolved                    4  ┘ "opened>handover…" first
//	opened>handover>completed>resolved 2
//	opened>completed                   1
//	opened>resolved>reopened>resolved  1
//
// 80% of 20 is 16: 8 + 4 + 4 = 16 → 3 paths. At 85% (17): 4 paths.
func TestOutcomePathsWithTies(t *testing.T) {
	var cs []Case
	cs = append(cs, mk(8, "wf", "", "opened>completed>resolved", nil)...)
	cs = append(cs, mk(4, "wf", "", "opened>resolved", nil)...)
	cs = append(cs, mk(4, "wf", "", "opened>handover>resolved", nil)...)
	cs = append(cs, mk(2, "wf", "", "opened>handover>completed>resolved", nil)...)
	cs = append(cs, mk(1, "wf", "", "opened>completed", nil)...)
	cs = append(cs, mk(1, "wf", "", "opened>resolved>reopened>resolved", nil)...)
	cs = append(cs, mk(3, "wf", "", "opened>handover", nil)...) // no outcome yet
	th := DefaultThresholds()
	c := find(t, Candidates(cs, th), "workflow", "wf")
	if c.Cases != 23 || c.OutcomeCases != 20 || c.DistinctPaths != 6 {
		t.Fatalf("cases %d, outcome cases %d, distinct paths %d; want 23, 20, 6", c.Cases, c.OutcomeCases, c.DistinctPaths)
	}
	if c.Paths != 3 || !c.PathsOK {
		t.Fatalf("paths = %d (ok %v), want 3", c.Paths, c.PathsOK)
	}
	want := []Count{{"opened>completed>resolved", 8}, {"opened>handover>resolved", 4}, {"opened>resolved", 4}}
	if fmt.Sprint(c.TopPaths) != fmt.Sprint(want) {
		t.Errorf("top paths %v, want %v", c.TopPaths, want)
	}
	th.Coverage = 0.85
	if c := find(t, Candidates(cs, th), "workflow", "wf"); c.Paths != 4 || c.TopPaths[3].Key != "opened>handover>completed>resolved" {
		t.Errorf("at 85%%: %d paths %v, want 4", c.Paths, c.TopPaths)
	}
	// Five paths are too many at the default threshold (at most 4).
	th = DefaultThresholds()
	th.Coverage = 0.95 // 19 of 20: 8+4+4+2+1
	if c := find(t, Candidates(cs, th), "workflow", "wf"); c.Paths != 5 || c.PathsOK ||
		!strings.Contains(c.Reason, "5 paths needed to cover 95% (want at most 4)") {
		t.Errorf("at 95%%: %d paths, ok %v, reason %q", c.Paths, c.PathsOK, c.Reason)
	}
}

func TestCoveringEdges(t *testing.T) {
	if n, top := Covering(nil, 0.8); n != 0 || top != nil {
		t.Errorf("no cases: %d %v", n, top)
	}
	// One path covering everything; exactly 80% reached by the first.
	if n, _ := Covering(map[string]int{"a": 4, "b": 1}, 0.8); n != 1 {
		t.Errorf("4 of 5 is exactly 80%%: %d paths, want 1", n)
	}
	// A tie at the boundary: the number does not depend on the tie break.
	n, top := Covering(map[string]int{"b": 2, "a": 2, "c": 1}, 0.8)
	if n != 2 || top[0].Key != "a" || top[1].Key != "b" {
		t.Errorf("tie: %d %v", n, top)
	}
}

// Identity steps per completed case, from the actions telemetry: a case
// that failed the check and then passed it took 2 steps. Completed cases'
// steps 2 (failed, then validated), 1, 1, 3 → sorted 1 1 2 3, nearest-rank
// median at position ceil(4/2) = 2 → 1 step. The handed-over case that
// never completed (4 failures) does not count.
func TestIdentityStepsFailedThenPassed(t *testing.T) {
	steps := func(n int) func(*Case) {
		return func(c *Case) { c.IdentitySteps, c.Actions = n, n+2 }
	}
	var cs []Case
	cs = append(cs, mk(1, "kyc", "", "opened>completed>resolved", steps(2))...) // identity_failed, identity_validated
	cs = append(cs, mk(2, "kyc", "", "opened>completed>resolved", steps(1))...)
	cs = append(cs, mk(1, "kyc", "", "opened>completed>resolved", steps(3))...)
	cs = append(cs, mk(1, "kyc", "", "opened>handover>resolved", steps(4))...)
	c := find(t, Candidates(cs, DefaultThresholds()), "workflow", "kyc")
	if c.CompletedCases != 4 || c.IdentitySteps == nil || *c.IdentitySteps != 1 || !c.IdentityOK {
		t.Fatalf("identity: completed %d, median %v, ok %v", c.CompletedCases, c.IdentitySteps, c.IdentityOK)
	}
	if !strings.Contains(c.Reason, "1 identity step,") {
		t.Errorf("reason %q", c.Reason)
	}
	// Two failed-then-passed cases of three: median 2, still at the limit.
	cs = nil
	cs = append(cs, mk(2, "kyc", "", "opened>completed>resolved", steps(2))...)
	cs = append(cs, mk(1, "kyc", "", "opened>completed>resolved", steps(1))...)
	c = find(t, Candidates(cs, DefaultThresholds()), "workflow", "kyc")
	if *c.IdentitySteps != 2 || !c.IdentityOK {
		t.Errorf("median %d ok %v, want 2 and within the limit", *c.IdentitySteps, c.IdentityOK)
	}
	th := DefaultThresholds()
	th.MaxIdentitySteps = 1
	c = find(t, Candidates(cs, th), "workflow", "kyc")
	if c.IdentityOK || !strings.Contains(c.Reason, "2 identity steps (want at most 1)") || c.Verdict != VerdictNotYet {
		t.Errorf("over the limit: ok %v, verdict %s, reason %q", c.IdentityOK, c.Verdict, c.Reason)
	}
	// Without any actions data: n/a, which does not count against it.
	cs = mk(3, "kyc", "", "opened>completed>resolved", nil)
	c = find(t, Candidates(cs, DefaultThresholds()), "workflow", "kyc")
	if c.IdentitySteps != nil || c.IdentityNote != "no actions data" || !c.IdentityOK ||
		!strings.Contains(c.Reason, "identity steps n/a (no actions data)") {
		t.Errorf("no actions: %+v", c)
	}
}

// A category with exactly 15% of the window's cases (3 of 20) meets the
// default threshold; 2 of 20 (10%) does not.
func TestShareExactlyAtThreshold(t *testing.T) {
	wb := func(c *Case) { c.WritebackTargets = []string{"crm"} }
	var cs []Case
	cs = append(cs, mk(3, "", "address_change", "opened>completed>resolved", wb)...)
	cs = append(cs, mk(2, "", "billing", "opened>resolved", nil)...)
	cs = append(cs, mk(15, "", "other", "opened>resolved", nil)...)
	got := Candidates(cs, DefaultThresholds())
	a := find(t, got, "category", "address_change")
	if a.Share != 0.15 || !a.ShareOK || a.Verdict != VerdictReady {
		t.Fatalf("3 of 20: share %v ok %v verdict %s", a.Share, a.ShareOK, a.Verdict)
	}
	if a.Reason != "address_change: ready — 15% of contacts, 1 path covers 80%, identity steps n/a (no actions data), writes back to crm" {
		t.Errorf("reason %q", a.Reason)
	}
	b := find(t, got, "category", "billing")
	if b.ShareOK || !strings.Contains(b.Reason, "10% of contacts (below 15%)") || b.Verdict != VerdictNotYet {
		t.Errorf("2 of 20: %+v", b)
	}
	// "other" is a good fit by volume and paths but nothing completes or
	// writes back: not closed, ranked after the ready candidate.
	o := find(t, got, "category", "other")
	if o.Verdict != VerdictNotClosed || !strings.Contains(o.Reason, "no completion event and no writeback target: the loop is not closed") {
		t.Errorf("other: %s %q", o.Verdict, o.Reason)
	}
	if got[0].Name != "address_change" || got[1].Name != "other" || got[2].Name != "billing" {
		t.Errorf("ranking %s, %s, %s", got[0].Name, got[1].Name, got[2].Name)
	}
	for i, c := range got {
		if c.Rank != i+1 {
			t.Errorf("rank %d at %d", c.Rank, i)
		}
	}
}

// A workflow case is a candidate as a workflow and under its category;
// triggers, completion and writeback targets are gathered per candidate.
func TestWorkflowAndCategoryRows(t *testing.T) {
	trig := func(tr string, targets ...string) func(*Case) {
		return func(c *Case) { c.Trigger, c.WritebackTargets = tr, targets }
	}
	var cs []Case
	cs = append(cs, mk(9, "promise_to_pay", "arrears", "opened>completed>resolved", trig("opened · template payment_reminder_v3", "core_banking"))...)
	cs = append(cs, mk(1, "promise_to_pay", "arrears", "opened>resolved", trig("opened · template payment_plan_offer_v1"))...)
	cs = append(cs, mk(10, "", "billing", "opened>resolved", nil)...)
	got := Candidates(cs, DefaultThresholds())
	if len(got) != 3 {
		t.Fatalf("%d candidates, want workflow promise_to_pay, categories arrears and billing", len(got))
	}
	w := find(t, got, "workflow", "promise_to_pay")
	if w.Share != 0.5 || w.Verdict != VerdictReady || w.Rank != 1 || len(w.Triggers) != 2 ||
		w.Triggers[0] != (Count{"opened · template payment_reminder_v3", 9}) || fmt.Sprint(w.Writeback) != "[core_banking]" {
		t.Errorf("workflow row: %+v", w)
	}
	if w.Reason != "promise_to_pay: ready — 50% of contacts, 1 path covers 80%, identity steps n/a (no actions data), writes back to core_banking" {
		t.Errorf("reason %q", w.Reason)
	}
	if a := find(t, got, "category", "arrears"); a.Rank != 2 || !a.Closed {
		t.Errorf("the category of the same cases ranks after the workflow: %+v", a)
	}
	// Completion without a writeback is not a closed loop.
	cs = mk(5, "wf", "", "opened>completed>resolved", nil)
	if c := find(t, Candidates(cs, DefaultThresholds()), "workflow", "wf"); c.Closed || c.Verdict != VerdictNotClosed ||
		!strings.HasSuffix(c.Reason, "no writeback target: the loop is not closed") {
		t.Errorf("no writeback: %+v", c)
	}
}

func TestPercent(t *testing.T) {
	for v, want := range map[float64]string{0.34: "34%", 0.032: "3.2%", 0.15: "15%", 0.09: "9%", 0.1987: "20%", 0: "0%"} {
		if got := Percent(v); got != want {
			t.Errorf("Percent(%v) = %q, want %q", v, got, want)
		}
	}
}
