package chatwoot

// The types below are Chatwoot's conversation and message objects as both
// the webhooks and the REST API serialise them (one mapping, two
// transports). Only what the mapping reads is declared; message contents
// are deliberately not, since bodies are not stored.

// Conversation is a Chatwoot conversation: the body of conversation_*
// webhooks, the `conversation` of message_* webhooks, and an element of
// the REST conversation list.
type Conversation struct {
	// ID is the display id, the number agents see; the case is "cw:<ID>".
	ID      ID     `json:"id"`
	InboxID ID     `json:"inbox_id"`
	Channel string `json:"channel"` // e.g. "Channel::Whatsapp", "Channel::Email"
	Status  Status `json:"status"`
	// Labels are the conversation's labels (newer Chatwoot versions).
	Labels               []string       `json:"labels"`
	CustomAttributes     CaseAttributes `json:"custom_attributes"`
	AdditionalAttributes CaseAttributes `json:"additional_attributes"`
	Meta                 struct {
		Sender Contact `json:"sender"`
	} `json:"meta"`
	ContactInbox *ContactInbox `json:"contact_inbox"`
	// CreatedAt is Unix seconds in newer versions; older ones leave it out.
	CreatedAt Time `json:"created_at"`
	// UpdatedAt is a float of Unix seconds in webhooks of newer versions
	// (ISO 8601 in the REST list); older ones leave it out.
	UpdatedAt Time `json:"updated_at"`
	// Timestamp is last_activity_at (created_at in the oldest versions).
	Timestamp Time `json:"timestamp"`
	// InboxName is not part of Chatwoot's conversation object. A caller
	// that knows it (the REST collector can list inboxes) sets it so the
	// queue is named after the inbox instead of "inbox:<id>".
	InboxName string `json:"-"`
}

// CaseAttributes picks the conversation attributes closedloop reads from
// `custom_attributes` or `additional_attributes`.
type CaseAttributes struct {
	Queue          Text `json:"queue"`
	Category       Text `json:"category"`
	Workflow       Text `json:"workflow"`
	HandoverReason Text `json:"handover_reason"`
}

// Contact is the conversation's contact (`meta.sender`).
type Contact struct {
	ID          ID     `json:"id"`
	PhoneNumber string `json:"phone_number"`
	Type        string `json:"type"`
}

// ContactInbox links the contact to the inbox; its source_id is the
// channel's address for the contact ("whatsapp:+…" on Twilio inboxes).
type ContactInbox struct {
	ContactID ID     `json:"contact_id"`
	SourceID  string `json:"source_id"`
}

// Message is a Chatwoot message: the body of message_* webhooks, an
// element of a conversation's `messages[]`, or of the REST message list.
type Message struct {
	ID          ID          `json:"id"`
	MessageType MessageType `json:"message_type"`
	ContentType string      `json:"content_type"`
	Private     bool        `json:"private"`
	// SourceID is the channel's id for the message: the WhatsApp wamid on
	// WhatsApp inboxes, which is how Meta's statuses join it.
	SourceID  string  `json:"source_id"`
	CreatedAt Time    `json:"created_at"`
	Sender    *Sender `json:"sender"`
	// SenderType is the polymorphic class name ("User", "AgentBot",
	// "Contact") the REST API and `messages[]` carry beside `sender`.
	SenderType           string     `json:"sender_type"`
	Attachments          []struct{} `json:"attachments"`
	AdditionalAttributes struct {
		// TemplateParams is set when an agent or campaign sent a WhatsApp
		// message template through Chatwoot.
		TemplateParams *struct {
			Name Text `json:"name"`
		} `json:"template_params"`
	} `json:"additional_attributes"`
}

// Sender is who wrote a message; Type is "contact", "user" or "agent_bot".
type Sender struct {
	ID   ID     `json:"id"`
	Type string `json:"type"`
}

// Inbox is the `inbox` of message webhooks.
type Inbox struct {
	ID   ID     `json:"id"`
	Name string `json:"name"`
}
