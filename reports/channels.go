package reports

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/closedloop/closedloop/config"
	"github.com/closedloop/closedloop/store"
	"github.com/closedloop/closedloop/transforms"
)

// The pack's "In-message actions, channels and cost" section (a funnel per
// workflow, completion by channel sequence, the cost panel) and the
// governance findings beyond consent and template approval (personal
// numbers, untracked conversations, handovers without reason and pickup
// time, template hygiene, attachments, change control, the risk log).

// findingItemsShown caps the items listed per finding in the HTML; the
// complete lists are in drilldown/finding_<name>.csv.
const findingItemsShown = 20

// addChannels computes the funnels of the reported week and the
// governance findings of the trend weeks.
func (p *Pack) addChannels(ctx context.Context, st store.Store, opt Options, starts []time.Time, from, to, asof time.Time) error {
	cfg := opt.Config
	if cfg == nil {
		cfg = config.Default()
	}
	req := transforms.Request{From: from, To: to, Cutoff: asof, Loc: opt.Loc}
	fs, err := transforms.Funnels(ctx, st, req, transforms.FunnelOptions{Pricing: cfg.Pricing,
		FallbackWait: time.Duration(cfg.Funnel.FallbackWait)})
	if err != nil {
		return err
	}
	p.Funnels = fs
	g, err := transforms.ComputeGovernance(ctx, st, transforms.GovernanceRequest{Weeks: starts, To: to, Cutoff: asof, Loc: opt.Loc},
		transforms.GovernanceOptions{RegisteredNumbers: cfg.RegisteredNumbers, PickupTarget: cfg.PickupTarget, Calendars: opt.Calendars})
	if err != nil {
		return err
	}
	p.Governance = g
	return nil
}

// stepLabels name the funnel steps for people.
var stepLabels = map[string]string{
	transforms.StepTriggered:         "Triggered",
	transforms.StepDelivered:         "Delivered (any channel)",
	transforms.StepRead:              "Read / opened",
	transforms.StepActionStarted:     "Action started",
	transforms.StepIdentityValidated: "Identity validated",
	transforms.StepCompleted:         "Completed",
	transforms.StepWrittenBack:       "Written back",
}

// channelCharts adds the funnel, channel-sequence, cost and findings charts.
func (p *Pack) channelCharts(add func(role, title, explain string, height int, opt json.RawMessage)) {
	for _, f := range p.Funnels {
		var cats []string
		var vals []float64
		for _, s := range f.Steps {
			cats = append(cats, stepLabels[s.Step])
			vals = append(vals, float64(s.Cases))
		}
		role := "funnel-" + f.Workflow
		add(role, f.Workflow, fmt.Sprintf("Cases opened this week that reached each step by the as-of (%d triggered).", f.Steps[0].Cases),
			200, barChart(chartID(role), 200, cats, []barSeries{{"cases", vals, "#0072B2"}}, false, true))
	}
	seqs := p.SequenceRows()
	var cats []string
	var done, open []float64
	for _, s := range seqs {
		cats = append(cats, s.Sequence)
		done = append(done, float64(s.Completed))
		open = append(open, float64(s.Cases-s.Completed))
	}
	h := 60 + 24*max(len(cats), 2)
	add("channel-sequences", "Completion by channel sequence", "Workflow cases opened this week by the channels their messages used before completion, in order; completed or not by the as-of.",
		h, barChart(chartID("channel-sequences"), h, cats, []barSeries{{"completed", done, colGood}, {"not completed", open, "#BBBBBB"}}, true, true))
	var wfs []string
	var wa, sms, email []float64
	for _, f := range p.Funnels {
		wfs = append(wfs, f.Workflow)
		wa = append(wa, f.Cost.WhatsApp)
		sms = append(sms, f.Cost.SMS)
		email = append(email, f.Cost.Email)
	}
	h = 60 + 24*max(len(wfs), 2)
	add("cost", "Messaging cost by workflow ("+p.Currency()+")", "Billable WhatsApp messages at the rate card, SMS and e-mail at their unit cost, for the workflow cases opened this week.",
		h, barChart(chartID("cost"), h, wfs, []barSeries{{"WhatsApp", wa, "#009E73"}, {"SMS", sms, "#E69F00"}, {"e-mail", email, "#56B4E9"}}, true, true))
	if p.Governance == nil {
		return
	}
	short := make([]string, len(p.Governance.Weeks))
	for i, w := range p.Governance.Weeks {
		short[i] = w[5:]
	}
	var series []barSeries
	colors := []string{"#D55E00", "#E69F00", "#CC79A7", "#0072B2", "#009E73", "#56B4E9"}
	for i, f := range p.Governance.Findings {
		if !f.Configured {
			continue
		}
		var v []float64
		for _, w := range f.Weekly {
			v = append(v, float64(w.Count))
		}
		series = append(series, barSeries{f.Label, v, colors[i%len(colors)]})
	}
	add("trend-findings", "Governance findings per week", "Occurrences per week of each finding of this section (stacked).",
		240, barChart(chartID("trend-findings"), 240, short, series, true, false))
}

