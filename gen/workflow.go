package gen

import (
	"time"
)

// runWorkflow simulates one workflow run: the engine opens the case and
// sends a template; if it is delivered and the customer answers, the bot
// walks them through the steps; the run completes, or is handed to an agent
// with a reason, or lapses. Completed runs write back to systems of record.
func (s *caseSim) runWorkflow() {
	t := s.pc.ts
	s.caseEvent(t, "opened", engineActor, "", "")
	trigger := s.wf.trigger
	if s.wf.name == "promise_to_pay" && chance(s.r, 0.02) {
		trigger = unapprovedTemplate // a campaign someone wired in before approval
	}
	t += between(s.r, 2*second, 90*second)
	if s.past(t) {
		return
	}
	if s.cust.noWhatsApp {
		// No WhatsApp account: the engine goes straight to SMS, then e-mail.
		s.reachOffWhatsApp(t, []string{"sms", "email"})
		return
	}
	o := s.sendTemplate(t, trigger)
	if o.err != nil && chance(s.cr, 0.8) {
		// WhatsApp failed: the engine falls back to SMS within minutes,
		// then to e-mail.
		s.reachOffWhatsApp(t+between(s.cr, 2*minute, 10*minute), []string{"sms", "email"})
		return
	}
	if o.err != nil && chance(s.r, 0.4) {
		// The engine retries the next day with the reminder.
		if t2 := t + between(s.r, 20*hour, 28*hour); !s.past(t2) {
			o = s.sendTemplate(t2, s.reminder(t2))
		}
	}
	if o.err != nil {
		s.lapse(s.pc.ts+72*hour, "unreachable")
		return
	}
	responds := chance(s.r, s.wf.respondP)
	if !responds {
		read := s.settleNow(o)
		t2 := o.sent + between(s.r, 24*hour, 48*hour)
		if s.past(t2) {
			return
		}
		if (read == 0 || read-o.sent > 24*hour) && chance(s.cr, 0.75) {
			// Unread for a day: the reminder goes by SMS (then e-mail).
			s.reachOffWhatsApp(t2, []string{"sms", "email"})
			return
		}
		o2 := s.sendTemplate(t2, s.reminder(t2))
		if o2.err != nil || !chance(s.r, 0.4) {
			s.lapse(s.pc.ts+7*day, "no_response")
			return
		}
		o = o2
	}
	t = o.delivered + max(20*second, min(3*day, int64(lognormal(s.r, float64(25*minute), 1.3))))
	if s.past(t) {
		return
	}
	if chance(s.r, 0.012) { // the customer answers STOP
		s.customerSays(t, textIn("STOP"))
		s.optOut(t+between(s.r, second, 10*second), "whatsapp_stop_keyword")
		s.caseEvent(t+between(s.r, 10*second, minute), "resolved", engineActor, "", "opted_out")
		return
	}
	s.customerSays(t, inbound{typ: "button", text: "Let's do it", replyID: "start_" + s.wf.name, ctxID: o.id})
	s.botFlow(t)
}

// reminder returns the reminder template the engine uses at t. After the
// document reminder was paused, the engine was switched to its replacement,
// but some sends still went out with the paused one.
func (s *caseSim) reminder(t int64) string {
	name := s.wf.reminder
	if name == pausedTemplate && t >= s.pausedAt && chance(s.r, 0.85) {
		name = replacementTemplate
	}
	return name
}

// lapse resolves a run the customer never completed, tagged most of the time.
func (s *caseSim) lapse(t int64, tag string) {
	if chance(s.r, 0.15) {
		tag = ""
	}
	s.caseEvent(t, "resolved", engineActor, "", tag)
}

// step is one exchange of a workflow's bot flow.
type step struct {
	prompt      string
	interactive bool
	otp         bool // the engine sends an authentication template instead
	answer      func(s *caseSim, ctx string) inbound
}

