package serve

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
	"github.com/go-echarts/go-echarts/v2/types"

	"github.com/closedloop/closedloop/reports"
	"github.com/closedloop/closedloop/transforms"
)

// chartView is one chart of the dashboard: go-echarts builds the echarts
// option, which the page hands to the embedded echarts (never a CDN).
type chartView struct {
	ID, Title, Explain string
	Height             int
	Option             string // JSON
}

var palette = opts.Colors{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"}

func chartGlobals(id string, height int, legend bool) []charts.GlobalOpts {
	top := "12"
	if legend {
		top = "48"
	}
	return []charts.GlobalOpts{
		charts.WithInitializationOpts(opts.Initialization{ChartID: id, Width: "100%", Height: fmt.Sprintf("%dpx", height), Renderer: "svg"}),
		charts.WithAnimation(false),
		charts.WithColorsOpts(palette),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(legend), Top: "0", Left: "center", TextStyle: &opts.TextStyle{FontSize: 11}}),
		charts.WithGridOpts(opts.Grid{Left: "8", Right: "16", Top: top, Bottom: "8", ContainLabel: opts.Bool(true)}),
	}
}

type jsonChart interface {
	Validate()
	JSON() map[string]interface{}
}

func optionOf(c jsonChart) string {
	c.Validate()
	b, err := json.Marshal(c.JSON())
	if err != nil {
		return "{}"
	}
	return string(b)
}

// trendRates are the rate KPIs drawn in the trend chart.
var trendRates = []string{"response_sla_attainment", "bot_resolution_rate", "agent_handover_rate", "template_delivery_success", "completion_rate"}

func dashboardCharts(pk *reports.Pack, kinds map[string]transforms.Kind) []chartView {
	// Trend values per KPI and week, from the pack's figures (group all).
	byKPI := map[string]map[string]*float64{}
	for _, f := range pk.Figures {
		if f.Group != "all" {
			continue
		}
		if byKPI[f.KPI] == nil {
			byKPI[f.KPI] = map[string]*float64{}
		}
		byKPI[f.KPI][f.Week] = f.Value
	}
	series := func(kpi string, scale float64, decimals int) []opts.LineData {
		out := make([]opts.LineData, len(pk.Weeks))
		p := math.Pow(10, float64(decimals))
		for i, w := range pk.Weeks {
			v := byKPI[kpi][w]
			if v == nil {
				out[i] = opts.LineData{Value: "-"}
				continue
			}
			out[i] = opts.LineData{Value: math.Round(*v*scale*p) / p}
		}
		return out
	}
	line := func(id string, unit string) *charts.Line {
		c := charts.NewLine()
		c.SetGlobalOptions(chartGlobals(id, 280, true)...)
		var yMax any
		if unit == "%" {
			yMax = 100
		}
		c.SetGlobalOptions(
			charts.WithXAxisOpts(opts.XAxis{Type: "category", AxisLabel: &opts.AxisLabel{FontSize: 10}}),
			charts.WithYAxisOpts(opts.YAxis{Type: "value", Min: 0, Max: yMax,
				AxisLabel: &opts.AxisLabel{Formatter: types.FuncStr("{value}" + unit), FontSize: 10}}))
		c.SetXAxis(pk.Weeks)
		return c
	}
	lineOpts := []charts.SeriesOpts{
		charts.WithLineChartOpts(opts.LineChart{Symbol: "circle", SymbolSize: 5, ShowSymbol: opts.Bool(true)}),
		charts.WithLineStyleOpts(opts.LineStyle{Width: 2}),
	}
	var out []chartView

	rates := line("chart-trend-rates", "%")
	for _, k := range trendRates {
		if _, ok := byKPI[k]; ok {
			rates.AddSeries(reports.Label(k), series(k, 100, 1), lineOpts...)
		}
	}
	out = append(out, chartView{ID: "chart-trend-rates", Title: "Service rates by week", Height: 280,
		Explain: "Weekly values over the trend window; the last week is the one shown above.", Option: optionOf(rates)})

	frt := line("chart-trend-frt", " min")
	for _, k := range []string{"first_response_time_p50", "first_response_time_p90"} {
		if kinds[k] == transforms.KindPercentile || byKPI[k] != nil {
			frt.AddSeries(reports.Label(k), series(k, 1.0/60, 1), lineOpts...)
		}
	}
	out = append(out, chartView{ID: "chart-trend-frt", Title: "First response time by week (business minutes)", Height: 280,
		Explain: "p50 and p90 of the time to the first bot or agent reply.", Option: optionOf(frt)})

	if len(pk.Queues) > 0 {
		bar := charts.NewBar()
		bar.SetGlobalOptions(chartGlobals("chart-sla-queues", 60+28*len(pk.Queues), true)...)
		bar.SetGlobalOptions(
			charts.WithXAxisOpts(opts.XAxis{Type: "value", MinInterval: 1, AxisLabel: &opts.AxisLabel{FontSize: 10}}),
			charts.WithYAxisOpts(opts.YAxis{Type: "category", Inverse: opts.Bool(true), AxisLabel: &opts.AxisLabel{FontSize: 10, Interval: "0"}}))
		var names []string
		var ok, bad []opts.BarData
		for _, q := range pk.Queues {
			names = append(names, q.Queue)
			ok = append(ok, opts.BarData{Value: q.Attained})
			bad = append(bad, opts.BarData{Value: q.Breached})
		}
		bar.SetXAxis(names)
		bar.AddSeries("within target", ok, charts.WithBarChartOpts(opts.BarChart{Stack: "total", BarWidth: "50%"}),
			charts.WithItemStyleOpts(opts.ItemStyle{Color: "#009E73"}))
		bar.AddSeries("breached", bad, charts.WithBarChartOpts(opts.BarChart{Stack: "total", BarWidth: "50%"}),
			charts.WithItemStyleOpts(opts.ItemStyle{Color: "#D55E00"}))
		bar.XYReversal()
		out = append(out, chartView{ID: "chart-sla-queues", Title: "Waits answered within the queue's SLA target", Height: 60 + 28*len(pk.Queues),
			Explain: "Waiting periods of the week by queue (business time).", Option: optionOf(bar)})
	}
	return out
}
