package gen

import (
	"time"
)

// Chatwoot webhook bodies, shaped like Chatwoot's WebhookListener payloads:
// conversation events are the conversation's webhook_data plus "event" (and
// "changed_attributes" for status changes and updates); message events are
// the message's webhook_data plus "event".

// cwAttrs is the conversation's custom_attributes: where closedloop finds
// queue, category, workflow and the handover reason.
type cwAttrs struct {
	Queue          string `json:"queue,omitempty"`
	Category       string `json:"category,omitempty"`
	Workflow       string `json:"workflow,omitempty"`
	HandoverReason string `json:"handover_reason,omitempty"`
}

type cwContactInbox struct {
	ID           int    `json:"id"`
	ContactID    int    `json:"contact_id"`
	InboxID      int    `json:"inbox_id"`
	SourceID     string `json:"source_id"`
	CreatedAt    string `json:"created_at"`
	UpdatedAt    string `json:"updated_at"`
	HmacVerified bool   `json:"hmac_verified"`
}

// cwContact is a contact's push_event_data (meta.sender) or webhook_data
// (message sender), which carry the same fields for our purposes.
type cwContact struct {
	AdditionalAttributes struct{} `json:"additional_attributes"`
	CustomAttributes     struct{} `json:"custom_attributes"`
	Email                *string  `json:"email"`
	ID                   int      `json:"id"`
	Identifier           *string  `json:"identifier"`
	Name                 string   `json:"name"`
	PhoneNumber          string   `json:"phone_number"`
	Thumbnail            string   `json:"thumbnail"`
	Type                 string   `json:"type"`
}

// cwUser is an agent (type "user") or the bot (type "agent_bot").
type cwUser struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
	Type  string `json:"type"`
}

type cwAssignee struct {
	ID                 int    `json:"id"`
	Name               string `json:"name"`
	AvailableName      string `json:"available_name"`
	AvatarURL          string `json:"avatar_url"`
	Type               string `json:"type"`
	AvailabilityStatus string `json:"availability_status"`
}

type cwConvMeta struct {
	Sender       cwContact   `json:"sender"`
	Assignee     *cwAssignee `json:"assignee"`
	Team         *struct{}   `json:"team"`
	HmacVerified bool        `json:"hmac_verified"`
}

// cwPushMessage is a message's push_event_data, as found in a
// conversation's messages[]: integer message_type, Unix created_at.
type cwPushMessage struct {
	ID                int      `json:"id"`
	Content           string   `json:"content"`
	AccountID         int      `json:"account_id"`
	InboxID           int      `json:"inbox_id"`
	ConversationID    int      `json:"conversation_id"`
	MessageType       int      `json:"message_type"`
	CreatedAt         int64    `json:"created_at"`
	UpdatedAt         string   `json:"updated_at"`
	Private           bool     `json:"private"`
	Status            string   `json:"status"`
	SourceID          *string  `json:"source_id"`
	ContentType       string   `json:"content_type"`
	ContentAttributes struct{} `json:"content_attributes"`
	SenderType        string   `json:"sender_type"`
	SenderID          int      `json:"sender_id"`
	ExternalSourceIDs struct{} `json:"external_source_ids"`
}

// cwConversation is a conversation's webhook_data.
type cwConversation struct {
	AdditionalAttributes struct{}        `json:"additional_attributes"`
	CanReply             bool            `json:"can_reply"`
	Channel              string          `json:"channel"`
	ContactInbox         cwContactInbox  `json:"contact_inbox"`
	ID                   int             `json:"id"`
	InboxID              int             `json:"inbox_id"`
	Messages             []cwPushMessage `json:"messages"`
	Labels               []string        `json:"labels"`
	Meta                 cwConvMeta      `json:"meta"`
	Status               string          `json:"status"`
	CustomAttributes     cwAttrs         `json:"custom_attributes"`
	SnoozedUntil         *int64          `json:"snoozed_until"`
	UnreadCount          int             `json:"unread_count"`
	FirstReplyCreatedAt  *string         `json:"first_reply_created_at"`
	Priority             *string         `json:"priority"`
	WaitingSince         int64           `json:"waiting_since"`
	AgentLastSeenAt      int64           `json:"agent_last_seen_at"`
	ContactLastSeenAt    int64           `json:"contact_last_seen_at"`
	LastActivityAt       int64           `json:"last_activity_at"`
	Timestamp            int64           `json:"timestamp"`
	CreatedAt            int64           `json:"created_at"`
	UpdatedAt            float64         `json:"updated_at"`
	AccountID            int             `json:"account_id"`
}

type cwChange struct {
	PreviousValue any `json:"previous_value"`
	CurrentValue  any `json:"current_value"`
}

// cwConvEvent is conversation_created / conversation_status_changed /
// conversation_updated.
type cwConvEvent struct {
	cwConversation
	Event             string                `json:"event"`
	ChangedAttributes []map[string]cwChange `json:"changed_attributes,omitempty"`
}

