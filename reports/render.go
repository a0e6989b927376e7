package reports

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"strings"

	"github.com/closedloop/closedloop/transforms"
)

//go:embed assets templates
var assetFS embed.FS

// echartsJS is the echarts library fetched from npm by scripts/assets at
// build time (never committed).
var echartsJS = func() []byte {
	b, err := fs.ReadFile(assetFS, "assets/echarts.min.js")
	if err != nil {
		return nil
	}
	return b
}()

// ErrNoCharts is returned when the binary was built without the echarts
// asset.
var ErrNoCharts = fmt.Errorf("this build has no chart library: run scripts/assets (it fetches echarts from npm into reports/assets/echarts.min.js), then rebuild")

// keyCards are the KPIs shown as cards at the top of the pack.
var keyCards = []string{"response_sla_attainment", "first_response_time_p90", "bot_resolution_rate", "agent_handover_rate",
	"template_delivery_success", "completion_rate", "writeback_success", "exception_rate"}

// unitNoun says what a KPI counts, for the drill-down lists.
func unitNoun(kpi string) string {
	switch kpi {
	case "response_sla_attainment":
		return "waits (case@start)"
	case "template_delivery_success", "consent_violations", "unapproved_template_sends":
		return "messages"
	case "repeat_message_rate":
		return "resolutions (case@time)"
	case "writeback_retry_rate":
		return "writebacks (idempotency key)"
	}
	return "cases"
}

// drillView is one drill-down block of the appendix.
type drillView struct {
	ID, KPI, Label, Display, CSV string
	Num, Den                     int64
	HasDen                       bool
	NumCases, DenCases           int
	ReviewWhat                   string
	Review                       []string
	More                         int
}

const reviewCap = 48

func (p *Pack) drillViews() []drillView {
	var out []drillView
	for _, d := range p.drill {
		if d.group != "all" {
			continue
		}
		v := drillView{ID: drillID(d.kpi), KPI: d.kpi, Label: label(d.kpi), CSV: csvPath(d.kpi),
			Num: d.numCount, Den: d.denCnt, HasDen: d.kind != transforms.KindCount,
			NumCases: len(d.num), DenCases: len(d.den)}
		for _, h := range p.Headline {
			if h.KPI == d.kpi {
				v.Display = h.Display
			}
		}
		noun := unitNoun(d.kpi)
		var list []string
		switch {
		case d.kind == transforms.KindPercentile:
			v.ReviewWhat = "The cases measured are listed in the CSV."
		case d.kind == transforms.KindRate && direction(d.kpi) == HigherIsBetter:
			v.ReviewWhat = "To review — " + noun + " that count in the denominator but not the numerator:"
			list = minus(d.denUnits, d.numUnits)
		default:
			v.ReviewWhat = "To review — " + noun + " in the numerator:"
			list = d.numUnits
		}
		if len(list) > reviewCap {
			v.More = len(list) - reviewCap
			list = list[:reviewCap]
		}
		v.Review = list
		out = append(out, v)
	}
	return out
}

// minus returns the sorted a without the sorted b.
func minus(a, b []string) []string {
	var out []string
	j := 0
	for _, x := range a {
		for j < len(b) && b[j] < x {
			j++
		}
		if j < len(b) && b[j] == x {
			continue
		}
		out = append(out, x)
	}
	return out
}

func drillID(kpi string) string { return "drill-" + kpi }
func csvPath(kpi string) string { return "drilldown/" + kpi + ".csv" }

