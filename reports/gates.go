package reports

import (
	"fmt"
	"strings"
	"time"

	"github.com/closedloop/closedloop/transforms"
)

// Sanity gates (SPEC §3): a pack whose figures break one of these is not
// published unless forced. The names match config's gates.warn_only.
const (
	GateRateRange       = "rate_range"
	GateBotPlusHandover = "bot_plus_handover"
	GateSilentSource    = "silent_source"
	GateFutureEvents    = "future_events"
)

func gates(all, week, byQueue []transforms.Figure, fresh []Freshness, future []Reason, asof time.Time, warnOnly []string) []Gate {
	var out []Gate
	add := func(name, rule string, bad []string, okDetail string) {
		g := Gate{Name: name, Rule: rule, OK: len(bad) == 0, Blocking: !contains(warnOnly, name), Detail: okDetail}
		if !g.OK {
			if len(bad) > 5 {
				bad = append(bad[:5], fmt.Sprintf("and %d more", len(bad)-5))
			}
			g.Detail = strings.Join(bad, "; ")
		}
		out = append(out, g)
	}

	var bad []string
	rates := 0
	for _, f := range all {
		if f.Kind != transforms.KindRate || f.Value == nil {
			continue
		}
		rates++
		if *f.Value < 0 || *f.Value > 1 || f.Numerator > deref(f.Denominator) {
			g := ""
			if f.Group != "" {
				g = " [" + f.Group + "]"
			}
			bad = append(bad, fmt.Sprintf("%s%s = %g", f.KPI, g, *f.Value))
		}
	}
	add(GateRateRange, "every rate is within [0, 1]", bad, fmt.Sprintf("%d rates checked", rates))

	bad = nil
	sums := map[string][2]*float64{}
	var groups []string
	for _, set := range [][]transforms.Figure{week, byQueue} {
		for _, f := range set {
			if f.KPI != "bot_resolution_rate" && f.KPI != "agent_handover_rate" {
				continue
			}
			s, ok := sums[f.Group]
			if !ok {
				groups = append(groups, f.Group)
			}
			if f.KPI == "bot_resolution_rate" {
				s[0] = f.Value
			} else {
				s[1] = f.Value
			}
			sums[f.Group] = s
		}
	}
	for _, g := range groups {
		s := sums[g]
		if s[0] != nil && s[1] != nil && *s[0]+*s[1] > 1+1e-9 {
			name := g
			if name == "" {
				name = "all queues"
			}
			bad = append(bad, fmt.Sprintf("%s: %s + %s", name, pct(*s[0]), pct(*s[1])))
		}
	}
	add(GateBotPlusHandover, "bot resolution + handover ≤ 100%", bad, fmt.Sprintf("%d groups checked", len(groups)))

	bad = nil
	for _, f := range fresh {
		if f.WeekCount == 0 {
			bad = append(bad, f.Source+" sent no events in the week")
		}
	}
	add(GateSilentSource, "every source has events in the week", bad, fmt.Sprintf("%d sources checked", len(fresh)))

	bad = nil
	for _, r := range future {
		bad = append(bad, fmt.Sprintf("%d in %s", r.Count, r.Key))
	}
	add(GateFutureEvents, "no event is newer than the as-of", bad, "none after "+asof.UTC().Format(time.RFC3339))
	return out
}
