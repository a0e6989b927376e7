package chatwoot

import (
	"errors"
	"fmt"
	"strings"

	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/models"
)

// MapMessage maps a message of conversation c. Private notes and activity
// messages ("Conversation was resolved by …") are not messages the
// customer exchanged: they are skipped.
//
// Chatwoot's own `template` message type is the automated prompts Chatwoot
// writes itself (greeting, out-of-office, email collection, CSAT): they
// become outbound messages from the system, with the kind of their
// content. A WhatsApp message template sent through Chatwoot is an
// outgoing message with additional_attributes.template_params: that one is
// kind template with its template_name, so template KPIs count only real
// WhatsApp templates.
func MapMessage(env *ingest.Env, c *Conversation, m *Message) (*models.Message, error) {
	if m.Private {
		return nil, fmt.Errorf("%w: chatwoot private note", ingest.ErrSkip)
	}
	if m.ID == "" {
		return nil, errors.New("id: missing")
	}
	if c.ID == "" {
		return nil, errors.New("conversation.id: missing")
	}
	r := &models.Message{
		MessageID:  strings.TrimSpace(m.SourceID),
		CaseID:     CaseID(c),
		CustomerID: CustomerID(env, c),
		Kind:       messageKind(m),
		Channel:    Channel(c),
	}
	if r.MessageID == "" {
		r.MessageID = "cw-msg:" + string(m.ID)
	}
	if tp := m.AdditionalAttributes.TemplateParams; tp != nil {
		r.TemplateName = strings.TrimSpace(string(tp.Name))
	}
	switch m.MessageType {
	case Incoming:
		r.Direction, r.SenderType = "inbound", "customer"
	case Outgoing:
		r.Direction, r.SenderType = "outbound", senderType(m)
	case Template:
		r.Direction, r.SenderType = "outbound", "system"
	case Activity:
		return nil, fmt.Errorf("%w: chatwoot activity message", ingest.ErrSkip)
	case "":
		return nil, errors.New("message_type: missing")
	default:
		return nil, fmt.Errorf("message_type: %q is not incoming, outgoing, activity or template", m.MessageType)
	}
	if m.CreatedAt.IsZero() {
		return nil, errors.New("created_at: missing")
	}
	ts, err := m.CreatedAt.Parse()
	if err != nil {
		return nil, fmt.Errorf("created_at: %w", err)
	}
	r.TS = ts
	r.EventID = models.HashID("chatwoot", "message", string(m.ID))
	return r, nil
}

// senderType classifies who wrote an outgoing message: an agent (User),
// a bot (AgentBot, or Chatwoot's Captain AI assistant), or the system
// when Chatwoot names nobody (automation rules, campaigns without sender).
// It reads the webhook's `sender.type` ("user", "agent_bot") and the REST
// API's `sender_type` ("User", "AgentBot").
func senderType(m *Message) string {
	t := m.SenderType
	if m.Sender != nil && m.Sender.Type != "" {
		t = m.Sender.Type
	}
	switch normaliseType(t) {
	case "user":
		return "agent"
	case "agentbot", "captainassistant":
		return "bot"
	}
	return "system"
}

// normaliseType folds "AgentBot", "agent_bot" and "Captain::Assistant" to
// "agentbot" and "captainassistant".
func normaliseType(t string) string {
	t = strings.ReplaceAll(strings.ToLower(t), "_", "")
	return strings.ReplaceAll(t, ":", "")
}

// messageKind: a WhatsApp template first, then attachments (Chatwoot sends
// them with content_type text), then the content type: Chatwoot's input
// forms, cards and forms are interactive; everything else is text.
func messageKind(m *Message) string {
	switch {
	case m.AdditionalAttributes.TemplateParams != nil && m.AdditionalAttributes.TemplateParams.Name != "":
		return "template"
	case len(m.Attachments) > 0:
		return "media"
	case strings.HasPrefix(m.ContentType, "input_"), m.ContentType == "cards", m.ContentType == "form":
		return "interactive"
	}
	return "text"
}

// Channel maps the inbox's channel class onto the canonical channel.
// Twilio inboxes carry SMS or WhatsApp; their contact address says which.
// Every other class (WhatsApp, API, web widget, …) is whatsapp, the
// product's default channel.
func Channel(c *Conversation) string {
	switch c.Channel {
	case "Channel::Email":
		return "email"
	case "Channel::Sms":
		return "sms"
	case "Channel::TwilioSms":
		if c.ContactInbox != nil && strings.HasPrefix(c.ContactInbox.SourceID, "whatsapp:") {
			return "whatsapp"
		}
		return "sms"
	}
	return "whatsapp"
}