// chartSet builds every chart of the pack, in page order.
func (p *Pack) chartSet() map[string]chart {
	out := map[string]chart{}
	add := func(role, title, explain string, height int, opt json.RawMessage) {
		id := chartID(role)
		out[role] = chart{ID: id, Title: title, Explain: explain, Height: height, Option: opt}
	}
	short := make([]string, len(p.Weeks))
	for i, w := range p.Weeks {
		short[i] = w[5:]
	}
	tr := func(names ...string) []line {
		var ls []line
		for _, n := range names {
			ls = append(ls, line{name: label(n), vals: p.trends[n]})
		}
		return ls
	}
	t95 := Targets["template_delivery_success"].Value * 100
	add("trend-service", "Service levels", "Share of waits answered within target, cases resolved by the bot, cases handed to a person and closures with a tag, per week.",
		250, lineChart(chartID("trend-service"), 250, short, "%", 100, 1,
			tr("response_sla_attainment", "bot_resolution_rate", "agent_handover_rate", "conversation_closure_rate"), nil))
	add("trend-workflow", "Workflows", "Completion, automatic writeback, exceptions and manual wrap-up of workflow cases, per week.",
		250, lineChart(chartID("trend-workflow"), 250, short, "%", 100, 1,
			tr("completion_rate", "writeback_success", "exception_rate", "manual_wrap_up_rate"), nil))
	add("trend-speed", "First response (business minutes)", "Median and 90th percentile of the business time to the first bot or agent reply.",
		220, lineChart(chartID("trend-speed"), 220, short, "min", 1.0/60, 1,
			tr("first_response_time_p50", "first_response_time_p90"), nil))
	add("trend-resolution", "Time to resolve (hours)", "Median calendar time from opening to resolution (conversations) and to completion (workflows).",
		220, lineChart(chartID("trend-resolution"), 220, short, "h", 1.0/3600, 1,
			tr("resolution_time_p50", "time_to_resolution_p50"), nil))
	add("trend-templates", "Template delivery", "Share of template messages delivered or read; the dashed line is the target.",
		220, lineChart(chartID("trend-templates"), 220, short, "%", 100, 1, tr("template_delivery_success"), &t95))
	var volCases, volWf, consent, unapproved []float64
	for i := range p.Weeks {
		volCases = append(volCases, float64(p.figure(p.Weeks[i], "conversation_closure_rate").den()))
		volWf = append(volWf, float64(p.figure(p.Weeks[i], "completion_rate").den()))
		consent = append(consent, float64(p.figure(p.Weeks[i], "consent_violations").Numerator))
		unapproved = append(unapproved, float64(p.figure(p.Weeks[i], "unapproved_template_sends").Numerator))
	}
	add("trend-volume", "Cases opened", "All cases opened per week, and the workflow cases among them.",
		220, barChart(chartID("trend-volume"), 220, short, []barSeries{{"all cases", volCases, ""}, {"workflow cases", volWf, ""}}, false, false))
	add("trend-governance", "Governance findings per week", "Template sends without consent and sends of unapproved templates.",
		200, barChart(chartID("trend-governance"), 200, short, []barSeries{{"sends without consent", consent, colBad}, {"unapproved template sends", unapproved, colWarn}}, false, false))

	var qs []string
	var att, br []float64
	for _, q := range p.Queues {
		qs = append(qs, q.Queue)
		att = append(att, float64(q.Attained))
		br = append(br, float64(q.Breached))
	}
	add("sla-queue", "Waits by queue", "Waits answered within the queue's target (attained) and late or still unanswered past it (breached).",
		220, barChart(chartID("sla-queue"), 220, qs, []barSeries{{"attained", att, colGood}, {"breached", br, colBad}}, true, false))
	reasons := func(rs []Reason) ([]string, []float64) {
		var k []string
		var v []float64
		for _, r := range rs {
			k = append(k, r.Key)
			v = append(v, float64(r.Count))
		}
		return k, v
	}
	k, v := reasons(p.Exception)
	add("exception-reasons", "Workflow exceptions by reason", "First handover reason of workflow cases opened this week that needed a person.",
		40+22*max(len(k), 2), barChart(chartID("exception-reasons"), 40+22*max(len(k), 2), k, []barSeries{{"cases", v, "#CC79A7"}}, false, true))
	k, v = reasons(p.Handover)
	add("handover-reasons", "Handovers by reason", "First handover reason of bot-handled cases opened this week that were handed to a person.",
		40+22*max(len(k), 2), barChart(chartID("handover-reasons"), 40+22*max(len(k), 2), k, []barSeries{{"cases", v, "#0072B2"}}, false, true))
	var codes []string
	var cv []float64
	for _, t := range p.Templates {
		codes = append(codes, t.Code)
		cv = append(cv, float64(t.Count))
	}
	add("template-errors", "Template failures by error code", "Failed template messages by the error code Meta returned.",
		40+22*max(len(codes), 2), barChart(chartID("template-errors"), 40+22*max(len(codes), 2), codes, []barSeries{{"messages", cv, colBad}}, false, true))
	var sys []string
	var ok, failed, retried []float64
	for _, w := range p.Writeback {
		sys = append(sys, w.System)
		ok = append(ok, float64(w.Succeeded))
		failed = append(failed, float64(w.Failed))
		retried = append(retried, float64(w.Retried))
	}
	add("writebacks", "Writebacks by target system", "Writebacks first attempted this week: succeeded (including after retries) and still failed at the as-of.",
		200, barChart(chartID("writebacks"), 200, sys, []barSeries{{"succeeded", ok, colGood}, {"failed", failed, colBad}}, true, false))
	_ = retried
	src, sv := reasons(p.Quality.RejectsBySource)
	add("rejects-source", "Rejected input by source", "Documents and lines that could not be read, by the collector that rejected them (all rejects in the store).",
		40+22*max(len(src), 2), barChart(chartID("rejects-source"), 40+22*max(len(src), 2), src, []barSeries{{"rejected", sv, colWarn}}, false, true))
	p.demandCharts(add)
	p.channelCharts(add)
	return out
}

