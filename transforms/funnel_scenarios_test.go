package transforms_test

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/closedloop/closedloop/config"
	"github.com/closedloop/closedloop/store"
	"github.com/closedloop/closedloop/transforms"
)

// funnelExpect is the `funnel:` block of a scenario: transforms.Funnel of
// one workflow over the scenario's period. Absent fields are not checked.
type funnelExpect struct {
	Workflow        string              `yaml:"workflow"`
	Steps           map[string]int64    `yaml:"steps"`
	Dropped         map[string]int64    `yaml:"dropped"`
	WithoutPrevious map[string]int64    `yaml:"without_previous"`
	StepCases       map[string][]string `yaml:"step_cases"`
	Fallback        *int64              `yaml:"fallback"`
	FallbackReasons map[string]int64    `yaml:"fallback_reasons"`
	Deflected       *int64              `yaml:"deflected"`
	// Sequences: channel sequence → [cases, completed].
	Sequences map[string][2]int64 `yaml:"sequences"`
	Cost      *costExpect         `yaml:"cost"`
}

type costExpect struct {
	Total        *float64 `yaml:"total"`
	WhatsApp     *float64 `yaml:"whatsapp"`
	SMS          *float64 `yaml:"sms"`
	Email        *float64 `yaml:"email"`
	Completed    *int64   `yaml:"completed"`
	PerCompleted *float64 `yaml:"per_completed"`
}

// findingsExpect is the `findings:` block: transforms.ComputeGovernance
// over `weeks` weeks ending at the scenario's `to` (default 1: the period).
type findingsExpect struct {
	Weeks       int                         `yaml:"weeks"`
	Counts      map[string]int64            `yaml:"counts"`
	Units       map[string][]string         `yaml:"units"`
	Weekly      map[string][]int64          `yaml:"weekly"`
	Pickup      map[string]pickupExpect     `yaml:"pickup"`
	Templates   map[string]templateExpect   `yaml:"templates"`
	Attachments map[string]attachmentExpect `yaml:"attachments"`
	Changes     *int                        `yaml:"changes"`
	RiskLog     []string                    `yaml:"risk_log"`
}

type pickupExpect struct {
	Handovers  *int64   `yaml:"handovers"`
	PickedUp   *int64   `yaml:"picked_up"`
	P50        *float64 `yaml:"p50"`
	P90        *float64 `yaml:"p90"`
	OverTarget *int64   `yaml:"over_target"`
	Waiting    *int64   `yaml:"waiting"`
}

type templateExpect struct {
	State      *string `yaml:"state"`
	Sends      *int64  `yaml:"sends"`
	Unapproved *int64  `yaml:"unapproved"`
	Delivered  *int64  `yaml:"delivered"`
	Failed     *int64  `yaml:"failed"`
	OptOuts    *int64  `yaml:"opt_outs"`
	Failures   *string `yaml:"failures"`
}

type attachmentExpect struct {
	Media         *int64 `yaml:"media"`
	DocumentCases *int64 `yaml:"document_cases"`
	Unreadable    *int64 `yaml:"unreadable"`
}