func (s *caseSim) steps() []step {
	button := func(title, id string) func(*caseSim, string) inbound {
		return func(_ *caseSim, ctx string) inbound {
			return inbound{typ: "interactive", listType: "button_reply", text: title, replyID: id, ctxID: ctx}
		}
	}
	text := func(body string) func(*caseSim, string) inbound {
		return func(*caseSim, string) inbound { return textIn(body) }
	}
	upload := func(s *caseSim, _ string) inbound {
		if chance(s.r, 0.5) {
			return inbound{typ: "image", text: "here"}
		}
		return inbound{typ: "document", text: "", filename: pick(s.r, []string{"id_card.pdf", "utility_bill.pdf", "payslip.pdf", "scan0001.pdf"})}
	}
	otp := step{prompt: "", otp: true, answer: func(s *caseSim, _ string) inbound { return textIn(digitsID(s.r, 6)) }}
	switch s.wf.name {
	case "promise_to_pay":
		return []step{
			{prompt: "When can you pay? Choose a date.", interactive: true, answer: func(s *caseSim, ctx string) inbound {
				d := pick(s.r, dates)
				return inbound{typ: "interactive", listType: "list_reply", text: d, replyID: "date_" + d, ctxID: ctx}
			}},
			{prompt: "Please confirm the amount and date.", interactive: true, answer: button("Confirm", "confirm")},
		}
	case "address_update":
		return []step{otp,
			{prompt: "Please type your new address.", answer: text("14 Elm Street, Flat 2")},
			{prompt: "Is this correct?", interactive: true, answer: button("Yes", "yes")},
		}
	case "document_collection":
		return []step{{prompt: "Please upload the requested document.", answer: upload}}
	default: // kyc_refresh
		return []step{otp,
			{prompt: "Please upload a photo of your ID.", answer: upload},
			{prompt: "Is your address still the same?", interactive: true, answer: button("Yes", "yes")},
		}
	}
}

// handoverP is the chance a responding customer ends up with an agent; the
// promise_to_pay bot flow v13 (see the audit log) cut it from the day it
// went live, which the before/after comparison should detect.
func (s *caseSim) handoverP() float64 {
	if s.wf.name == "promise_to_pay" && s.pc.ts >= s.flowV13At {
		return 0.12
	}
	return s.wf.handoverP
}

// settleNow decides at once whether and when the customer reads o (as
// settle would at the end of the case) and emits its statuses; it returns
// the read time (0: never read).
func (s *caseSim) settleNow(o *outMsg) int64 {
	keep := s.pending[:0]
	found := false
	for _, p := range s.pending {
		if p == o {
			found = true
			continue
		}
		keep = append(keep, p)
	}
	s.pending = keep
	if !found {
		return 0
	}
	var read int64
	if !s.cust.noReceipts && chance(s.cr, 0.7) {
		read = o.delivered + 1000 + int64(lognormal(s.cr, float64(3*minute), 1.5))
	}
	s.emitStatuses(o, read)
	return read
}

