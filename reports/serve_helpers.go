package reports

import "github.com/closedloop/closedloop/transforms"

// Helpers exported for the dashboard of `closedloop serve`, so that it
// shows figures, labels and the chart library exactly as the pack does.

// EChartsJS returns the embedded echarts library (nil when the build has
// no chart asset; see ErrNoCharts).
func EChartsJS() []byte { return echartsJS }

// Display formats a figure's value for people, as the pack prints it.
func Display(kind transforms.Kind, v *float64) string { return display(kind, v) }

// Label is a KPI's human name.
func Label(kpi string) string { return label(kpi) }

// TargetText prints a KPI's target ("≥ 90.0%"), or "" when it has none.
func TargetText(kind transforms.Kind, kpi string) string {
	t, ok := Targets[kpi]
	if !ok {
		return ""
	}
	return targetText(kind, t)
}

// Duration renders seconds the way the pack does ("4m 05s").
func Duration(seconds float64) string { return duration(seconds) }
