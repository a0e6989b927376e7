package gen

import (
	"fmt"
	"strconv"
)

// Canonical (workflow engine / system of record) side of a case.

func itoa(n int) string { return strconv.Itoa(n) }

// caseEvent records one case_events row of the workflow case.
func (s *caseSim) caseEvent(t int64, event, actor, reason, tag string) bool {
	if s.past(t) {
		return false
	}
	row := caseRow{CaseID: s.caseID, CustomerID: s.cust.waID, Event: event, TS: rfc3339ms(t),
		Queue: s.q.name, Category: s.wf.category, Workflow: s.wf.name, Actor: actor, Reason: reason, ClosureTag: tag}
	s.out.add(&s.out.cases, t, s.enc.line(row))
	s.counts["cases."+event]++
	s.touch(t)
	return true
}

// messageRow records an outbound message of the workflow engine's log.
func (s *caseSim) messageRow(t int64, o *outMsg, senderType, kind, template string) {
	row := messageRow{MessageID: o.id, CaseID: s.caseID, CustomerID: s.cust.waID, Direction: "outbound",
		SenderType: senderType, Kind: kind, TemplateName: template, Channel: "whatsapp",
		BusinessNumber: s.q.phoneID, TS: rfc3339ms(t)}
	if senderType == "agent" && s.viaNumber != "" {
		row.BusinessNumber = s.viaNumber
	}
	s.out.add(&s.out.messages, t, s.enc.line(row))
	if t < s.end {
		s.counts["messages."+senderType]++
	}
}

// sendTemplate sends a template from the engine (sender system), checking
// consent the way the engine would have to: it records what consent the
// customer gave, and sends anyway (the governance findings catch it).
func (s *caseSim) sendTemplate(t int64, name string) *outMsg {
	s.ensureConsent(t)
	o := s.send(t, true, s.w.tmplCat[name])
	s.messageRow(t, o, "system", "template", name)
	return o
}

// ensureConsent writes the consent history of a customer the first time
// the engine sends them a template.
func (s *caseSim) ensureConsent(t int64) {
	c := s.cust.idx
	if s.consentState[c]&consentSeen != 0 {
		return
	}
	s.consentState[c] |= consentSeen
	switch s.cust.consent {
	case consentOptIn:
		s.consentRow(t-between(s.r, day, 400*day), "opt_in", pick(s.r, []string{"onboarding_app", "web_form", "branch"}))
	case consentLateKeyword:
		s.consentRow(t-between(s.r, 10*minute, 3*day), "opt_in", "whatsapp_keyword")
	case consentOptedOut:
		s.consentRow(t-between(s.r, 30*day, 400*day), "opt_in", pick(s.r, []string{"onboarding_app", "web_form"}))
		// A historical opt-out: part of the history imported now, so it is
		// not audited (the audit log only records changes as they happen).
		s.consentState[c] |= consentOut
		s.consentRow(t-between(s.r, hour, 20*day), "opt_out", "call_centre")
	}
}

func (s *caseSim) consentRow(t int64, status, source string) {
	row := consentRow{CustomerID: s.cust.waID, Channel: "whatsapp", Status: status, TS: rfc3339ms(t), Source: source}
	s.out.add(&s.out.consent, t, s.enc.line(row))
	if t < s.end {
		s.counts["consent."+status]++
	}
}

func (s *caseSim) optOut(t int64, source string) {
	s.consentState[s.cust.idx] |= consentOut
	s.consentRow(t, "opt_out", source)
	s.consentSeq++
	s.auditLog.add(t, "consent-service", "service", "consent_recorded", "consent",
		fmt.Sprintf("CON-%07d", s.consentSeq), map[string]any{"status": "opt_out", "channel": "whatsapp", "source": source})
}

// Consent state bits per customer.
const (
	consentSeen uint8 = 1 << iota
	consentOut
)

// writebacks records the writes of a completed workflow to its systems of
// record: most succeed at once, some after retries with the same
// idempotency key, a few fail for good (and are then often fixed by hand),
// and some are done by hand from the start (manual wrap-up).
func (s *caseSim) writebacks(tc int64, viaAgent bool, agent string) {
	for _, tg := range s.wf.writebacks {
		key := fmt.Sprintf("%s:%s:%s", s.caseID, tg.system, tg.action)
		manualOnly := 0.03
		if viaAgent {
			manualOnly = 0.15
		}
		if chance(s.r, manualOnly) {
			s.manualWriteback(tc, tg, key, agent, "")
			continue
		}
		t := tc + between(s.r, second, 20*second)
		x := s.r.Float64()
		attempts, ok := 1, true
		switch {
		case x < 0.03:
			attempts, ok = 3, false
		case x < 0.08:
			attempts = 3
		case x < 0.13:
			attempts = 2
		}
		for a := 1; a <= attempts; a++ {
			success := ok && a == attempts
			errText := ""
			if !success {
				errText = pick(s.r, writebackErrors(tg.system))
			}
			s.writebackRow(t, tg, key, a, success, false, errText)
			if a == 1 {
				t += between(s.r, minute, 2*minute)
			} else {
				t += between(s.r, 5*minute, 15*minute)
			}
		}
		if !ok {
			s.auditLog.add(t, engineActor, "service", "writeback_escalated", "case", s.caseID,
				map[string]any{"target_system": tg.system, "action": tg.action, "attempts": attempts})
			if chance(s.r, 0.7) {
				s.manualWriteback(t, tg, key, pick(s.r, s.q.agents), "after failed automatic writeback")
			}
		}
	}
}

func (s *caseSim) manualWriteback(after int64, tg writebackTarget, key, agent, note string) {
	t := s.q.cal.addBusiness(after, int64(lognormal(s.r, float64(45*minute), 0.8)))
	s.writebackRow(t, tg, key+":manual", 1, true, true, "")
	details := map[string]any{"target_system": tg.system, "action": tg.action, "case_id": s.caseID}
	if note != "" {
		details["note"] = note
	}
	s.auditLog.add(t, agentEmail(agent), "agent", "writeback_manual", "writeback", fmt.Sprintf("WB-%08d", s.wbSeq), details)
}

func (s *caseSim) writebackRow(t int64, tg writebackTarget, key string, attempt int, success, manual bool, errText string) {
	s.wbSeq++
	status := "failed"
	if success {
		status = "success"
	}
	row := writebackRow{WritebackID: fmt.Sprintf("WB-%08d", s.wbSeq), CaseID: s.caseID, Workflow: s.wf.name,
		TargetSystem: tg.system, Action: tg.action, IdempotencyKey: key, Attempt: attempt, Status: status,
		Manual: manual, TS: rfc3339ms(t), Error: errText}
	s.out.add(&s.out.writebacks, t, s.enc.line(row))
	if t < s.end {
		s.counts["writebacks."+status]++
	}
}

func writebackErrors(system string) []string {
	switch system {
	case "core_banking":
		return []string{"HTTP 503 Service Unavailable", "timeout after 30s", "HTTP 409 Conflict: account locked"}
	case "crm":
		return []string{"HTTP 429 Too Many Requests", "HTTP 500 Internal Server Error", "timeout after 30s"}
	default:
		return []string{"HTTP 413 Payload Too Large", "timeout after 60s", "HTTP 502 Bad Gateway"}
	}
}
