// Package diagnose answers "which routine workflow should move into
// WhatsApp first": for each workflow and each case category it weighs the
// evidence for resolution fit over a window of cases — the share of
// routine contacts, how few outcome paths cover most cases, how many
// identity checks stand before the action, what triggers the work, and
// whether a completion event and a writeback target close the loop — and
// ranks the candidates with a one-line reason each. It also builds the
// demand map (volume by hour of the week in local time, by category and
// queue, and the top categories' weekly trend).
//
// The core is pure Go over per-case rows (Case, DemandCase) so that every
// figure can be tested by hand; a thin SQL layer (Load, LoadDemand) reads
// the rows from a DuckDB store's facts.
package diagnose

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/closedloop/closedloop/config"
)

// Thresholds say what a good first candidate looks like (config section
// diagnose).
type Thresholds struct {
	// MinShare: at least this share of all cases in the window.
	MinShare float64 `json:"min_routine_share"`
	// Coverage: outcome paths are counted until they cover this share of
	// the candidate's cases with an outcome.
	Coverage float64 `json:"path_coverage"`
	// MaxPaths: at most this many paths to reach Coverage.
	MaxPaths int `json:"max_outcome_paths"`
	// MaxIdentitySteps: median identity steps per completed case at most this.
	MaxIdentitySteps int `json:"max_identity_steps"`
}

// DefaultThresholds are the defaults of the configuration's diagnose section.
func DefaultThresholds() Thresholds { return ThresholdsFrom(config.Default().Diagnose) }

// ThresholdsFrom reads the thresholds of a (defaulted) diagnose section.
func ThresholdsFrom(d config.Diagnose) Thresholds {
	return Thresholds{MinShare: d.MinRoutineShare, Coverage: d.PathCoverage, MaxPaths: d.MaxOutcomePaths,
		MaxIdentitySteps: d.IdentitySteps()}
}

// Case is one case opened in the window, as the SQL layer reads it.
type Case struct {
	ID       string
	Workflow string // "" for a conversation
	Category string
	Queue    string
	Opened   time.Time
	// Events are the kinds of the case's case_events by the cutoff in time
	// order (opened, handover, completed, resolved, reopened).
	Events []string
	// ClosureTag is the tag of the latest resolution ("" untagged).
	ClosureTag string
	// Completed: the case has a completed event by the cutoff.
	Completed bool
	// Resolved: resolved at the cutoff (latest resolution after any reopening).
	Resolved bool
	// Trigger names what started the case: its first event kind and its
	// first message, e.g. "opened · template payment_reminder_v3" or
	// "opened · customer message".
	Trigger string
	// Actions is the number of secure in-message action events (the
	// actions table) of the case; IdentitySteps those that are
	// identity_validated or identity_failed.
	Actions       int
	IdentitySteps int
	// WritebackTargets are the target systems the case's writebacks went to.
	WritebackTargets []string
}

// HasOutcome reports whether the case reached an outcome by the cutoff
// (completed, or resolved): only those have an outcome path.
func (c Case) HasOutcome() bool { return c.Completed || c.Resolved }

// Path is the case's outcome path: its event kinds joined by ">".
func (c Case) Path() string { return strings.Join(c.Events, ">") }

// Count is a key with its number of cases.
type Count struct {
	Key   string `json:"key"`
	Cases int    `json:"cases"`
}

// Verdicts of a candidate.
const (
	// VerdictReady: every fit criterion holds and the loop is closed.
	VerdictReady = "ready"
	// VerdictNotClosed: a good fit, but there is no completion event or
	// no writeback target, so automation would not close the loop.
	VerdictNotClosed = "fit, not closed"
	// VerdictNotYet: at least one fit criterion fails.
	VerdictNotYet = "not yet"
)

// Candidate is the evidence for one workflow or case category.
type Candidate struct {
	Rank int    `json:"rank"`
	Kind string `json:"kind"` // workflow or category
	Name string `json:"name"`
	// Cases opened in the window; Share of all cases opened in it.
	Cases   int     `json:"cases"`
	Share   float64 `json:"share"`
	ShareOK bool    `json:"share_ok"`
	// OutcomeCases reached an outcome (completed or resolved) by the
	// cutoff; Paths is the number of most frequent outcome paths that
	// together cover the coverage share of them, TopPaths those paths.
	OutcomeCases int     `json:"outcome_cases"`
	Paths        int     `json:"paths"`
	PathsOK      bool    `json:"paths_ok"`
	TopPaths     []Count `json:"top_paths"`
	// DistinctPaths is how many different paths there are in all.
	DistinctPaths int `json:"distinct_paths"`
	// ClosureTags is the same count over the closure tags of the resolved
	// cases ("(untagged)" counts as a tag), for comparison.
	ClosureTags int     `json:"closure_tags"`
	TopTags     []Count `json:"top_closure_tags"`
	// IdentitySteps is the median (nearest rank) number of identity steps
	// per completed case; nil when not measurable (IdentityNote says why).
	CompletedCases int    `json:"completed_cases"`
	IdentitySteps  *int   `json:"identity_steps_median"`
	IdentityNote   string `json:"identity_note,omitempty"`
	IdentityOK     bool   `json:"identity_ok"`
	// Triggers are the triggers seen, most frequent first.
	Triggers []Count `json:"triggers"`
	// HasCompletion: some case has a completed event; Writeback lists the
	// target systems written to; Closed needs both.
	HasCompletion bool     `json:"has_completion_event"`
	Writeback     []string `json:"writeback_targets"`
	Closed        bool     `json:"closed_loop"`
	Met           int      `json:"criteria_met"`
	Verdict       string   `json:"verdict"`
	Reason        string   `json:"reason"`
}

