package gen

import (
	"fmt"
	"slices"
)

// templateEvent is one approval-state change of a template.
type templateEvent struct {
	ts           int64
	name, status string
	actor        string
}

// writeTemplates writes the template history (before the case stream, it
// is small and fully known): eight templates approved before the period,
// one rejected and never approved (but used), one paused midway and its
// replacement approved shortly before. Each change is also audited.
func (rn *run) writeTemplates() {
	r := newRand(rn.seed, streamGlobal)
	var evs []templateEvent
	for _, t := range rn.w.templates {
		switch t.lifecycle {
		case "start":
			evs = append(evs, templateEvent{rn.start - between(r, 20*day, 150*day), t.name, "approved", "meta_review"})
		case "paused":
			evs = append(evs, templateEvent{rn.start - between(r, 60*day, 150*day), t.name, "approved", "meta_review"},
				templateEvent{rn.pausedAt, t.name, "paused", "meta_quality_system"})
		case "late":
			evs = append(evs, templateEvent{rn.pausedAt - between(r, 2*day, 4*day), t.name, "approved", "meta_review"})
		case "rejected":
			evs = append(evs, templateEvent{rn.start - between(r, 5*day, 15*day), t.name, "rejected", "meta_review"})
		}
	}
	slices.SortStableFunc(evs, func(a, b templateEvent) int { return cmpInt64(a.ts, b.ts) })
	for _, e := range evs {
		if e.ts >= rn.end {
			continue
		}
		rn.templates.write(rn.enc.line(templateRow{TemplateName: e.name, Status: e.status, TS: rfc3339ms(e.ts), Actor: e.actor}))
		rn.counts["templates."+e.status]++
		rn.auditLog.add(e.ts, e.actor, "platform", "template_status_changed", "template", e.name,
			map[string]any{"status": e.status, "category": rn.w.tmplCat[e.name]})
	}
}

// scheduleGovernance queues the audit entries that do not belong to a case:
// configuration changes (one of which, the promise_to_pay bot flow v13, is
// the change a pilot comparison should find), KPI definition changes and
// weekly data exports.
func (rn *run) scheduleGovernance() {
	r := newRand(rn.seed, streamGlobal+1)
	admin, analyst := "ops.lead@"+emailDomain, "cx.analyst@"+emailDomain
	at := func(frac float64) int64 {
		t := rn.start + int64(float64(rn.end-rn.start)*frac)
		return t - t%hour + 9*hour + between(r, 0, 50*minute)
	}
	cfg := func(t int64, key string, from, to any, why string) {
		rn.auditLog.add(t, admin, "admin", "config_change", "config", key,
			map[string]any{"key": key, "from": from, "to": to, "reason": why})
	}
	cfg(at(0.05), "queues.payments.pickup_target", "30m", "20m", "pickup times agreed with payments lead")
	cfg(at(0.2), "schedules.weekly_pack", "0 7 * * MON", "CRON_TZ=Europe/London 0 7 * * MON", "pack arrived before UK start of day")
	cfg(rn.flowV13At, "workflows.promise_to_pay.bot_flow_version", "v12", "v13", "pilot: date picker before amount confirmation")
	cfg(rn.pausedAt+hour, "workflows.document_collection.reminder_template", pausedTemplate, replacementTemplate, "template paused by Meta for low quality")
	cfg(at(0.8), "retention.message_days", 365, 180, "data minimisation review")
	kpi := func(t int64, name, change string) {
		rn.auditLog.add(t, analyst, "analyst", "kpi_definition_change", "kpi_definition", name,
			map[string]any{"kpi": name, "definition_version": 1, "change": change})
	}
	kpi(at(0.25), "response_sla_attainment", "waiting periods end at the next bot or agent message, template sends excluded")
	kpi(at(0.7), "writeback_success", "attempts sharing an idempotency key count as one writeback")
	for wk := 1; wk < rn.weeks; wk++ {
		t := rn.start + int64(wk)*week + 8*hour + between(r, 0, 2*hour)
		rn.auditLog.add(t, analyst, "analyst", "data_export", "report", fmt.Sprintf("weekly-pack-%02d", wk),
			map[string]any{"format": "html", "week_index": wk})
	}
}
