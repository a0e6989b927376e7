package gen

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// The workflow engine's other channels and the in-message action:
//
//   - SMS through Twilio (message rows in workflow/messages.jsonl, status
//     callbacks in twilio/callbacks-NNNN.jsonl as "form lines": one JSON
//     string per line holding the form body Twilio posted, with a
//     ReceivedAt parameter the recorder added because Twilio's callbacks
//     carry no time);
//   - e-mail through SendGrid (events in sendgrid/events-NNNN.jsonl, one
//     Event Webhook event per line; SendGrid posts them in arrays, the
//     receiver logged them one per line);
//   - the secure in-message action ("mini-app"): its telemetry in
//     workflow/actions.jsonl (link_opened, action_started,
//     identity_validated, identity_failed, action_submitted).
//
// Decisions here draw from the case's channel stream (s.cr), so that the
// WhatsApp side of the simulation keeps its own random sequence.

const (
	emailSender   = "notifications@" + emailDomain
	twilioAccount = "AC5b2e0c7d9a41f3e86c0d2b4a6f8e1c39"
)

// smsFrom is each queue's Twilio SMS sender, by queue index.
var smsFrom = []string{"+443300000201", "+34910000202", "+18005550203", "+6560000204"}

// SMSSenders lists the Twilio numbers the simulated engine sends SMS from
// (the demo configuration registers them).
func SMSSenders() []string { return append([]string(nil), smsFrom...) }

// rogueNumber is the personal mobile one collections agent sometimes uses
// instead of the business number (a governance finding: it is in no
// register).
const rogueNumber = "447700955555"

// rogueAgent is the index of that agent in the collections queue.
const rogueAgent = 3

// otherMsg is the fate of an SMS or e-mail.
type otherMsg struct {
	id        string
	sent      int64
	delivered int64 // 0: not delivered
	failed    int64 // 0: not failed
	engaged   int64 // when the customer opened its link (0: never)
}

// action records one step of the in-message action.
func (s *caseSim) action(t int64, step, channel string) {
	if s.past(t) {
		return
	}
	row := actionRow{CaseID: s.caseID, CustomerID: s.cust.waID, Workflow: s.wf.name, Step: step, Channel: channel, TS: rfc3339ms(t)}
	s.out.add(&s.out.actions, t, s.enc.line(row))
	s.counts["actions."+step]++
	s.touch(t)
}

// otherRow records an SMS or e-mail in the engine's message log.
func (s *caseSim) otherRow(t int64, id, channel, sender, senderType string) {
	if s.past(t) {
		return
	}
	row := messageRow{MessageID: id, CaseID: s.caseID, CustomerID: s.cust.waID, Direction: "outbound",
		SenderType: senderType, Kind: "text", Channel: channel, BusinessNumber: sender, TS: rfc3339ms(t)}
	s.out.add(&s.out.messages, t, s.enc.line(row))
	s.counts["messages."+channel]++
	s.touch(t)
}

// sendSMS sends an SMS with a link; engageP is the chance the customer
// opens the link once it is delivered.
func (s *caseSim) sendSMS(t int64, engageP float64, senderType string) otherMsg {
	m := otherMsg{id: "SM" + hexID(s.cr, 32), sent: t}
	to, from := "+"+s.cust.waID, smsFrom[s.q.index]
	s.otherRow(t, m.id, "sms", from, senderType)
	if s.past(t) {
		return m
	}
	s.twilio(t+between(s.cr, 100, 600), m.id, "queued", to, from, "")
	sentAt := t + between(s.cr, second, 3*second)
	s.twilio(sentAt, m.id, "sent", to, from, "")
	if s.cust.smsUnreachable || chance(s.cr, 0.015) {
		m.failed = sentAt + between(s.cr, 5*second, 90*second)
		code := pick(s.cr, []string{"30003", "30005", "30006"})
		status := "undelivered"
		if !s.cust.smsUnreachable {
			code = pick(s.cr, []string{"30007", "30008"})
		}
		if chance(s.cr, 0.15) {
			status = "failed"
		}
		s.twilio(m.failed, m.id, status, to, from, code)
		return m
	}
	m.delivered = sentAt + between(s.cr, 2*second, 40*second)
	s.twilio(m.delivered, m.id, "delivered", to, from, "")
	if chance(s.cr, engageP) {
		m.engaged = m.delivered + max(20*second, int64(lognormal(s.cr, float64(25*minute), 1.2)))
	}
	return m
}