func scenarioConfig(t *testing.T, sc *scenario) *config.Config {
	if strings.TrimSpace(sc.Config) == "" {
		return config.Default()
	}
	cfg, err := config.Parse([]byte(sc.Config))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

func checkFunnel(t *testing.T, file string, st store.Store, sc *scenario, cal transforms.Calendars) {
	e := sc.Funnel
	if e == nil {
		return
	}
	cfg := scenarioConfig(t, sc)
	f, err := transforms.Funnel(context.Background(), st, transforms.Request{From: sc.from, To: sc.to, Cutoff: sc.cutoff, Loc: time.UTC},
		e.Workflow, transforms.FunnelOptions{Pricing: cfg.Pricing, FallbackWait: time.Duration(cfg.Funnel.FallbackWait)})
	if err != nil {
		t.Fatalf("%s: funnel: %v", file, err)
	}
	bad := func(format string, args ...any) { t.Errorf("%s: funnel: "+format, append([]any{file}, args...)...) }
	steps := map[string]transforms.FunnelStep{}
	for _, s := range f.Steps {
		steps[s.Step] = s
	}
	for name, want := range e.Steps {
		s, ok := steps[name]
		if !ok {
			bad("no step %q (steps: %v)", name, transforms.FunnelSteps)
		} else if s.Cases != want {
			bad("step %s: expected %d cases, got %d (%v)", name, want, s.Cases, s.CaseIDs)
		}
	}
	for name, want := range e.Dropped {
		if got := steps[name].Dropped; got != want {
			bad("step %s: expected %d dropped, got %d", name, want, got)
		}
	}
	for name, want := range e.WithoutPrevious {
		if got := steps[name].WithoutPrevious; got != want {
			bad("step %s: expected %d without the previous step, got %d", name, want, got)
		}
	}
	for name, want := range e.StepCases {
		if !equalSets(want, steps[name].CaseIDs) {
			bad("step %s: expected cases %v, got %v", name, sorted(want), sorted(steps[name].CaseIDs))
		}
	}
	if e.Fallback != nil && f.Fallback != *e.Fallback {
		bad("expected %d fallback cases, got %d %v", *e.Fallback, f.Fallback, f.FallbackWhy)
	}
	if e.FallbackReasons != nil {
		got := map[string]int64{}
		for _, c := range f.FallbackWhy {
			got[c.Key] = c.Count
		}
		if !equalCounts(e.FallbackReasons, got) {
			bad("fallback reasons: expected %s, got %s", fmtCounts(e.FallbackReasons), fmtCounts(got))
		}
	}
	if e.Deflected != nil && f.Deflected != *e.Deflected {
		bad("expected %d deflected, got %d", *e.Deflected, f.Deflected)
	}
	if e.Sequences != nil {
		got := map[string][2]int64{}
		for _, s := range f.Sequences {
			got[s.Sequence] = [2]int64{s.Cases, s.Completed}
		}
		if fmt.Sprint(sortedSeq(e.Sequences)) != fmt.Sprint(sortedSeq(got)) {
			bad("sequences [cases completed]: expected %v, got %v", sortedSeq(e.Sequences), sortedSeq(got))
		}
	}
	if c := e.Cost; c != nil {
		for _, x := range []struct {
			name      string
			want      *float64
			got       float64
			gotIsNull bool
		}{{"total", c.Total, f.Cost.Total, false}, {"whatsapp", c.WhatsApp, f.Cost.WhatsApp, false},
			{"sms", c.SMS, f.Cost.SMS, false}, {"email", c.Email, f.Cost.Email, false}} {
			if x.want != nil && math.Abs(*x.want-x.got) > 1e-9 {
				bad("cost %s: expected %g, got %g (%+v)", x.name, *x.want, x.got, f.Cost.Lines)
			}
		}
		if c.Completed != nil && f.Cost.Completed != *c.Completed {
			bad("cost: expected %d completed, got %d", *c.Completed, f.Cost.Completed)
		}
		if c.PerCompleted != nil && (f.Cost.PerCompleted == nil || math.Abs(*f.Cost.PerCompleted-*c.PerCompleted) > 1e-9) {
			bad("cost per completed case: expected %g, got %v", *c.PerCompleted, derefF(f.Cost.PerCompleted))
		}
	}
}

func sortedSeq(m map[string][2]int64) []string {
	var out []string
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s=%d/%d", k, v[0], v[1]))
	}
	sort.Strings(out)
	return out
}