// botFlow walks the customer through the workflow's steps from t (the
// customer tapped the button that opens the in-message action). The
// action's telemetry goes to actions.jsonl: link_opened and action_started
// now, identity_validated when the identity step passes (the OTP for
// identity workflows, the first answer for the others), identity_failed
// when it does not, action_submitted just before completion.
func (s *caseSim) botFlow(t int64) {
	steps := s.steps()
	handover := chance(s.r, s.handoverP())
	failAt := len(steps) - 1
	if handover {
		failAt = s.r.IntN(len(steps))
	}
	drop := !handover && chance(s.r, 0.08)
	dropAt := s.r.IntN(len(steps))
	opened := t + between(s.cr, second, 4*second)
	s.action(opened, "link_opened", "whatsapp")
	skew := chance(s.cr, 0.04) // the phone's clock: started is stamped after the validation
	if !skew {
		s.action(opened+between(s.cr, 2*second, 10*second), "action_started", "whatsapp")
	}
	validated := false
	validate := func(at int64) {
		if validated {
			return
		}
		validated = true
		s.action(at, "identity_validated", "whatsapp")
		if skew {
			s.action(at+between(s.cr, second, 4*second), "action_started", "whatsapp")
		}
	}
	for i, st := range steps {
		t += between(s.r, 1500, 6*second)
		ctx := ""
		if st.otp {
			if s.past(t) {
				return
			}
			o := s.sendTemplate(t, otpTemplate)
			if o.err != nil {
				s.action(t+between(s.cr, 10*second, 30*second), "identity_failed", "whatsapp")
				s.handover(t+between(s.r, 30*second, 2*minute), "identity_failed")
				return
			}
			t = o.delivered
		} else {
			if !s.botSays(t, st.prompt, st.interactive) {
				return
			}
			ctx = s.lastOutID()
		}
		if drop && i == dropAt {
			s.lapse(s.pc.ts+7*day, "no_response")
			return
		}
		t += s.customerDelay(50 * time.Second)
		if s.past(t) {
			return
		}
		s.customerSays(t, st.answer(s, ctx))
		if st.otp || !s.wf.identity {
			validate(t + between(s.cr, 300, 2*second))
		}
		if handover && i == failAt {
			t += between(s.r, 1500, 5*second)
			if !s.botSays(t, pick(s.r, botHandoverLines), false) {
				return
			}
			reason := s.handoverReason(s.wf.reasons)
			if reason == "identity_failed" {
				s.action(t-between(s.cr, second, 5*second), "identity_failed", "whatsapp")
			}
			s.handover(t+between(s.r, 200, 2*second), reason)
			return
		}
	}
	t += between(s.r, 1000, 4*second)
	s.action(t-between(s.cr, 200, 900), "action_submitted", "whatsapp")
	if !s.caseEvent(t, "completed", "customer", "", "") {
		return
	}
	s.botSays(t+between(s.r, 500, 3*second), "All done, thank you! You'll get a confirmation shortly.", false)
	s.confirmation(t + between(s.cr, 5*second, minute))
	s.writebacks(t, false, "")
	if s.wf.reviewRejectP > 0 && chance(s.r, s.wf.reviewRejectP) {
		// The back office rejects the upload on review and hands the run
		// to an agent to collect a usable document.
		s.handover(t+between(s.r, 20*minute, 6*hour), "document_unreadable")
		return
	}
	s.finish(t+between(s.r, 5*second, 2*minute), engineActor, s.doneTag())
}

func (s *caseSim) lastOutID() string {
	if s.lastOut == nil {
		return ""
	}
	return s.lastOut.id
}

func (s *caseSim) doneTag() string { return pick(s.r, s.wf.doneTags) }

// handover routes the run to an agent, who talks to the customer and
// either completes the action on their behalf or closes the case.
func (s *caseSim) handover(t int64, reason string) {
	if chance(s.cr, 0.04) {
		reason = "" // the engine's handover step did not record why
	}
	if !s.caseEvent(t, "handover", "bot", reason, "") {
		return
	}
	agent := s.r.IntN(len(s.q.agents))
	if s.q.name == "collections" && agent == rogueAgent && chance(s.cr, 0.6) {
		s.viaNumber = rogueNumber // the agent answers from their own phone
	}
	email := agentEmail(s.q.agents[agent])
	pickup := s.agentReplyTime(t, true)
	if pickup-t > 4*minute && chance(s.r, 0.4) {
		nudge := t + between(s.r, 2*minute, min(pickup-t-30*second, 40*minute))
		if s.past(nudge) {
			return
		}
		s.customerSays(nudge, textIn(pick(s.r, customerNudges)))
	}
	s.auditLog.add(max(t+second, pickup-between(s.r, 10*second, minute)), email, "agent", "case_assigned", "case", s.caseID,
		map[string]any{"queue": s.q.name, "reason": reason})
	if !s.agentSays(pickup, agent, s.agentIntro(agent)) {
		return
	}
	t = pickup
	for i, n := 0, 1+s.r.IntN(3); i < n; i++ {
		t += s.customerDelay(2 * time.Minute)
		if s.past(t) {
			return
		}
		s.customerSays(t, textIn(pick(s.r, customerFollowUps)))
		t = s.agentReplyTime(t, false)
		if !s.agentSays(t, agent, pick(s.r, agentLines)) {
			return
		}
	}
	t += between(s.r, minute, 20*minute)
	if s.wf.escalateP > 0 && chance(s.r, s.wf.escalateP) {
		// The agent escalates to manual review; the reviewer decides later.
		if !s.caseEvent(t, "handover", email, "manual_review", "") {
			return
		}
		t += between(s.r, 30*minute, 8*hour)
	}
	if chance(s.r, 0.04) { // still with the agent at the end of the period
		return
	}
	if chance(s.r, s.wf.completeAfterHandover) {
		if !s.caseEvent(t, "completed", email, "", "") {
			return
		}
		s.confirmation(t + between(s.cr, 5*second, minute))
		s.writebacks(t, true, s.q.agents[agent])
		s.finish(t+between(s.r, minute, 10*minute), email, s.doneTag())
		return
	}
	if s.wf.awaitP > 0 && chance(s.r, s.wf.awaitP) {
		s.awaitDocument(t, agent, email)
		return
	}
	s.finish(t, email, pick(s.r, s.wf.failTags))
}

