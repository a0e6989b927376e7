package config

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Validate reports every problem at once, each with its key path. Load and
// Parse call it; call it again after changing a Config in code.
func (c *Config) Validate() error {
	var p problems
	validateZone(&p, "report.timezone", c.Report.Timezone)
	for _, name := range sortedKeys(c.Queues) {
		c.validateQueue(&p, name, c.Queues[name])
	}
	for _, name := range sortedKeys(c.Calendars) {
		validateCalendar(&p, "calendars."+name, c.Calendars[name])
	}
	c.Schedules.validate(&p)
	for _, src := range sortedKeys(c.Freshness) {
		if c.Freshness[src] <= 0 {
			p.add("freshness."+src, "must be a positive duration like 26h")
		}
	}
	c.Gates.validate(&p, "gates")
	c.Retention.validate(&p, "retention")
	c.Evidence.validate(&p, "evidence")
	c.Pilot.validate(&p, "pilot")
	c.Pricing.validate(&p, "pricing")
	c.Funnel.validate(&p, "funnel")
	validateNames(&p, "registered_numbers", c.RegisteredNumbers)
	c.Serve.validate(&p, "serve")
	c.Collectors.validate(&p, "collectors")
	c.Diagnose.validate(&p, "diagnose")
	return p.err()
}

func (c *Config) validateQueue(p *problems, name string, q Queue) {
	path := "queues." + name
	if q.Calendar != "" {
		if _, ok := c.Calendars[q.Calendar]; !ok {
			p.add(path+".calendar", "calendar %q is not defined under calendars", q.Calendar)
		}
	}
	if q.SLATarget < 0 {
		p.add(path+".sla_target", "must be positive")
	}
	if q.PickupTarget < 0 {
		p.add(path+".pickup_target", "must be positive")
	}
}

// validateZone insists on an IANA name: "Local" would make figures depend
// on the machine that computed them.
func validateZone(p *problems, path, tz string) {
	switch {
	case tz == "":
		p.add(path, "is required")
	case tz == "Local":
		p.add(path, "use an IANA zone name like Europe/London, not Local")
	default:
		if _, err := time.LoadLocation(tz); err != nil {
			p.add(path, "unknown time zone %q", tz)
		}
	}
}

// validateNames checks a list of identifiers: none empty, none repeated.
func validateNames(p *problems, path string, names []string) {
	seen := map[string]int{}
	for i, n := range names {
		ip := indexPath(path, i)
		if strings.TrimSpace(n) == "" {
			p.add(ip, "must not be empty")
			continue
		}
		if j, dup := seen[n]; dup {
			p.add(ip, "%q is listed twice (also at [%d])", n, j)
			continue
		}
		seen[n] = i
	}
}

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSchedule parses a cron expression (CRON_TZ= prefix allowed).
func ParseSchedule(expr string) (cron.Schedule, error) { return cronParser.Parse(expr) }

func (s Schedules) validate(p *problems) {
	for _, f := range []struct{ key, v string }{{"transform", s.Transform}, {"collect", s.Collect}, {"weekly_pack", s.WeeklyPack}} {
		if f.v == "" {
			continue
		}
		if _, err := ParseSchedule(f.v); err != nil {
			p.add("schedules."+f.key, "%v", err)
		}
	}
}

func indexPath(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