// twilio writes one status callback as a form line.
func (s *caseSim) twilio(t int64, sid, status, to, from, code string) {
	if s.past(t) {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "SmsSid=%s&SmsStatus=%s&MessageStatus=%s&To=%s&MessageSid=%s&AccountSid=%s&From=%s&ApiVersion=2010-04-01",
		sid, status, status, url.QueryEscape(to), sid, twilioAccount, url.QueryEscape(from))
	if code != "" {
		b.WriteString("&ErrorCode=" + code)
	}
	if status == "delivered" || status == "undelivered" {
		b.WriteString("&RawDlrDoneDate=" + time.UnixMilli(t).UTC().Format("0601021504"))
	}
	b.WriteString("&ReceivedAt=" + url.QueryEscape(rfc3339ms(t)))
	s.out.add(&s.out.twilio, t, s.enc.line(b.String()))
	s.counts["twilio."+status]++
	s.touch(t)
}

// sgEvent is one SendGrid Event Webhook event, fields in SendGrid's order.
// customer_id is a custom argument the engine attaches to every e-mail.
type sgEvent struct {
	Email          string   `json:"email"`
	Timestamp      int64    `json:"timestamp"`
	SMTPID         string   `json:"smtp-id"`
	Event          string   `json:"event"`
	Category       []string `json:"category"`
	SGEventID      string   `json:"sg_event_id"`
	SGMessageID    string   `json:"sg_message_id"`
	Response       string   `json:"response,omitempty"`
	Attempt        string   `json:"attempt,omitempty"`
	Reason         string   `json:"reason,omitempty"`
	Status         string   `json:"status,omitempty"`
	Type           string   `json:"type,omitempty"`
	Classification string   `json:"bounce_classification,omitempty"`
	UserAgent      string   `json:"useragent,omitempty"`
	IP             string   `json:"ip,omitempty"`
	URL            string   `json:"url,omitempty"`
	CustomerID     string   `json:"customer_id"`
}

const b64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func b64ID(s *caseSim, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = b64url[s.cr.IntN(64)]
	}
	return string(b)
}

// sendEmail sends an e-mail; engageP is the chance the customer opens it
// and then follows its link.
func (s *caseSim) sendEmail(t int64, engageP float64, category string) otherMsg {
	m := otherMsg{id: b64ID(s, 22), sent: t}
	s.otherRow(t, m.id, "email", emailSender, "system")
	if s.past(t) {
		return m
	}
	sgID := m.id + ".filterdrecv-" + hexID(s.cr, 10) + "-" + hexID(s.cr, 5) + "-1-" + strings.ToUpper(hexID(s.cr, 8)) + "-" + itoa(s.cr.IntN(40)) + ".0"
	ev := func(at int64, event string) *sgEvent {
		return &sgEvent{Email: s.cust.email(), Timestamp: at / 1000, SMTPID: "<" + m.id + "@geopod-ismtpd-" + itoa(1+s.cr.IntN(40)) + ">",
			Event: event, Category: []string{category}, SGEventID: b64ID(s, 22), SGMessageID: sgID, CustomerID: s.cust.waID}
	}
	proc := t + between(s.cr, 500, 3*second)
	s.sendgrid(proc, ev(proc, "processed"))
	if s.cust.badEmail {
		if chance(s.cr, 0.4) {
			m.failed = proc + between(s.cr, 100, second)
			e := ev(m.failed, "dropped")
			e.Reason, e.Status = "Bounced Address", "5.0.0"
			s.sendgrid(m.failed, e)
			return m
		}
		m.failed = proc + between(s.cr, 5*second, 60*second)
		e := ev(m.failed, "bounce")
		e.Reason = "550 5.1.1 The email account that you tried to reach does not exist: " + s.cust.email()
		e.Status, e.Type, e.Classification = "5.1.1", "bounce", "Invalid Address"
		s.sendgrid(m.failed, e)
		return m
	}
	at := proc + between(s.cr, second, 30*second)
	if chance(s.cr, 0.05) {
		e := ev(at, "deferred")
		e.Response, e.Attempt = "421 4.7.0 Try again later", "1"
		s.sendgrid(at, e)
		at += between(s.cr, 5*minute, 40*minute)
	}
	m.delivered = at
	d := ev(at, "delivered")
	d.Response = "250 2.0.0 OK"
	s.sendgrid(at, d)
	if chance(s.cr, 0.015) { // accepted, then bounced by the mailbox (a late bounce)
		bt := at + between(s.cr, hour, 6*hour)
		e := ev(bt, "bounce")
		e.Reason, e.Status, e.Type, e.Classification = "552 5.2.2 Mailbox full", "5.2.2", "blocked", "Mailbox Unavailable"
		s.sendgrid(bt, e)
	}
	if !chance(s.cr, engageP+0.15) {
		return m
	}
	opened := at + max(minute, int64(lognormal(s.cr, float64(2*hour), 1.3)))
	o := ev(opened, "open")
	o.UserAgent, o.IP = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148", "203.0.113."+itoa(1+s.cr.IntN(250))
	s.sendgrid(opened, o)
	if chance(s.cr, 0.01) {
		u := opened + between(s.cr, 30*second, 5*minute)
		s.sendgrid(u, ev(u, "unsubscribe"))
		return m
	}
	if chance(s.cr, engageP/(engageP+0.15)) {
		m.engaged = opened + between(s.cr, 10*second, 3*minute)
		c := ev(m.engaged, "click")
		c.URL = "https://secure." + emailDomain + "/a/" + hexID(s.cr, 16)
		c.UserAgent, c.IP = o.UserAgent, o.IP
		s.sendgrid(m.engaged, c)
	}
	return m
}