// Currency is the rate card's currency.
func (p *Pack) Currency() string {
	for _, f := range p.Funnels {
		if f.Cost.Currency != "" {
			return f.Cost.Currency
		}
	}
	return config.DefaultCurrency
}

// SequenceRows adds up completion by channel sequence over the workflows.
func (p *Pack) SequenceRows() []transforms.SequenceRow {
	by := map[string]*transforms.SequenceRow{}
	for _, f := range p.Funnels {
		for _, s := range f.Sequences {
			r := by[s.Sequence]
			if r == nil {
				r = &transforms.SequenceRow{Sequence: s.Sequence}
				by[s.Sequence] = r
			}
			r.Cases += s.Cases
			r.Completed += s.Completed
		}
	}
	out := make([]transforms.SequenceRow, 0, len(by))
	for _, r := range by {
		if r.Cases > 0 {
			v := float64(r.Completed) / float64(r.Cases)
			r.Completion = &v
		}
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Cases != out[j].Cases {
			return out[i].Cases > out[j].Cases
		}
		return out[i].Sequence < out[j].Sequence
	})
	return out
}

// CostRow is one workflow's line of the cost panel.
type CostRow struct {
	Workflow                  string
	WhatsApp, SMS, Email      string
	Total, PerCompleted       string
	Triggered, Completed      int64
	Fallback, Deflection, Seq string
}

