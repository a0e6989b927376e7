package canonical

import (
	"strconv"

	"github.com/closedloop/closedloop/models"
)

// Builders for the tables that describe conversations and workflow runs.
// Each reads its fields in column order (so problems are listed in that
// order) and returns nil when a problem was found.

func buildMessage(r *reader, l *line) models.Record {
	own := r.str("event_id", l.EventID, false)
	m := &models.Message{
		MessageID:  r.str("message_id", l.MessageID, true),
		CaseID:     r.str("case_id", l.CaseID, false),
		CustomerID: r.customer("customer_id", l.CustomerID, false),
		Direction:  r.enum("direction", l.Direction, directions, ""),
	}
	// Inbound messages come from the customer, so sender_type may be left
	// out for them; outbound ones must say who sent them (bot or agent
	// decides the bot resolution and handover KPIs).
	defSender := ""
	if m.Direction == "inbound" {
		defSender = "customer"
	}
	m.SenderType = r.enum("sender_type", l.SenderType, senderTypes, defSender)
	switch {
	case m.Direction == "inbound" && m.SenderType != "" && m.SenderType != "customer":
		r.bad("sender_type", "%q contradicts direction inbound (inbound messages come from the customer)", m.SenderType)
	case m.Direction == "outbound" && m.SenderType == "customer":
		r.bad("sender_type", "\"customer\" contradicts direction outbound (use bot, agent or system)")
	}
	m.TemplateName = r.str("template_name", l.TemplateName, false)
	defKind := "other"
	if m.TemplateName != "" {
		defKind = "template"
	}
	m.Kind = r.enum("kind", l.Kind, messageKinds, defKind)
	m.Channel = r.enum("channel", l.Channel, channels, defaultChannel)
	m.BusinessNumber = r.str("business_number", l.BusinessNumber, false)
	m.TS = r.ts("ts", l.TS)
	if r.err() != nil {
		return nil
	}
	m.EventID = eventID(own, string(models.TableMessages), m.MessageID, m.CaseID, m.CustomerID, m.Direction,
		m.SenderType, m.Kind, m.TemplateName, m.Channel, m.BusinessNumber, tsKey(m.TS))
	return m
}

func buildCaseEvent(r *reader, l *line) models.Record {
	own := r.str("event_id", l.EventID, false)
	c := &models.CaseEvent{
		CaseID:     r.str("case_id", l.CaseID, true),
		CustomerID: r.customer("customer_id", l.CustomerID, false),
		Event:      r.enum("event", l.Event, caseEventKinds, ""),
		TS:         r.ts("ts", l.TS),
		Queue:      r.str("queue", l.Queue, false),
		Category:   r.str("category", l.Category, false),
		Workflow:   r.str("workflow", l.Workflow, false),
		Actor:      r.str("actor", l.Actor, false),
		Reason:     r.str("reason", l.Reason, false),
		ClosureTag: r.str("closure_tag", l.ClosureTag, false),
	}
	if r.err() != nil {
		return nil
	}
	c.EventID = eventID(own, string(models.TableCaseEvents), c.CaseID, c.CustomerID, c.Event, tsKey(c.TS),
		c.Queue, c.Category, c.Workflow, c.Actor, c.Reason, c.ClosureTag)
	return c
}

func buildAction(r *reader, l *line) models.Record {
	own := r.str("event_id", l.EventID, false)
	a := &models.Action{
		CaseID:     r.str("case_id", l.CaseID, true),
		CustomerID: r.customer("customer_id", l.CustomerID, false),
		Workflow:   r.str("workflow", l.Workflow, false),
		Step:       r.enum("step", l.Step, actionSteps, ""),
		Channel:    r.enum("channel", l.Channel, channels, defaultChannel),
		TS:         r.ts("ts", l.TS),
	}
	if r.err() != nil {
		return nil
	}
	a.EventID = eventID(own, string(models.TableActions), a.CaseID, a.CustomerID, a.Workflow, a.Step, a.Channel, tsKey(a.TS))
	return a
}

func buildWriteback(r *reader, l *line) models.Record {
	own := r.str("event_id", l.EventID, false)
	w := &models.Writeback{
		WritebackID:    r.str("writeback_id", l.WritebackID, false),
		CaseID:         r.str("case_id", l.CaseID, false),
		Workflow:       r.str("workflow", l.Workflow, false),
		TargetSystem:   r.str("target_system", l.TargetSystem, false),
		Action:         r.str("action", l.Action, false),
		IdempotencyKey: r.str("idempotency_key", l.IdempotencyKey, false),
		Attempt:        r.attempt("attempt", l.Attempt),
		Status:         r.enum("status", l.Status, writebackStats, ""),
		Manual:         r.flag("manual", l.Manual),
		TS:             r.ts("ts", l.TS),
		Error:          r.str("error", l.Error, false),
	}
	if !value(l.WritebackID).present() && !value(l.IdempotencyKey).present() {
		r.problems = append(r.problems, `missing required field "writeback_id" (or "idempotency_key" to derive it from)`)
	}
	if r.err() != nil {
		return nil
	}
	// Without its own id, an attempt is identified by its idempotency key
	// and attempt number, which is what makes it one attempt.
	if w.WritebackID == "" {
		w.WritebackID = w.IdempotencyKey + "#" + strconv.Itoa(w.Attempt)
	}
	w.EventID = eventID(own, string(models.TableWritebacks), w.WritebackID, w.CaseID, w.Workflow, w.TargetSystem,
		w.Action, w.IdempotencyKey, strconv.Itoa(w.Attempt), w.Status, boolKey(w.Manual), tsKey(w.TS), w.Error)
	return w
}