func (s *caseSim) sendgrid(t int64, e *sgEvent) {
	if s.past(t) {
		return
	}
	s.out.add(&s.out.sendgrid, t, s.enc.line(e))
	s.counts["sendgrid."+e.Event]++
	s.touch(t)
}

// reachOffWhatsApp tries the channels in turn from t: a channel that fails
// moves on within minutes, one delivered but left unopened moves on after
// the engine's fallback wait (a day); a customer who opens the link does
// the action in the mini-app.
func (s *caseSim) reachOffWhatsApp(t int64, channels []string) {
	for _, ch := range channels {
		if s.past(t) {
			return
		}
		var m otherMsg
		if ch == "sms" {
			m = s.sendSMS(t, 0.5, "system")
		} else {
			m = s.sendEmail(t, 0.45, s.wf.name)
		}
		switch {
		case m.engaged > 0:
			s.miniApp(m.engaged, ch)
			return
		case m.failed > 0:
			t = m.failed + between(s.cr, 2*minute, 15*minute)
		default:
			t = m.sent + between(s.cr, 24*hour+5*minute, 30*hour)
		}
	}
	s.lapse(max(s.pc.ts+7*day, t), "unreachable")
}

// miniApp is the customer doing the action in the secure mini-app opened
// from a message on ch: identity check, the action, completion.
func (s *caseSim) miniApp(t int64, ch string) {
	if s.past(t) {
		return
	}
	s.action(t, "link_opened", ch)
	if chance(s.cr, 0.12) {
		s.lapse(s.pc.ts+7*day, "no_response")
		return
	}
	started := t + between(s.cr, 5*second, 60*second)
	validated := started + between(s.cr, 20*second, 3*minute)
	skew := chance(s.cr, 0.05) // the phone's clock: started is stamped after the validation
	if !skew {
		s.action(started, "action_started", ch)
	}
	if chance(s.cr, 0.14) {
		s.action(validated, "identity_failed", ch)
		if !chance(s.cr, 0.5) {
			s.offChannelHandover(validated+between(s.cr, 30*second, 2*minute), "identity_failed")
			return
		}
		validated += between(s.cr, minute, 5*minute)
	}
	s.action(validated, "identity_validated", ch)
	if skew {
		s.action(validated+between(s.cr, second, 5*second), "action_started", ch)
	}
	if chance(s.cr, 0.07) {
		s.lapse(s.pc.ts+7*day, "no_response")
		return
	}
	submitted := validated + between(s.cr, 30*second, 4*minute)
	s.action(submitted, "action_submitted", ch)
	done := submitted + between(s.cr, 2*second, 10*second)
	if !s.caseEvent(done, "completed", "customer", "", "") {
		return
	}
	s.writebacks(done, false, "")
	s.confirmation(done + between(s.cr, 5*second, minute))
	s.finish(done+between(s.cr, 5*second, 2*minute), engineActor, s.doneTag())
}

// offChannelHandover routes a run that is not on WhatsApp to an agent, who
// texts the customer and then calls them.
func (s *caseSim) offChannelHandover(t int64, reason string) {
	if !s.caseEvent(t, "handover", "bot", reason, "") {
		return
	}
	agent := s.cr.IntN(len(s.q.agents))
	email := agentEmail(s.q.agents[agent])
	pickup := s.agentReplyTime(t, true)
	s.auditLog.add(max(t+second, pickup-between(s.cr, 10*second, minute)), email, "agent", "case_assigned", "case", s.caseID,
		map[string]any{"queue": s.q.name, "reason": reason})
	if s.past(pickup) {
		return
	}
	s.sendSMS(pickup, 0, "agent")
	done := pickup + between(s.cr, 5*minute, 30*minute)
	if chance(s.cr, s.wf.completeAfterHandover) {
		if !s.caseEvent(done, "completed", email, "", "") {
			return
		}
		s.writebacks(done, true, s.q.agents[agent])
		s.confirmation(done + between(s.cr, 5*second, minute))
		s.finish(done+between(s.cr, minute, 10*minute), email, s.doneTag())
		return
	}
	s.finish(done, email, pick(s.cr, s.wf.failTags))
}

// confirmation sends the outcome of a completed run to most customers: by
// e-mail, or by SMS to those who asked for text messages.
func (s *caseSim) confirmation(t int64) {
	switch x := s.cr.Float64(); {
	case x < 0.55:
		s.sendEmail(t, 0, s.wf.name+"_confirmation")
	case x < 0.75:
		s.sendSMS(t, 0, "system")
	}
}