func checkFindings(t *testing.T, file string, st store.Store, sc *scenario, cal transforms.Calendars) {
	e := sc.Findings
	if e == nil {
		return
	}
	cfg := scenarioConfig(t, sc)
	n := max(e.Weeks, 1)
	var weeks []time.Time
	for i := n - 1; i >= 0; i-- {
		weeks = append(weeks, sc.to.AddDate(0, 0, -7*(i+1)))
	}
	if n == 1 {
		weeks = []time.Time{sc.from}
	}
	g, err := transforms.ComputeGovernance(context.Background(), st,
		transforms.GovernanceRequest{Weeks: weeks, To: sc.to, Cutoff: sc.cutoff, Loc: time.UTC},
		transforms.GovernanceOptions{RegisteredNumbers: cfg.RegisteredNumbers, PickupTarget: cfg.PickupTarget, Calendars: cal})
	if err != nil {
		t.Fatalf("%s: findings: %v", file, err)
	}
	bad := func(format string, args ...any) { t.Errorf("%s: findings: "+format, append([]any{file}, args...)...) }
	by := map[string]transforms.GovFinding{}
	for _, f := range g.Findings {
		by[f.Finding] = f
	}
	for name, want := range e.Counts {
		f, ok := by[name]
		if !ok {
			bad("no finding %q", name)
			continue
		}
		if f.Count != want {
			bad("%s: expected %d in the reported week, got %d (%+v)", name, want, f.Count, f.Items)
		}
	}
	for name, want := range e.Units {
		var got []string
		for _, it := range by[name].Items {
			got = append(got, it.Unit)
		}
		if !equalSets(want, got) {
			bad("%s: expected units %v, got %v", name, sorted(want), sorted(got))
		}
	}
	for name, want := range e.Weekly {
		var got []int64
		for _, w := range by[name].Weekly {
			got = append(got, w.Count)
		}
		if fmt.Sprint(want) != fmt.Sprint(got) {
			bad("%s: expected weekly %v, got %v", name, want, got)
		}
	}
	pick := map[string]transforms.Pickup{}
	for _, p := range g.Pickup {
		pick[p.Queue] = p
	}
	for q, w := range e.Pickup {
		p, ok := pick[q]
		if !ok {
			bad("no pickup row for queue %q (%+v)", q, g.Pickup)
			continue
		}
		checkInt := func(name string, want *int64, got int64) {
			if want != nil && *want != got {
				bad("pickup %s %s: expected %d, got %d", q, name, *want, got)
			}
		}
		checkInt("handovers", w.Handovers, p.Handovers)
		checkInt("picked_up", w.PickedUp, p.PickedUp)
		checkInt("over_target", w.OverTarget, p.OverTarget)
		checkInt("waiting", w.Waiting, p.Waiting)
		for _, x := range []struct {
			name string
			want *float64
			got  *float64
		}{{"p50", w.P50, p.P50}, {"p90", w.P90, p.P90}} {
			if x.want != nil && (x.got == nil || math.Abs(*x.want-*x.got) > 1e-6) {
				bad("pickup %s %s: expected %g, got %v", q, x.name, *x.want, derefF(x.got))
			}
		}
	}
	tmpl := map[string]transforms.TemplateScore{}
	for _, s := range g.Templates {
		tmpl[s.Template] = s
	}
	for name, w := range e.Templates {
		s, ok := tmpl[name]
		if !ok {
			bad("no scorecard for template %q", name)
			continue
		}
		checkInt := func(field string, want *int64, got int64) {
			if want != nil && *want != got {
				bad("template %s %s: expected %d, got %d", name, field, *want, got)
			}
		}
		checkInt("sends", w.Sends, s.Sends)
		checkInt("unapproved", w.Unapproved, s.Unapproved)
		checkInt("delivered", w.Delivered, s.Delivered)
		checkInt("failed", w.Failed, s.Failed)
		checkInt("opt_outs", w.OptOuts, s.OptOuts)
		if w.State != nil && *w.State != s.State {
			bad("template %s state: expected %s, got %s", name, *w.State, s.State)
		}
		if w.Failures != nil && *w.Failures != s.TopFailures {
			bad("template %s failures: expected %q, got %q", name, *w.Failures, s.TopFailures)
		}
	}
	att := map[string]transforms.AttachmentRow{}
	for _, a := range g.Attachments {
		att[a.Workflow] = a
	}
	for name, w := range e.Attachments {
		a := att[name]
		for _, x := range []struct {
			field string
			want  *int64
			got   int64
		}{{"media", w.Media, a.Media}, {"document_cases", w.DocumentCases, a.DocumentCases}, {"unreadable", w.Unreadable, a.Unreadable}} {
			if x.want != nil && *x.want != x.got {
				bad("attachments %s %s: expected %d, got %d", name, x.field, *x.want, x.got)
			}
		}
	}
	if e.Changes != nil && len(g.Changes) != *e.Changes {
		bad("expected %d changes, got %d: %+v", *e.Changes, len(g.Changes), g.Changes)
	}
	if e.RiskLog != nil {
		var got []string
		for _, r := range g.RiskLog {
			got = append(got, fmt.Sprintf("%s %s %s..%s %d %s", r.Finding, r.Key, r.FirstSeen, r.LastSeen, r.WeeksOpen, r.Status))
		}
		if strings.Join(e.RiskLog, "\n") != strings.Join(got, "\n") {
			bad("risk log:\nexpected\n  %s\ngot\n  %s", strings.Join(e.RiskLog, "\n  "), strings.Join(got, "\n  "))
		}
	}
}