func money(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// CostRows is the cost panel: one row per workflow, and the total.
func (p *Pack) CostRows() []CostRow {
	var out []CostRow
	var tot transforms.Cost
	var trig int64
	for _, f := range p.Funnels {
		c := f.Cost
		r := CostRow{Workflow: f.Workflow, WhatsApp: money(c.WhatsApp), SMS: money(c.SMS), Email: money(c.Email),
			Total: money(c.Total), PerCompleted: "—", Triggered: f.Steps[0].Cases, Completed: c.Completed,
			Fallback: pct0(f.FallbackRate), Deflection: pct0(f.DeflectionRate)}
		if c.PerCompleted != nil {
			r.PerCompleted = strconv.FormatFloat(*c.PerCompleted, 'f', 3, 64)
		}
		out = append(out, r)
		tot.WhatsApp += c.WhatsApp
		tot.SMS += c.SMS
		tot.Email += c.Email
		tot.Total += c.Total
		tot.Completed += c.Completed
		trig += f.Steps[0].Cases
	}
	if len(out) > 1 {
		r := CostRow{Workflow: "all workflows", WhatsApp: money(tot.WhatsApp), SMS: money(tot.SMS), Email: money(tot.Email),
			Total: money(tot.Total), PerCompleted: "—", Triggered: trig, Completed: tot.Completed, Fallback: "", Deflection: ""}
		if tot.Completed > 0 {
			r.PerCompleted = strconv.FormatFloat(tot.Total/float64(tot.Completed), 'f', 3, 64)
		}
		out = append(out, r)
	}
	return out
}

func pct0(v *float64) string {
	if v == nil {
		return "—"
	}
	return pct(*v)
}

// FunnelMatrix is the funnel steps (rows) of every workflow (columns).
type FunnelMatrix struct {
	Workflows []string
	Rows      []FunnelMatrixRow
}

// FunnelMatrixRow is one step across the workflows.
type FunnelMatrixRow struct {
	Label string
	Cells []FunnelCell
}

// FunnelCell is one workflow's figures at one step.
type FunnelCell struct {
	Cases, Dropped, Without int64
	Share                   string
}

// FunnelMatrix lays the funnels out as one table (nil without funnels).
func (p *Pack) FunnelMatrix() *FunnelMatrix {
	if len(p.Funnels) == 0 {
		return nil
	}
	m := &FunnelMatrix{}
	for _, f := range p.Funnels {
		m.Workflows = append(m.Workflows, f.Workflow)
	}
	for i, step := range transforms.FunnelSteps {
		r := FunnelMatrixRow{Label: stepLabels[step]}
		for _, f := range p.Funnels {
			s := f.Steps[i]
			c := FunnelCell{Cases: s.Cases, Share: pct0(s.Share)}
			if i > 0 {
				c.Dropped, c.Without = s.Dropped, s.WithoutPrevious
			}
			r.Cells = append(r.Cells, c)
		}
		m.Rows = append(m.Rows, r)
	}
	return m
}

// FindingView is one governance finding as the template shows it.
type FindingView struct {
	transforms.GovFinding
	Shown  []transforms.FindingItem
	More   int
	CSV    string
	Trend  string
	Active bool
}

// FindingViews are the governance findings as the template shows them.
func (p *Pack) FindingViews() []FindingView {
	if p.Governance == nil {
		return nil
	}
	var out []FindingView
	for _, f := range p.Governance.Findings {
		v := FindingView{GovFinding: f, CSV: csvPath("finding_" + f.Finding)}
		v.Shown = f.Items
		if len(v.Shown) > findingItemsShown {
			v.More = len(v.Shown) - findingItemsShown
			v.Shown = v.Shown[:findingItemsShown]
		}
		var counts []string
		for _, w := range f.Weekly {
			counts = append(counts, strconv.FormatInt(w.Count, 10))
			if w.Count > 0 {
				v.Active = true
			}
		}
		v.Trend = strings.Join(counts, " · ")
		out = append(out, v)
	}
	return out
}

// findingCSVs adds drilldown/finding_<name>.csv: every item of the
// reported week behind each finding.
func (p *Pack) findingCSVs(res map[string][]byte) {
	if p.Governance == nil {
		return
	}
	for _, f := range p.Governance.Findings {
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		_ = w.Write([]string{"week", "finding", "ts", "case_id", "unit", "key", "detail"})
		for _, it := range f.Items {
			_ = w.Write([]string{p.Week, f.Finding, it.TS.UTC().Format("2006-01-02T15:04:05.000Z"), it.CaseID, it.Unit, it.Key, it.Detail})
		}
		w.Flush()
		res["finding_"+f.Finding] = b.Bytes()
	}
}

func init() {
	funcs["step"] = func(s string) string { return stepLabels[s] }
	funcs["money"] = money
	funcs["ts"] = func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") }
	funcs["shortsha"] = func(s string) string {
		if len(s) > 12 {
			return s[:12]
		}
		return s
	}
	funcs["secsp"] = func(v *float64) string {
		if v == nil {
			return "—"
		}
		return duration(*v)
	}
	funcs["secs"] = func(v float64) string { return duration(v) }
	funcs["unit"] = func(s string) string {
		if len(s) > 24 {
			return s[:20] + "…"
		}
		return s
	}
}