// awaitDocument closes a run awaiting the customer's document; when the
// customer sends it days later the case is reopened and an agent completes
// it (or closes it again when the document still does not do).
func (s *caseSim) awaitDocument(t int64, agent int, email string) {
	if !s.caseEvent(t, "resolved", email, "", "awaiting_documents") {
		return
	}
	t += between(s.r, day, 5*day)
	if s.past(t) {
		return
	}
	s.customerSays(t, inbound{typ: "document", filename: pick(s.r, []string{"id_card.pdf", "utility_bill.pdf", "payslip.pdf"})})
	if !s.caseEvent(t-t%second, "reopened", engineActor, "", "") {
		return
	}
	t = s.agentReplyTime(t, true)
	if !s.agentSays(t, agent, pick(s.r, agentLines)) {
		return
	}
	if chance(s.r, 0.3) {
		s.finish(t+between(s.r, minute, 10*minute), email, pick(s.r, s.wf.failTags))
		return
	}
	if !s.caseEvent(t, "completed", email, "", "") {
		return
	}
	s.writebacks(t, true, s.q.agents[agent])
	s.finish(t+between(s.r, minute, 10*minute), email, s.doneTag())
}

// finish resolves the case (about 10% without a closure tag) and reopens a
// few of them when the customer comes back.
func (s *caseSim) finish(t int64, actor, tag string) {
	if chance(s.r, 0.1) {
		tag = ""
	}
	if !s.caseEvent(t, "resolved", actor, "", tag) {
		return
	}
	if chance(s.cr, 0.04) {
		// A thank-you days later, when no case is open: it reaches
		// WhatsApp but nobody opens a ticket for it.
		if late := t + between(s.cr, 2*day, 6*day); !s.past(late) {
			s.metaInbound(late, textIn(pick(s.cr, customerThanks)))
		}
	}
	if !chance(s.r, 0.02) {
		return
	}
	t += max(hour, int64(lognormal(s.r, float64(30*hour), 0.8)))
	if s.past(t) {
		return
	}
	// The customer writes again; the engine reopens the case as the message
	// arrives (stamped with the message's own second, so the message falls
	// inside the reopened case) and an agent picks it up.
	s.customerSays(t, textIn(pick(s.r, customerReopeners)))
	if !s.caseEvent(t-t%second, "reopened", engineActor, "", "") {
		return
	}
	agent := s.r.IntN(len(s.q.agents))
	email := agentEmail(s.q.agents[agent])
	reply := s.agentReplyTime(t, true)
	if !s.agentSays(reply, agent, pick(s.r, agentLines)) {
		return
	}
	s.caseEvent(reply+between(s.r, 2*minute, 30*minute), "resolved", email, "", pick(s.r, s.wf.doneTags))
}
