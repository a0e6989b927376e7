package config

import (
	"fmt"
	"strings"
	"time"
)

// Pilot names the default cohorts of `closedloop compare` (flags override
// them): a pilot workflow or queue against a baseline, or the same work
// before and after a date.
type Pilot struct {
	// Pilot selects the pilot cohort, e.g. "workflow=promise_to_pay".
	Pilot string `yaml:"pilot"`
	// Baseline selects the cohort it is compared with, e.g.
	// "workflow=address_update" or "workflow=promise_to_pay,before=2026-03-01".
	Baseline string `yaml:"baseline"`
}

// Selector keys. Dimension keys match a case's field; date keys bound the
// local date (report time zone) a case was opened on.
const (
	SelectWorkflow = "workflow"
	SelectQueue    = "queue"
	SelectCategory = "category"
	SelectSince    = "since"  // opened on or after the date
	SelectBefore   = "before" // opened before the date
)

// SelectorTerm is one key=value condition.
type SelectorTerm struct{ Key, Value string }

// Selector is a cohort definition: every term must hold.
type Selector []SelectorTerm

// ParseSelector reads "key=value[,key=value...]" with the keys workflow,
// queue, category (exact match) and since, before (dates YYYY-MM-DD).
func ParseSelector(s string) (Selector, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("empty selector (want e.g. workflow=promise_to_pay)")
	}
	var out Selector
	seen := map[string]bool{}
	for _, term := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(term), "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("%q is not key=value (e.g. workflow=promise_to_pay)", term)
		}
		switch k {
		case SelectWorkflow, SelectQueue, SelectCategory:
		case SelectSince, SelectBefore:
			if _, err := time.Parse(time.DateOnly, v); err != nil {
				return nil, fmt.Errorf("%s=%q is not a date like 2026-03-01", k, v)
			}
		default:
			return nil, fmt.Errorf("unknown selector key %q (known: workflow, queue, category, since, before)", k)
		}
		if seen[k] {
			return nil, fmt.Errorf("%s is given twice", k)
		}
		seen[k] = true
		out = append(out, SelectorTerm{k, v})
	}
	return out, nil
}

// String writes the selector back in its canonical form.
func (s Selector) String() string {
	parts := make([]string, len(s))
	for i, t := range s {
		parts[i] = t.Key + "=" + t.Value
	}
	return strings.Join(parts, ",")
}

func (pl Pilot) validate(p *problems, path string) {
	if pl.Pilot == "" && pl.Baseline == "" {
		return
	}
	if pl.Pilot == "" {
		p.add(path+".pilot", "is required when baseline is set")
	}
	if pl.Baseline == "" {
		p.add(path+".baseline", "is required when pilot is set")
	}
	var ps, bs Selector
	var err error
	if pl.Pilot != "" {
		if ps, err = ParseSelector(pl.Pilot); err != nil {
			p.add(path+".pilot", "%v", err)
		}
	}
	if pl.Baseline != "" {
		if bs, err = ParseSelector(pl.Baseline); err != nil {
			p.add(path+".baseline", "%v", err)
		}
	}
	if ps != nil && bs != nil && ps.String() == bs.String() {
		p.add(path+".baseline", "is the same cohort as pilot")
	}
}