// Candidates weighs every workflow and every category of cases (the
// cases opened in the window) and returns them ranked: ready first, then
// good fits whose loop is not closed, then the rest; within each, by the
// number of criteria met, share, kind (workflows first) and name.
func Candidates(cases []Case, th Thresholds) []Candidate {
	groups := map[[2]string][]Case{}
	for _, c := range cases {
		if c.Workflow != "" {
			k := [2]string{"workflow", c.Workflow}
			groups[k] = append(groups[k], c)
		}
		if c.Category != "" {
			k := [2]string{"category", c.Category}
			groups[k] = append(groups[k], c)
		}
	}
	var out []Candidate
	for k, cs := range groups {
		out = append(out, weigh(k[0], k[1], cs, len(cases), th))
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if va, vb := verdictOrder(a.Verdict), verdictOrder(b.Verdict); va != vb {
			return va < vb
		}
		if a.Met != b.Met {
			return a.Met > b.Met
		}
		if a.Cases != b.Cases {
			return a.Cases > b.Cases
		}
		if a.Kind != b.Kind {
			return a.Kind > b.Kind // workflow before category
		}
		return a.Name < b.Name
	})
	for i := range out {
		out[i].Rank = i + 1
	}
	return out
}

func verdictOrder(v string) int {
	switch v {
	case VerdictReady:
		return 0
	case VerdictNotClosed:
		return 1
	}
	return 2
}

// eps absorbs floating-point noise in threshold comparisons, so that 3
// cases of 20 are exactly at a 15% threshold.
const eps = 1e-9

func weigh(kind, name string, cs []Case, total int, th Thresholds) Candidate {
	c := Candidate{Kind: kind, Name: name, Cases: len(cs)}
	if total > 0 {
		c.Share = float64(len(cs)) / float64(total)
	}
	c.ShareOK = c.Share >= th.MinShare-eps

	paths, tags, triggers := map[string]int{}, map[string]int{}, map[string]int{}
	targets := map[string]bool{}
	var steps []int
	actions := false
	for _, x := range cs {
		if x.HasOutcome() {
			c.OutcomeCases++
			paths[x.Path()]++
		}
		if x.Resolved {
			t := x.ClosureTag
			if t == "" {
				t = "(untagged)"
			}
			tags[t]++
		}
		tr := x.Trigger
		if tr == "" {
			tr = "(unknown)"
		}
		triggers[tr]++
		if x.Completed {
			c.CompletedCases++
			c.HasCompletion = true
			steps = append(steps, x.IdentitySteps)
		}
		if x.Actions > 0 {
			actions = true
		}
		for _, t := range x.WritebackTargets {
			if t != "" {
				targets[t] = true
			}
		}
	}
	c.Paths, c.TopPaths = Covering(paths, th.Coverage)
	c.DistinctPaths = len(paths)
	c.PathsOK = c.OutcomeCases > 0 && c.Paths <= th.MaxPaths
	c.ClosureTags, c.TopTags = Covering(tags, th.Coverage)
	c.Triggers = ranked(triggers)
	switch {
	case !actions:
		c.IdentityNote = "no actions data"
		c.IdentityOK = true // not measured: does not count against the candidate
	case len(steps) == 0:
		c.IdentityNote = "no completed case"
		c.IdentityOK = true
	default:
		m := MedianInt(steps)
		c.IdentitySteps = &m
		c.IdentityOK = m <= th.MaxIdentitySteps
	}
	for t := range targets {
		c.Writeback = append(c.Writeback, t)
	}
	sort.Strings(c.Writeback)
	c.Closed = c.HasCompletion && len(c.Writeback) > 0

	for _, ok := range []bool{c.ShareOK, c.PathsOK, c.IdentityOK && c.IdentitySteps != nil, c.Closed} {
		if ok {
			c.Met++
		}
	}
	fit := c.ShareOK && c.PathsOK && c.IdentityOK
	switch {
	case fit && c.Closed:
		c.Verdict = VerdictReady
	case fit:
		c.Verdict = VerdictNotClosed
	default:
		c.Verdict = VerdictNotYet
	}
	c.Reason = reason(c, th)
	return c
}

