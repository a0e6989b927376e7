package canonical

import (
	"github.com/closedloop/closedloop/models"
)

// Builders for the governance tables: consent, template approvals, audit.

func buildConsent(r *reader, l *line) models.Record {
	own := r.str("event_id", l.EventID, false)
	c := &models.ConsentEvent{
		CustomerID: r.customer("customer_id", l.CustomerID, true),
		Channel:    r.enum("channel", l.Channel, channels, defaultChannel),
		Status:     r.enum("status", l.Status, consentStats, ""),
		TS:         r.ts("ts", l.TS),
	}
	// A store export names the consent's origin consent_source (its
	// `source` column is the collector); prefer it so exports re-ingest.
	if value(l.ConsentSource).present() {
		c.ConsentSource = r.str("consent_source", l.ConsentSource, false)
	} else {
		c.ConsentSource = r.str("source", l.Source, false)
	}
	if r.err() != nil {
		return nil
	}
	c.EventID = eventID(own, string(models.TableConsentEvents), c.CustomerID, c.Channel, c.Status, tsKey(c.TS), c.ConsentSource)
	return c
}

func buildTemplate(r *reader, l *line) models.Record {
	own := r.str("event_id", l.EventID, false)
	t := &models.TemplateEvent{
		TemplateName: r.str("template_name", l.TemplateName, true),
		Status:       r.enum("status", l.Status, templateStats, ""),
		TS:           r.ts("ts", l.TS),
		Actor:        r.str("actor", l.Actor, false),
	}
	if r.err() != nil {
		return nil
	}
	t.EventID = eventID(own, string(models.TableTemplateEvents), t.TemplateName, t.Status, tsKey(t.TS), t.Actor)
	return t
}

func buildAudit(r *reader, l *line) models.Record {
	own := r.str("event_id", l.EventID, false)
	a := &models.AuditEvent{
		AuditID:    r.str("audit_id", l.AuditID, false),
		TS:         r.ts("ts", l.TS),
		Actor:      r.str("actor", l.Actor, false),
		ActorRole:  r.str("actor_role", l.ActorRole, false),
		Action:     r.str("action", l.Action, true),
		ObjectType: r.str("object_type", l.ObjectType, false),
		ObjectID:   r.str("object_id", l.ObjectID, false),
		Details:    r.details("details", l.Details),
		PrevHash:   r.str("prev_hash", l.PrevHash, false),
		Hash:       r.str("hash", l.Hash, true),
	}
	if r.err() != nil {
		return nil
	}
	// A chain link is identified by its hash when the writer gave no id.
	if a.AuditID == "" {
		a.AuditID = a.Hash
	}
	a.EventID = eventID(own, string(models.TableAuditEvents), a.AuditID, tsKey(a.TS), a.Actor, a.ActorRole, a.Action,
		a.ObjectType, a.ObjectID, a.Details, a.PrevHash, a.Hash)
	return a
}
