package reports

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/closedloop/closedloop/diagnose"
	"github.com/closedloop/closedloop/store"
)

// Demand map and diagnosis charts, shared by the pack and the dashboard of
// `closedloop serve` (which builds a Pack and can draw pk.Demand with the
// same options, or call diagnose.Map for another window).

// DemandTopCategories is how many categories the demand trend follows.
const DemandTopCategories = 5

// DemandHeatmapOption is the echarts option of a demand heatmap: cases by
// local weekday (rows, Monday on top) and local hour (columns). id is the
// chart's element id (the pack uses "chart-demand-heatmap"). The map's
// buckets are already in the report time zone (diagnose.HourOfWeek).
func DemandHeatmapOption(h diagnose.Heatmap, id string, height int) json.RawMessage {
	hours := make([]string, 24)
	for i := range hours {
		hours[i] = fmt.Sprintf("%02d", i)
	}
	c := charts.NewHeatMap()
	c.SetGlobalOptions(
		initOpts(id, height),
		charts.WithAnimation(false),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		charts.WithGridOpts(opts.Grid{Left: "8", Right: "16", Top: "8", Bottom: "64", ContainLabel: opts.Bool(true)}),
		// The axes carry their data: go-echarts' heatmap does not copy
		// SetXAxis into the option.
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Data: hours, SplitArea: &opts.SplitArea{Show: opts.Bool(true)},
			AxisLabel: &opts.AxisLabel{FontSize: 9, Interval: "0"}}),
		charts.WithYAxisOpts(opts.YAxis{Type: "category", Data: diagnose.Weekdays, Inverse: opts.Bool(true),
			SplitArea: &opts.SplitArea{Show: opts.Bool(true)}, AxisLabel: &opts.AxisLabel{FontSize: 10}}),
		charts.WithVisualMapOpts(opts.VisualMap{Type: "continuous", Calculable: opts.Bool(true), Min: 0,
			Max: float32(max(heatMax(h), 1)), Orient: "horizontal", Left: "center", Bottom: "0",
			InRange:   &opts.VisualMapInRange{Color: []string{"#f7fbff", "#6baed6", "#08306b"}},
			TextStyle: &opts.TextStyle{FontSize: 10}}),
	)
	var data []opts.HeatMapData
	for d := range h {
		for hr, n := range h[d] {
			data = append(data, opts.HeatMapData{Value: [3]any{hr, d, n}})
		}
	}
	c.AddSeries("cases opened", data, charts.WithLabelOpts(opts.Label{Show: opts.Bool(false)}))
	return optionJSON(c)
}

func heatMax(h diagnose.Heatmap) int64 {
	var m int64
	for d := range h {
		for _, n := range h[d] {
			m = max(m, n)
		}
	}
	return m
}

// DemandTrendOption is the echarts option of the top categories' cases
// opened per week (d.Weeks, d.Trend).
func DemandTrendOption(d *diagnose.Demand, id string, height int) json.RawMessage {
	short := make([]string, len(d.Weeks))
	for i, w := range d.Weeks {
		short[i] = w
		if len(w) > 5 {
			short[i] = w[5:]
		}
	}
	var ls []line
	for _, s := range d.Trend {
		vals := make([]*float64, len(s.Cases))
		for i, n := range s.Cases {
			v := float64(n)
			vals[i] = &v
		}
		ls = append(ls, line{name: s.Category, vals: vals})
	}
	return lineChart(id, height, short, "", 1, 0, ls, nil)
}

// demandCharts adds the demand map's charts to a chart set.
func (p *Pack) demandCharts(add func(role, title, explain string, height int, opt json.RawMessage)) {
	if p.Demand == nil {
		return
	}
	add("demand-heatmap", "Cases opened by hour of the week ("+p.Demand.Timezone+")",
		"All cases opened in the trend weeks by local weekday and hour; darker is busier. Peak: "+p.Demand.Peak+".",
		280, DemandHeatmapOption(p.Demand.Heatmap, chartID("demand-heatmap"), 280))
	add("demand-trend", "Top categories per week", "Cases opened per week in the busiest categories of the trend weeks.",
		240, DemandTrendOption(p.Demand, chartID("demand-trend"), 240))
}

// addDiagnosis adds the diagnosis of the days ending with the reported
// week and the demand map of the trend weeks.
func (p *Pack) addDiagnosis(ctx context.Context, st store.Store, opt Options, starts []time.Time, to, asof time.Time) error {
	th := diagnose.DefaultThresholds()
	if opt.Diagnose != nil {
		th = *opt.Diagnose
	}
	days := opt.DiagnoseDays
	if days <= 0 {
		days = 30
	}
	from := to.In(opt.Loc).AddDate(0, 0, -days)
	r, err := diagnose.Run(ctx, st, th, from, to, asof, opt.Loc)
	if err != nil {
		return err
	}
	r.Days = days
	p.Diagnosis = r
	d, err := diagnose.Map(ctx, st, opt.Loc, starts, to, DemandTopCategories)
	if err != nil {
		return err
	}
	// The pack keeps the overall map; per-category and per-queue maps are
	// one diagnose.Map call away for the dashboard.
	p.Demand = d.WithoutSliceMaps()
	return nil
}

// Template functions of the diagnosis section.
func init() {
	// qualityNo numbers the data-quality section after the optional ones.
	funcs["qualityNo"] = func(p *Pack) int {
		n := 10
		if p.Pilot != nil {
			n++
		}
		if p.Diagnosis != nil {
			n++
		}
		return n
	}
	funcs["share100"] = diagnose.Percent
	funcs["deref"] = func(v *int) int { return *v }
	funcs["join"] = strings.Join
}
