package gen

import "time"

// Conversation outcomes decided when the case opens.
const (
	outcomeBotResolved = iota
	outcomeHandover
	outcomeAbandoned
)

// runConversation simulates a customer-initiated Chatwoot conversation:
// the customer writes, the bot answers within seconds, and the conversation
// is resolved by the bot, handed to an agent, or left by the customer and
// auto-resolved; some are reopened later.
func (s *caseSim) runConversation() {
	t := s.pc.ts
	opener := pick(s.r, s.cat.openers)
	if s.pc.parent >= 0 {
		opener = pick(s.r, followUpOpeners)
	}
	first := textIn(opener)
	if s.cat.name == "document_request" && chance(s.r, 0.1) {
		first = inbound{typ: "document", text: "this one", filename: "letter.pdf"}
	} else if chance(s.r, 0.05) {
		first = inbound{typ: "image", text: opener}
	}
	id := s.metaInbound(t, first)
	direct := chance(s.r, s.cat.openP)
	created := t + between(s.r, 300, 1500)
	if s.past(created) {
		return
	}
	status := "pending"
	if direct {
		status = "open"
	}
	s.openConversation(created, status)
	s.cwIncoming(created+between(s.r, 50, 400), first, id)
	if chance(s.r, 0.015) {
		s.widgetNoise(t + between(s.r, -hour, hour))
	}
	var resolvedAt int64
	var ok bool
	if direct {
		resolvedAt, ok = s.agentPhase(created)
	} else {
		resolvedAt, ok = s.botPhase(created)
	}
	if ok && chance(s.r, 0.05) {
		s.reopen(resolvedAt)
	}
}

// botPhase runs the bot's turns and the chosen outcome. It returns when the
// conversation was resolved and whether it was.
func (s *caseSim) botPhase(t int64) (int64, bool) {
	outcome := outcomeBotResolved
	switch x := s.r.Float64(); {
	case x < s.cat.handoverP:
		outcome = outcomeHandover
	case x < s.cat.handoverP+0.10:
		outcome = outcomeAbandoned
	}
	turns := 1 + pickWeighted(s.r, []float64{0.45, 0.35, 0.20})
	for i := 0; i < turns; i++ {
		t += between(s.r, 1500, 7*second)
		last := i == turns-1
		text := pick(s.r, botGreetings)
		switch {
		case last && outcome == outcomeHandover:
			text = pick(s.r, botHandoverLines)
		case last && outcome == outcomeAbandoned:
			text = pick(s.r, botQuestions)
		case i > 0:
			text = pick(s.r, botAnswers)
		}
		if !s.botSays(t, text, i == 0 && chance(s.r, 0.5)) {
			return 0, false
		}
		if last {
			break
		}
		t += s.customerDelay(40 * time.Second)
		if s.past(t) {
			return 0, false
		}
		s.customerSays(t, textIn(pick(s.r, customerFollowUps)))
	}
	switch outcome {
	case outcomeHandover:
		t += between(s.r, 500, 4*second)
		if s.past(t) {
			return 0, false
		}
		s.conv.attrs.HandoverReason = s.handoverReason(s.cat.reasons)
		s.setStatus(t, "open")
		return s.agentPhase(t)
	case outcomeAbandoned:
		// Chatwoot's auto-resolve closes inactive conversations after 24 h.
		t += 24*hour + between(s.r, 0, 10*minute)
		var labels []string
		if chance(s.r, 0.3) {
			labels = []string{"no_response"}
		}
		return s.resolve(t, labels)
	}
	// The bot solved it: the customer thanks, the bot closes.
	t += s.customerDelay(30 * time.Second)
	if s.past(t) {
		return 0, false
	}
	s.customerSays(t, textIn(pick(s.r, customerThanks)))
	t += between(s.r, 1500, 5*second)
	if !s.botSays(t, pick(s.r, botClosings), false) {
		return 0, false
	}
	t += between(s.r, 5*second, 2*minute)
	var labels []string
	if chance(s.r, 0.9) {
		labels = []string{s.cat.botTag}
	}
	return s.resolve(t, labels)
}

// handoverReason draws the reason the bot records; about 3% are blank.
func (s *caseSim) handoverReason(reasons []weighted[string]) string {
	if chance(s.r, 0.03) {
		return ""
	}
	return pickW(s.r, reasons)
}

