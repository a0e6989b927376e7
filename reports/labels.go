package reports

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/closedloop/closedloop/transforms"
)

// kpiLabels are the names people read; the KPI's own name is printed
// beside it so figures can be looked up in the catalogue.
var kpiLabels = map[string]string{
	"agent_handover_rate":       "Handover to a person",
	"bot_resolution_rate":       "Resolved by the bot",
	"completion_rate":           "Workflow completion",
	"consent_violations":        "Sends without consent",
	"conversation_closure_rate": "Closed with a tag",
	"deflection_rate":           "Done in the message (deflection)",
	"exception_rate":            "Workflow exceptions",
	"fallback_rate":             "Needed a second channel",
	"first_response_time_p50":   "First response, median",
	"first_response_time_p90":   "First response, p90",
	"manual_wrap_up_rate":       "Manual wrap-up",
	"repeat_message_rate":       "Customers back within 7 days",
	"resolution_time_p50":       "Conversation resolution, median",
	"resolution_time_p90":       "Conversation resolution, p90",
	"response_sla_attainment":   "Response SLA attainment",
	"template_delivery_success": "Template delivery",
	"time_to_resolution_p50":    "Workflow time to complete, median",
	"time_to_resolution_p90":    "Workflow time to complete, p90",
	"unapproved_template_sends": "Unapproved template sends",
	"untagged_closures":         "Closures without a tag",
	"writeback_retry_rate":      "Writebacks needing retries",
	"writeback_success":         "Writeback success",
}

func label(kpi string) string {
	if l, ok := kpiLabels[kpi]; ok {
		return l
	}
	return strings.ReplaceAll(kpi, "_", " ")
}

// display formats a value of a figure of the given kind for people.
func display(kind transforms.Kind, v *float64) string {
	if v == nil {
		return "—"
	}
	switch kind {
	case transforms.KindRate:
		return pct(*v)
	case transforms.KindPercentile:
		return duration(*v)
	default:
		return strconv.FormatFloat(*v, 'f', 0, 64)
	}
}

func pct(v float64) string {
	return strconv.FormatFloat(v*100, 'f', 1, 64) + "%"
}

// duration renders seconds the way a person reads them.
func duration(s float64) string {
	if math.Abs(s) < 9.95 {
		return strconv.FormatFloat(s, 'f', 1, 64) + "s"
	}
	d := time.Duration(math.Round(s)) * time.Second
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour && d%time.Minute == 0:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < time.Hour:
		return fmt.Sprintf("%dm %02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%dh", int(d.Hours()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%.1f days", d.Hours()/24)
	}
}

// change formats a week-over-week movement.
func change(kind transforms.Kind, d float64) string {
	sign := "+"
	if d < 0 {
		sign = "−"
		d = -d
	}
	switch kind {
	case transforms.KindRate:
		return sign + strconv.FormatFloat(d*100, 'f', 1, 64) + " pp"
	case transforms.KindPercentile:
		return sign + duration(d)
	default:
		return sign + strconv.FormatFloat(d, 'f', 0, 64)
	}
}

// targetText prints a target.
func targetText(kind transforms.Kind, t Target) string {
	op := "≥ "
	if t.Direction == LowerIsBetter {
		op = "≤ "
	}
	v := t.Value
	return op + display(kind, &v)
}

// errorTitles are Meta's titles of the error codes seen most in template
// failures, used when a status carried no title.
var errorTitles = map[string]string{
	"131047":  "Re-engagement message",
	"131026":  "Message undeliverable",
	"131049":  "This message was not delivered to maintain healthy ecosystem engagement.",
	"130472":  "User's number is part of an experiment",
	"131048":  "Spam rate limit hit",
	"131051":  "Unsupported message type",
	"132000":  "Template param count mismatch",
	"132001":  "Template does not exist",
	"131000":  "Something went wrong",
	"131031":  "Account has been locked",
	"131042":  "Business eligibility payment issue",
	"131053":  "Media upload error",
	"unknown": "Failed without an error code",
}
