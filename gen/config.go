package gen

import (
	"fmt"
	"strings"
	"time"
)

// DemoConfigYAML returns a closedloop.yaml (SPEC §4a) declaring the queues
// and business calendars the simulator staffs, so that SLA and pickup
// figures computed on generated data are measured against the hours agents
// actually worked. Queues not declared would count as open 24×7.
func DemoConfigYAML() string {
	var b strings.Builder
	b.WriteString("# Queues and calendars of the simulated operation (closedloop gen).\n")
	b.WriteString("report:\n  timezone: Europe/London\n")
	b.WriteString("queues:\n")
	for _, q := range queueSpecs() {
		pickup := "30m"
		if q.name == "payments" {
			pickup = "20m" // see the config_change in the generated audit log
		}
		fmt.Fprintf(&b, "  %s:\n    calendar: %s\n    sla_target: 15m\n    pickup_target: %s\n", q.name, calendarName(q), pickup)
	}
	b.WriteString("calendars:\n")
	days := []struct {
		key string
		wd  time.Weekday
	}{{"mon", time.Monday}, {"tue", time.Tuesday}, {"wed", time.Wednesday}, {"thu", time.Thursday},
		{"fri", time.Friday}, {"sat", time.Saturday}, {"sun", time.Sunday}}
	for _, q := range queueSpecs() {
		fmt.Fprintf(&b, "  %s:\n    - valid_from: 2020-01-01\n      timezone: %s\n      hours:\n", calendarName(q), q.tz)
		for _, d := range days {
			spans := q.hours[d.wd]
			if len(spans) == 0 {
				continue
			}
			fmt.Fprintf(&b, "        %s: [\"%s\"]\n", d.key, strings.Join(spans, "\", \""))
		}
	}
	return b.String()
}

func calendarName(q queueSpec) string { return q.name + "_hours" }
