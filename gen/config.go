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
	governanceYAML(&b)
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

// queueCountry is the country whose WhatsApp rates a queue's number is
// billed at (the queues serve the UK, Spain, the US and Singapore).
var queueCountry = map[string]string{"collections": "GB", "payments": "ES", "address_changes": "US", "documents": "SG"}

// governanceYAML is the register of business numbers and senders, the rate
// card and the funnel settings of the simulated operation. The personal
// number one collections agent sometimes uses is deliberately not in the
// register.
func governanceYAML(b *strings.Builder) {
	b.WriteString("registered_numbers:              # WhatsApp phone number ids, Twilio SMS senders, the e-mail sender\n")
	for _, q := range queueSpecs() {
		fmt.Fprintf(b, "  - \"%s\"\n", q.phoneID)
	}
	for _, n := range smsFrom {
		fmt.Fprintf(b, "  - \"%s\"\n", n)
	}
	fmt.Fprintf(b, "  - \"%s\"\n", emailSender)
	b.WriteString(`pricing:                         # illustrative rates per billable message, EUR
  currency: EUR
  whatsapp:
    marketing: {GB: 0.0529, ES: 0.0615, US: 0.0250, SG: 0.0430, default: 0.0600}
    utility: {GB: 0.0220, ES: 0.0200, US: 0.0040, SG: 0.0160, default: 0.0250}
    authentication: {GB: 0.0358, ES: 0.0218, US: 0.0135, SG: 0.0237, default: 0.0300}
    service: {default: 0}
  sms_unit: 0.045
  email_unit: 0.0008
  countries:                       # business number → billing country
`)
	for _, q := range queueSpecs() {
		fmt.Fprintf(b, "    \"%s\": %s\n", q.phoneID, queueCountry[q.name])
	}
	b.WriteString("funnel:\n  fallback_wait: 24h\n")
}