type figLite struct {
	Numerator   int64
	Denominator *int64
}

func (f figLite) den() int64 { return deref(f.Denominator) }

// figure finds an overall figure of a trend week.
func (p *Pack) figure(week, kpi string) figLite {
	for _, f := range p.Figures {
		if f.Week == week && f.KPI == kpi && f.Group == "all" {
			return figLite{f.Numerator, f.Denominator}
		}
	}
	return figLite{}
}

// page is what the template sees.
type page struct {
	*Pack
	Cards     []Headline
	Charts    map[string]chart
	Order     []string
	Drills    []drillView
	Options   template.JS
	Data      template.JS
	Echarts   template.JS
	CSS       template.CSS
	Boot      template.JS
	Targets   []targetRow
	Forced    bool
	Warnings  bool
	HasFinds  bool
	NewCodes  int
	FailGates []Gate
}

type targetRow struct{ KPI, Label, Target, Why string }

// HTML renders the pack as one self-contained HTML document.
func (p *Pack) HTML() ([]byte, error) {
	if len(echartsJS) == 0 {
		return nil, ErrNoCharts
	}
	css, err := fs.ReadFile(assetFS, "templates/pack.css")
	if err != nil {
		return nil, err
	}
	boot, err := fs.ReadFile(assetFS, "templates/boot.js")
	if err != nil {
		return nil, err
	}
	cs := p.chartSet()
	opts := map[string]json.RawMessage{}
	for _, c := range cs {
		opts[c.ID] = c.Option
	}
	ob, err := json.Marshal(opts)
	if err != nil {
		return nil, err
	}
	db, err := p.DataJSON()
	if err != nil {
		return nil, err
	}
	pg := page{Pack: p, Charts: cs, Drills: p.drillViews(), Options: template.JS(ob), Data: template.JS(db),
		Echarts: template.JS(safeScript(echartsJS)), CSS: template.CSS(css), Boot: template.JS(boot),
		Forced: p.Status == StatusForced, Warnings: p.Status == StatusWarnings}
	for _, k := range keyCards {
		for _, h := range p.Headline {
			if h.KPI == k {
				pg.Cards = append(pg.Cards, h)
			}
		}
	}
	for _, d := range p.Defs {
		for _, n := range []string{d.KPI, d.KPI + "_p50", d.KPI + "_p90"} {
			if t, ok := Targets[n]; ok {
				pg.Targets = append(pg.Targets, targetRow{n, label(n), targetText(p.kinds[n], t), t.Why})
			}
		}
	}
	for _, g := range p.Quality.Gates {
		if !g.OK {
			pg.FailGates = append(pg.FailGates, g)
		}
	}
	tpl, err := template.New("pack.html.tmpl").Funcs(funcs).ParseFS(assetFS, "templates/pack.html.tmpl")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := tpl.Execute(&buf, pg); err != nil {
		return nil, fmt.Errorf("rendering the pack: %w", err)
	}
	return buf.Bytes(), nil
}

// DataJSON is the pack's data section (embedded as id "pack-data").
func (p *Pack) DataJSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", " ")
	if err := enc.Encode(p); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// safeScript keeps a script from closing its element early.
func safeScript(b []byte) string {
	return strings.ReplaceAll(string(b), "</script", `<\/script`)
}

var funcs = template.FuncMap{
	"pct": func(v *float64) string {
		if v == nil {
			return "—"
		}
		return pct(*v)
	},
	"dur": func(v *float64) string {
		if v == nil {
			return "—"
		}
		return duration(*v)
	},
	"den": func(v *int64) string {
		if v == nil {
			return "—"
		}
		return fmt.Sprint(*v)
	},
	"label": label,
	"drill": func(kpi string) string { return "#" + drillID(kpi) },
	"csv":   csvPath,
	"upper": strings.ToUpper,
	"plural": func(n int64, one, many string) string {
		if n == 1 {
			return one
		}
		return many
	},
	"share": func(n, of int64) string {
		if of == 0 {
			return "—"
		}
		return pct(float64(n) / float64(of))
	},
	"pval": func(v *float64) string {
		if v == nil {
			return "—"
		}
		return pvalue(*v)
	},
	"signed": func(v *float64) string {
		if v == nil {
			return "—"
		}
		return change(transforms.KindRate, *v)
	},
	"needed": func(v *int64) string {
		if v == nil {
			return "—"
		}
		return fmt.Sprint(*v)
	},
	"short": func(s string) string {
		if len(s) > 12 {
			return s[:12]
		}
		return s
	},
	"add":   func(a, b int) int { return a + b },
	"ptr":   func(v float64) *float64 { return &v },
	"int64": func(n int) int64 { return int64(n) },
}
