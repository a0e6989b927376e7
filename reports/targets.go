package reports

// Direction says which way a figure should move.
type Direction int

const (
	// Neutral figures have no better direction (volumes).
	Neutral Direction = iota
	// HigherIsBetter figures meet their target at or above it.
	HigherIsBetter
	// LowerIsBetter figures meet their target at or below it.
	LowerIsBetter
)

// Target is the level a KPI is held to in the pack.
type Target struct {
	Value     float64
	Direction Direction
	// Why explains the choice in one line, printed in the pack's appendix.
	Why string
}

// Targets are the default service targets the pack compares every week
// with. Rates are fractions (0.9 = 90%), durations seconds. They are a
// starting point for a CX team to agree on, not a standard:
//
//	response_sla_attainment    ≥ 90%   nine in ten waits answered within the queue's target
//	first_response_time_p90    ≤ 15 min (business time)
//	bot_resolution_rate        ≥ 60%   of bot-handled cases
//	agent_handover_rate        ≤ 35%   of bot-handled cases
//	template_delivery_success  ≥ 95%   Meta's healthy-number range
//	conversation_closure_rate  ≥ 80%   closed with a closure tag
//	repeat_message_rate        ≤ 15%   customers back within 7 days
//	completion_rate            ≥ 60%   of workflow cases
//	time_to_resolution_p50     ≤ 24 h  workflow cases
//	writeback_success          ≥ 98%   automatic writebacks into the system of record
//	writeback_retry_rate       ≤ 10%
//	exception_rate             ≤ 20%   workflow cases needing a human
//	manual_wrap_up_rate        ≤ 5%    cases wrapped up by hand
//	deflection_rate            ≥ 50%   workflow cases done in the message, no person
//	fallback_rate              ≤ 15%   workflow cases needing a second channel
//	consent_violations         0       template sends without opt-in
//	unapproved_template_sends  0       sends of templates not approved at the time
var Targets = map[string]Target{
	"response_sla_attainment":   {0.90, HigherIsBetter, "nine in ten waits answered within the queue's response target"},
	"first_response_time_p90":   {15 * 60, LowerIsBetter, "nine in ten cases get a first reply within 15 business minutes"},
	"bot_resolution_rate":       {0.60, HigherIsBetter, "most bot-handled cases resolved without a person"},
	"agent_handover_rate":       {0.35, LowerIsBetter, "at most about a third of bot-handled cases need a person"},
	"template_delivery_success": {0.95, HigherIsBetter, "a healthy WhatsApp sender delivers 95% of its templates"},
	"conversation_closure_rate": {0.80, HigherIsBetter, "closed cases carry a closure tag for root-cause analysis"},
	"repeat_message_rate":       {0.15, LowerIsBetter, "few customers have to come back within a week"},
	"completion_rate":           {0.60, HigherIsBetter, "most workflow cases complete"},
	"time_to_resolution_p50":    {24 * 3600, LowerIsBetter, "half of workflow cases complete within a day"},
	"writeback_success":         {0.98, HigherIsBetter, "the system of record learns of nearly every completed case automatically"},
	"writeback_retry_rate":      {0.10, LowerIsBetter, "integrations mostly succeed at the first attempt"},
	"exception_rate":            {0.20, LowerIsBetter, "at most one workflow case in five needs a person"},
	"manual_wrap_up_rate":       {0.05, LowerIsBetter, "manual wrap-up is the exception"},
	"deflection_rate":           {0.50, HigherIsBetter, "half of triggered workflow cases finish inside the message without a person"},
	"fallback_rate":             {0.15, LowerIsBetter, "most customers are reached on the first channel they are sent"},
	"consent_violations":        {0, LowerIsBetter, "no template is sent without an opt-in"},
	"unapproved_template_sends": {0, LowerIsBetter, "no template is sent without Meta's approval"},
}

// direction is the better direction of a KPI (Neutral without a target).
func direction(kpi string) Direction {
	if t, ok := Targets[kpi]; ok {
		return t.Direction
	}
	return Neutral
}

// meets reports whether v meets the target.
func (t Target) meets(v float64) bool {
	if t.Direction == LowerIsBetter {
		return v <= t.Value+1e-12
	}
	return v >= t.Value-1e-12
}
