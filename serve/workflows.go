package serve

import (
	"strings"

	"github.com/closedloop/closedloop/reports"
	"github.com/closedloop/closedloop/transforms"
)

// The dashboard's workflow and governance sections: the pack's funnel per
// workflow, completion by channel sequence, cost panel, governance
// findings of the trend weeks and risk log, from the same data functions
// the pack renders (reports.Pack.FunnelMatrix, CostRows, SequenceRows,
// FindingViews). The template, "workflow-sections", is defined in
// dashboards/templates/dashboard.tmpl, which places it before the data
// quality section.

// riskLogShown caps the risk-log rows on the dashboard (the pack has all).
const riskLogShown = 50

type workflowsView struct {
	Currency  string
	Funnel    *reports.FunnelMatrix
	Cost      []reports.CostRow
	Sequences []transforms.SequenceRow
	// Governance is false when the pack has no governance section.
	Governance bool
	From, To   string // the trend weeks
	Findings   []govFindingView
	RiskLog    []transforms.RiskEntry
	MoreRisks  int
}

type govFindingView struct {
	Finding, Label, Explain, Trend string
	Configured                     bool
	Count                          int64
	Items                          []govItem
	More                           int
}

type govItem struct {
	TS, CaseID, CaseLink, Unit, Key, Detail string
}

// newWorkflowsView lays out the pack's funnels and governance for p:
// message ids and pseudonyms are masked unless p sees them in full.
func newWorkflowsView(pk *reports.Pack, p Principal) workflowsView {
	v := workflowsView{Currency: pk.Currency(), Funnel: pk.FunnelMatrix(), Cost: pk.CostRows(), Sequences: pk.SequenceRows()}
	g := pk.Governance
	if g == nil {
		return v
	}
	v.Governance = true
	if len(g.Weeks) > 0 {
		v.From, v.To = g.Weeks[0], g.Weeks[len(g.Weeks)-1]
	}
	for _, f := range pk.FindingViews() {
		fv := govFindingView{Finding: f.Finding, Label: f.Label, Explain: f.Explain, Trend: f.Trend,
			Configured: f.Configured, Count: f.Count, More: f.More}
		for _, it := range f.Shown {
			// A unit is a message id (masked like any) or case@time.
			unit := it.Unit
			if !p.FullPseudonyms() && (it.CaseID == "" || !strings.HasPrefix(unit, it.CaseID+"@")) {
				unit = maskID(unit)
			}
			fv.Items = append(fv.Items, govItem{TS: it.TS.UTC().Format("2006-01-02 15:04"), CaseID: it.CaseID,
				CaseLink: caseLink(it.CaseID), Unit: unit, Key: it.Key, Detail: it.Detail})
		}
		v.Findings = append(v.Findings, fv)
	}
	v.RiskLog = g.RiskLog
	if len(v.RiskLog) > riskLogShown {
		v.MoreRisks = len(v.RiskLog) - riskLogShown
		v.RiskLog = v.RiskLog[:riskLogShown]
	}
	return v
}