type cwRef struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

type cwAttachment struct {
	ID        int    `json:"id"`
	MessageID int    `json:"message_id"`
	FileType  string `json:"file_type"`
	AccountID int    `json:"account_id"`
	Extension string `json:"extension,omitempty"`
	DataURL   string `json:"data_url"`
	FileSize  int    `json:"file_size"`
}

// cwMessageEvent is message_created: string message_type, ISO created_at,
// source_id = the WhatsApp message id.
type cwMessageEvent struct {
	ID                int            `json:"id"`
	Content           string         `json:"content"`
	CreatedAt         string         `json:"created_at"`
	MessageType       string         `json:"message_type"`
	ContentType       string         `json:"content_type"`
	Private           bool           `json:"private"`
	ContentAttributes struct{}       `json:"content_attributes"`
	SourceID          *string        `json:"source_id"`
	Sender            any            `json:"sender"`
	Inbox             cwRef          `json:"inbox"`
	Conversation      cwConversation `json:"conversation"`
	Account           cwRef          `json:"account"`
	Attachments       []cwAttachment `json:"attachments,omitempty"`
	Event             string         `json:"event"`
}

// cwTypingEvent is conversation_typing_on / _off: noise for closedloop.
type cwTypingEvent struct {
	Event        string         `json:"event"`
	User         cwUser         `json:"user"`
	Conversation cwConversation `json:"conversation"`
	IsPrivate    bool           `json:"is_private"`
}

// cwWidgetEvent is webwidget_triggered from the website inbox: noise.
type cwWidgetEvent struct {
	ID                  int       `json:"id"`
	Contact             cwUser    `json:"contact"`
	Inbox               cwRef     `json:"inbox"`
	Account             cwRef     `json:"account"`
	CurrentConversation *struct{} `json:"current_conversation"`
	SourceID            string    `json:"source_id"`
	Event               string    `json:"event"`
	EventInfo           struct {
		WidgetLanguage  string `json:"widget_language"`
		BrowserLanguage string `json:"browser_language"`
		Browser         struct {
			BrowserName     string `json:"browser_name"`
			BrowserVersion  string `json:"browser_version"`
			DeviceName      string `json:"device_name"`
			PlatformName    string `json:"platform_name"`
			PlatformVersion string `json:"platform_version"`
		} `json:"browser"`
	} `json:"event_info"`
}

// Chatwoot message_type values: strings at the top of message events,
// integers inside conversation.messages[].
const (
	cwIncoming = 0
	cwOutgoing = 1
)

// cwConv is the live state of one simulated Chatwoot conversation; every
// event serialises a snapshot of it.
type cwConv struct {
	id           int
	q            *queue
	cust         customer
	status       string
	labels       []string
	attrs        cwAttrs
	assignee     *cwAssignee
	last         *cwPushMessage
	unread       int
	created      int64
	ciCreated    string // when the contact first wrote to this inbox
	lastActivity int64
	firstReply   *string
	waitingSince int64
	agentSeen    int64
	contactSeen  int64
	updated      int64
}

func isoMs(ms int64) string { return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z") }

func (c *cwConv) contact() cwContact {
	return cwContact{ID: c.cust.contactID(), Name: c.cust.name, PhoneNumber: c.cust.phone, Type: "contact"}
}

// snapshot returns the conversation's webhook_data at this moment.
func (c *cwConv) snapshot() cwConversation {
	ci := c.cust.contactInboxID(c.q)
	ciCreated := c.ciCreated
	conv := cwConversation{
		CanReply: true, Channel: "Channel::Whatsapp",
		ContactInbox: cwContactInbox{ID: ci, ContactID: c.cust.contactID(), InboxID: c.q.inboxID,
			SourceID: c.cust.waID, CreatedAt: ciCreated, UpdatedAt: ciCreated},
		ID: c.id, InboxID: c.q.inboxID, Messages: []cwPushMessage{}, Labels: c.labels,
		Meta:   cwConvMeta{Sender: c.contact(), Assignee: c.assignee},
		Status: c.status, CustomAttributes: c.attrs, UnreadCount: c.unread,
		FirstReplyCreatedAt: c.firstReply, WaitingSince: c.waitingSince / 1000,
		AgentLastSeenAt: c.agentSeen / 1000, ContactLastSeenAt: c.contactSeen / 1000,
		LastActivityAt: c.lastActivity / 1000, Timestamp: c.lastActivity / 1000,
		CreatedAt: c.created / 1000, UpdatedAt: float64(c.updated) / 1000, AccountID: accountID,
	}
	if conv.Labels == nil {
		conv.Labels = []string{}
	}
	if c.last != nil {
		conv.Messages = []cwPushMessage{*c.last}
	}
	return conv
}

func (c *cwConv) inboxRef() cwRef { return cwRef{ID: c.q.inboxID, Name: c.q.name} }
