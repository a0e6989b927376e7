package reports

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
	"github.com/go-echarts/go-echarts/v2/types"
)

// chart is one chart of the pack: a container id and the echarts option
// built with go-echarts. The option is rendered as JSON and inlined; the
// page initialises every chart itself, so go-echarts' page templates (and
// their script tags pointing at a CDN) are never used.
type chart struct {
	ID      string
	Title   string
	Explain string
	Height  int
	Option  json.RawMessage
}

// palette is colour-blind safe (Okabe–Ito) and prints well in grey.
var palette = opts.Colors{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"}

const (
	colGood = "#009E73"
	colBad  = "#D55E00"
	colWarn = "#E69F00"
)

func initOpts(id string, height int) charts.GlobalOpts {
	return charts.WithInitializationOpts(opts.Initialization{
		ChartID:    id,
		Width:      "100%",
		Height:     fmt.Sprintf("%dpx", height),
		Renderer:   "svg",
		AssetsHost: "./",
	})
}

func common(id string, height int, legend bool) []charts.GlobalOpts {
	return []charts.GlobalOpts{
		initOpts(id, height),
		charts.WithAnimation(false),
		charts.WithColorsOpts(palette),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(legend), Top: "0", Left: "center",
			TextStyle: &opts.TextStyle{FontSize: 11, Color: "#333"}}),
		charts.WithGridOpts(opts.Grid{Left: "8", Right: "16", Top: gridTop(legend), Bottom: "8", ContainLabel: opts.Bool(true)}),
	}
}

type line struct {
	name string
	vals []*float64
}

// percentLine converts fractions to percentages with one decimal.
func scaled(vs []*float64, f float64, decimals int) []opts.LineData {
	out := make([]opts.LineData, len(vs))
	p := math.Pow(10, float64(decimals))
	for i, v := range vs {
		if v == nil {
			out[i] = opts.LineData{Value: "-"}
			continue
		}
		out[i] = opts.LineData{Value: math.Round(*v*f*p) / p}
	}
	return out
}

func lineChart(id string, height int, weeks []string, unit string, f float64, decimals int, series []line, target *float64) json.RawMessage {
	c := charts.NewLine()
	c.SetGlobalOptions(common(id, height, len(series) > 1)...)
	yMax := any(nil)
	if unit == "%" {
		yMax = 100
	}
	c.SetGlobalOptions(
		charts.WithXAxisOpts(opts.XAxis{Type: "category", AxisLabel: &opts.AxisLabel{FontSize: 10}}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Min: 0, Max: yMax,
			AxisLabel: &opts.AxisLabel{Formatter: types.FuncStr("{value}" + unitSuffix(unit)), FontSize: 10}}),
	)
	c.SetXAxis(weeks)
	for i, s := range series {
		so := []charts.SeriesOpts{
			charts.WithLineChartOpts(opts.LineChart{Symbol: "circle", SymbolSize: 5, ShowSymbol: opts.Bool(true), ConnectNulls: opts.Bool(false)}),
			charts.WithLineStyleOpts(opts.LineStyle{Width: 2}),
		}
		if i == 0 && target != nil {
			so = append(so, charts.WithMarkLineNameYAxisItemOpts(opts.MarkLineNameYAxisItem{Name: "target", YAxis: *target}),
				charts.WithMarkLineStyleOpts(opts.MarkLineStyle{Symbol: []string{"none", "none"},
					LineStyle: &opts.LineStyle{Color: colBad, Type: "dashed", Width: 1},
					Label:     &opts.Label{Show: opts.Bool(true), Formatter: "target {c}" + unitSuffix(unit), Position: "insideEndTop"}}))
		}
		c.AddSeries(s.name, scaled(s.vals, f, decimals), so...)
	}
	return optionJSON(c)
}

func unitSuffix(u string) string {
	if u == "" {
		return ""
	}
	if u == "%" {
		return "%"
	}
	return " " + u
}

type barSeries struct {
	name  string
	vals  []float64
	color string
}

func barChart(id string, height int, cats []string, series []barSeries, stack, horizontal bool) json.RawMessage {
	c := charts.NewBar()
	c.SetGlobalOptions(common(id, height, len(series) > 1)...)
	catAxis := opts.AxisLabel{FontSize: 10, Interval: "0"}
	valAxis := opts.AxisLabel{FontSize: 10}
	if horizontal {
		c.SetGlobalOptions(
			charts.WithXAxisOpts(opts.XAxis{Type: "value", MinInterval: 1, AxisLabel: &valAxis}),
			charts.WithYAxisOpts(opts.YAxis{Type: "category", Inverse: opts.Bool(true), AxisLabel: &catAxis}),
		)
	} else {
		c.SetGlobalOptions(
			charts.WithXAxisOpts(opts.XAxis{Type: "category", AxisLabel: &catAxis}),
			charts.WithYAxisOpts(opts.YAxis{Type: "value", MinInterval: 1, AxisLabel: &valAxis}),
		)
	}
	if len(series) == 1 {
		c.SetGlobalOptions(charts.WithGridOpts(opts.Grid{Left: "8", Right: "32", Top: "12", Bottom: "8", ContainLabel: opts.Bool(true)}))
	}
	c.SetXAxis(cats)
	for _, s := range series {
		data := make([]opts.BarData, len(s.vals))
		for i, v := range s.vals {
			data[i] = opts.BarData{Value: v}
		}
		pos := "top"
		if horizontal {
			pos = "right"
		}
		so := []charts.SeriesOpts{charts.WithLabelOpts(opts.Label{Show: opts.Bool(!stack), Position: pos, FontSize: 10})}
		if stack {
			so = append(so, charts.WithBarChartOpts(opts.BarChart{Stack: "total", BarWidth: "40%"}))
		} else {
			so = append(so, charts.WithBarChartOpts(opts.BarChart{BarWidth: "40%"}))
		}
		if s.color != "" {
			so = append(so, charts.WithItemStyleOpts(opts.ItemStyle{Color: s.color}))
		}
		c.AddSeries(s.name, data, so...)
	}
	if horizontal {
		c.XYReversal()
	}
	return optionJSON(c)
}

type validator interface {
	Validate()
	JSON() map[string]interface{}
}

// optionJSON renders a chart's echarts option. encoding/json sorts map
// keys and escapes <, > and &, so the option is deterministic and safe to
// inline in a script element.
func optionJSON(c validator) json.RawMessage {
	c.Validate()
	b, err := json.Marshal(c.JSON())
	if err != nil {
		panic(fmt.Sprintf("chart option does not marshal: %v", err))
	}
	return b
}

// chartID derives a stable element id from a chart's role.
func chartID(role string) string {
	var b strings.Builder
	b.WriteString("chart-")
	for _, r := range strings.ToLower(role) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}

// gridTop leaves room for a legend that may wrap to two lines in a
// half-width chart.
func gridTop(legend bool) string {
	if legend {
		return "52"
	}
	return "16"
}
