package gen

import (
	"fmt"
	"time"
)

// botSays records a bot reply: Chatwoot's outgoing message from the
// AgentBot for conversations, a canonical bot message for workflows; both
// with Meta statuses. It reports false when t is past the end.
func (s *caseSim) botSays(t int64, content string, interactive bool) bool {
	if s.past(t) {
		return false
	}
	o := s.send(t, false, "service")
	if s.conv != nil {
		ct := "text"
		if interactive {
			ct = "input_select"
		}
		s.cwOutgoing(t, cwUser{ID: botID, Name: botName, Type: "agent_bot"}, "AgentBot", content, ct, o.id)
		return true
	}
	kind := "text"
	if interactive {
		kind = "interactive"
	}
	s.messageRow(t, o, "bot", kind, "")
	return true
}

// agentSays records an agent reply, with a typing indicator now and then.
func (s *caseSim) agentSays(t int64, agent int, content string) bool {
	if s.past(t) {
		return false
	}
	o := s.send(t, false, "service")
	if s.conv != nil {
		if chance(s.r, 0.25) {
			s.typing(t-between(s.r, 5*second, 45*second), agent, true)
			if chance(s.r, 0.5) {
				s.typing(t+between(s.r, 200, 1500), agent, false)
			}
		}
		s.cwOutgoing(t, s.agentUser(agent), "User", content, "text", o.id)
		return true
	}
	s.messageRow(t, o, "agent", "text", "")
	return true
}

func (s *caseSim) agentIntro(agent int) string {
	name := s.q.agents[agent]
	for i := 0; i < len(name); i++ {
		if name[i] == ' ' {
			name = name[:i]
			break
		}
	}
	return fmt.Sprintf(pick(s.r, agentOpeners), name)
}

// staffing scales agent response times: Monday backlogs, a sickness wave in
// collections halfway through the period and onboarding in payments near
// its end, so that SLA figures move from week to week.
func (s *caseSim) staffing(t int64) float64 {
	wk := int((t - s.start) / week)
	f := 1.0
	if s.q.cal.local(t).Weekday() == time.Monday {
		f *= 1.4
	}
	switch {
	case s.q.name == "collections" && wk == s.weeks/2:
		f *= 2.5
	case s.q.name == "payments" && wk == s.weeks-3:
		f *= 1.8
	}
	return f
}

// agentReplyTime returns when an agent answers a customer who wrote at
// from. Agents work the queue's business hours: inside them the delay is a
// lognormal number of business minutes with a heavy tail; outside them a
// few on-call agents answer, otherwise the message waits for the overnight
// backlog to be worked after opening.
func (s *caseSim) agentReplyTime(from int64, pickup bool) int64 {
	med := s.q.pickupMedian * s.staffing(from)
	if !pickup {
		med *= 0.6
	}
	biz := lognormal(s.r, med, 0.9)
	if chance(s.r, 0.07) {
		biz += float64(between(s.r, 20, 150))
	}
	if s.q.cal.open(from) {
		return s.q.cal.addBusiness(from, int64(biz*float64(minute))+between(s.r, 0, 30*second))
	}
	if chance(s.r, 0.08) {
		return from + int64(lognormal(s.r, float64(12*minute), 0.6))
	}
	backlog := lognormal(s.r, med*3, 0.8)
	return s.q.cal.addBusiness(from, int64(backlog*float64(minute))+between(s.r, 0, 30*second))
}

// customerDelay is how long a customer takes to answer a message.
func (s *caseSim) customerDelay(median time.Duration) int64 {
	d := int64(lognormal(s.r, float64(median.Milliseconds()), 1.0))
	return max(d, 4*second)
}