// Covering returns how many of the most frequent keys together cover at
// least the coverage share of all counted cases, and those keys. Keys are
// taken by count, most frequent first, ties broken by name, so the keys
// listed are deterministic (their number does not depend on the tie
// break). No cases: 0 keys.
func Covering(counts map[string]int, coverage float64) (int, []Count) {
	all := ranked(counts)
	total := 0
	for _, c := range all {
		total += c.Cases
	}
	if total == 0 {
		return 0, nil
	}
	need := coverage * float64(total)
	cum := 0
	for i, c := range all {
		cum += c.Cases
		if float64(cum) >= need-eps*float64(total) {
			return i + 1, all[:i+1]
		}
	}
	return len(all), all
}

// ranked sorts counts by cases (descending), then key.
func ranked(counts map[string]int) []Count {
	out := make([]Count, 0, len(counts))
	for k, n := range counts {
		out = append(out, Count{k, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Cases != out[j].Cases {
			return out[i].Cases > out[j].Cases
		}
		return out[i].Key < out[j].Key
	})
	return out
}

// MedianInt is the nearest-rank median (position ceil(n/2) of the sorted
// list, SPEC §3); 0 for an empty list.
func MedianInt(v []int) int {
	if len(v) == 0 {
		return 0
	}
	s := append([]int(nil), v...)
	sort.Ints(s)
	return s[(len(s)+1)/2-1]
}

// reason is the one-line reading of a candidate, e.g.
// "promise_to_pay: ready — 34% of contacts, 2 paths cover 80%, 1 identity
// step, writes back to core_banking".
func reason(c Candidate, th Thresholds) string {
	var parts []string
	share := Percent(c.Share) + " of contacts"
	if !c.ShareOK {
		share += " (below " + Percent(th.MinShare) + ")"
	}
	parts = append(parts, share)
	cov := Percent(th.Coverage)
	switch {
	case c.OutcomeCases == 0:
		parts = append(parts, "no case has reached an outcome yet")
	case c.PathsOK:
		verb := "cover"
		if c.Paths == 1 {
			verb = "covers"
		}
		parts = append(parts, fmt.Sprintf("%s %s %s", plural(c.Paths, "path", "paths"), verb, cov))
	default:
		parts = append(parts, fmt.Sprintf("%s needed to cover %s (want at most %d)", plural(c.Paths, "path", "paths"), cov, th.MaxPaths))
	}
	switch {
	case c.IdentitySteps == nil:
		parts = append(parts, "identity steps n/a ("+c.IdentityNote+")")
	case c.IdentityOK:
		parts = append(parts, plural(*c.IdentitySteps, "identity step", "identity steps"))
	default:
		parts = append(parts, fmt.Sprintf("%s (want at most %d)", plural(*c.IdentitySteps, "identity step", "identity steps"), th.MaxIdentitySteps))
	}
	switch {
	case c.Closed:
		parts = append(parts, "writes back to "+strings.Join(c.Writeback, " and "))
	case !c.HasCompletion && len(c.Writeback) == 0:
		parts = append(parts, "no completion event and no writeback target: the loop is not closed")
	case !c.HasCompletion:
		parts = append(parts, "no completion event: the loop is not closed")
	default:
		parts = append(parts, "no writeback target: the loop is not closed")
	}
	return fmt.Sprintf("%s: %s — %s", c.Name, c.Verdict, strings.Join(parts, ", "))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Percent prints a share the way the diagnosis does: whole percent, one
// decimal below 10% ("34%", "3.2%").
func Percent(v float64) string {
	p := v * 100
	if math.Abs(p) < 10 && math.Abs(p-math.Round(p)) > 0.05 {
		return fmt.Sprintf("%.1f%%", p)
	}
	return fmt.Sprintf("%.0f%%", p)
}

// Result is a diagnosis over a window.
type Result struct {
	From       string      `json:"from"`
	To         string      `json:"to"`
	AsOf       string      `json:"as_of"`
	Timezone   string      `json:"timezone"`
	Days       int         `json:"days"`
	Cases      int         `json:"cases"`
	Thresholds Thresholds  `json:"thresholds"`
	Candidates []Candidate `json:"candidates"`
	// Note says what could not be measured (e.g. no actions data).
	Note string `json:"note,omitempty"`
}

// Diagnose weighs the cases of a window [from, to) and words the result.
func Diagnose(cases []Case, th Thresholds, from, to, asof time.Time, loc *time.Location) *Result {
	if loc == nil {
		loc = time.UTC
	}
	r := &Result{From: from.In(loc).Format(time.RFC3339), To: to.In(loc).Format(time.RFC3339),
		AsOf: asof.UTC().Format(time.RFC3339), Timezone: loc.String(), Cases: len(cases), Thresholds: th,
		Candidates: Candidates(cases, th)}
	r.Days = int(math.Round(to.Sub(from).Hours() / 24))
	actions := false
	for _, c := range cases {
		actions = actions || c.Actions > 0
	}
	if !actions && len(cases) > 0 {
		r.Note = "the store has no secure in-message action events (actions) for these cases, so identity steps are n/a and do not count against any candidate"
	}
	return r
}