// agentPhase runs from the moment a conversation waits for an agent (after
// a handover, or from creation for conversations opened straight to
// agents) until the agent resolves it.
func (s *caseSim) agentPhase(t int64) (int64, bool) {
	agent := s.r.IntN(len(s.q.agents))
	pickup := s.agentReplyTime(t, true)
	waited := t
	if pickup-t > 4*minute && chance(s.r, 0.45) {
		waited = t + between(s.r, 2*minute, min(pickup-t-30*second, 40*minute))
		if s.past(waited) {
			return 0, false
		}
		s.customerSays(waited, textIn(pick(s.r, customerNudges)))
	}
	// The agent takes the conversation shortly before answering (and after
	// anything the customer wrote meanwhile, so snapshots stay in order).
	assignAt := max(waited+2*second, pickup-between(s.r, 20*second, 3*minute))
	pickup = max(pickup, assignAt+5*second)
	if s.past(assignAt) {
		return 0, false
	}
	s.assign(assignAt, agent)
	s.auditLog.add(assignAt, agentEmail(s.q.agents[agent]), "agent", "case_assigned", "conversation",
		itoa(s.conv.id), map[string]any{"queue": s.q.name, "inbox_id": s.q.inboxID})
	if !s.agentSays(pickup, agent, s.agentIntro(agent)) {
		return 0, false
	}
	t = pickup
	exchanges := pickWeighted(s.r, []float64{0.3, 0.35, 0.25, 0.1})
	for i := 0; i < exchanges; i++ {
		if chance(s.r, 0.12) {
			break
		}
		t += s.customerDelay(150 * time.Second)
		if s.past(t) {
			return 0, false
		}
		s.customerSays(t, textIn(pick(s.r, customerFollowUps)))
		t = s.agentReplyTime(t, false)
		if !s.agentSays(t, agent, pick(s.r, agentLines)) {
			return 0, false
		}
	}
	if chance(s.r, 0.55) {
		t += s.customerDelay(90 * time.Second)
		if s.past(t) {
			return 0, false
		}
		s.customerSays(t, textIn(pick(s.r, customerThanks)))
		t = t + between(s.r, 20*second, 3*minute)
		if !s.agentSays(t, agent, pick(s.r, agentClosings)) {
			return 0, false
		}
	}
	if chance(s.r, 0.03) { // forgotten: stays open
		return 0, false
	}
	t += between(s.r, 30*second, 15*minute)
	var labels []string
	if chance(s.r, 0.9) {
		labels = []string{pick(s.r, s.cat.tags)}
	}
	return s.resolve(t, labels)
}

// resolve closes the conversation, labelling it first when labels are given.
func (s *caseSim) resolve(t int64, labels []string) (int64, bool) {
	if s.past(t) {
		return 0, false
	}
	if len(labels) > 0 {
		s.setLabels(t-between(s.r, 1000, 20*second), labels)
	}
	s.setStatus(t, "resolved")
	return t, true
}

// reopen brings a resolved conversation back: the customer writes again and
// Chatwoot reopens it, to an agent (open) or to the bot (pending).
func (s *caseSim) reopen(resolvedAt int64) {
	t := resolvedAt + max(30*minute, int64(lognormal(s.r, float64(20*hour), 1.0)))
	t = min(t, resolvedAt+6*day)
	if s.past(t) {
		return
	}
	s.customerSays(t, textIn(pick(s.r, customerReopeners)))
	t += between(s.r, 1500, 3*second)
	if s.past(t) {
		return
	}
	if chance(s.r, 0.6) {
		s.setStatus(t, "open")
		s.agentPhase(t)
		return
	}
	s.setStatus(t, "pending")
	t += between(s.r, 1500, 6*second)
	if !s.botSays(t, pick(s.r, botAnswers), false) {
		return
	}
	if chance(s.r, 0.4) {
		t += between(s.r, 500, 3*second)
		if s.past(t) {
			return
		}
		s.conv.attrs.HandoverReason = s.handoverReason(s.cat.reasons)
		s.setStatus(t, "open")
		s.agentPhase(t)
		return
	}
	t += s.customerDelay(30 * time.Second)
	if s.past(t) {
		return
	}
	s.customerSays(t, textIn(pick(s.r, customerThanks)))
	t += between(s.r, 1500, 5*second)
	if !s.botSays(t, pick(s.r, botClosings), false) {
		return
	}
	s.resolve(t+between(s.r, 5*second, minute), []string{s.cat.botTag})
}
