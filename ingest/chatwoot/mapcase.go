package chatwoot

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/models"
)

// DefaultHandoverReason is the reason of a handover when the conversation
// does not name one (SPEC §2: a customer asking for a person).
const DefaultHandoverReason = "customer_request"

// CaseID is the case a Chatwoot conversation becomes: "cw:<display id>".
func CaseID(c *Conversation) string { return "cw:" + string(c.ID) }

// CustomerID is the pseudonym of the conversation's contact: of the phone
// number when the contact has one (so it joins Meta's wa_id), else of
// "chatwoot-contact:<id>" (so no raw Chatwoot id reaches the store either).
func CustomerID(env *ingest.Env, c *Conversation) string {
	if p := strings.TrimSpace(c.Meta.Sender.PhoneNumber); p != "" {
		return env.Pseudo.Customer(p)
	}
	id := c.Meta.Sender.ID
	if id == "" && c.ContactInbox != nil {
		id = c.ContactInbox.ContactID
	}
	if id == "" {
		return ""
	}
	return env.Pseudo.Customer("chatwoot-contact:" + string(id))
}

// Queue names the conversation's queue: custom_attributes.queue when the
// workflow sets it, else the inbox.
func Queue(c *Conversation) string {
	q := strings.TrimSpace(string(c.CustomAttributes.Queue))
	switch {
	case q != "":
		return q
	case c.InboxName != "":
		return c.InboxName
	case c.InboxID != "":
		return "inbox:" + string(c.InboxID)
	}
	return ""
}

// ClosureTag turns the conversation's labels into a resolution's
// closure_tag: every label, sorted and joined with ",". All labels rather
// than the first, because Chatwoot does not order labels meaningfully and
// dropping some would lose how the closer tagged the case; sorted, so the
// same label set always gives the same tag (and the same event_id).
func ClosureTag(c *Conversation) string {
	if len(c.Labels) == 0 {
		return ""
	}
	labels := make([]string, 0, len(c.Labels))
	for _, l := range c.Labels {
		if l = strings.TrimSpace(l); l != "" {
			labels = append(labels, l)
		}
	}
	sort.Strings(labels)
	return strings.Join(labels, ",")
}

// MapOpened maps the creation of a conversation. Its time is created_at,
// or `timestamp` in versions that do not send created_at (there it is the
// last activity, which at creation is the creation).
func MapOpened(env *ingest.Env, c *Conversation) (*models.CaseEvent, error) {
	at := c.CreatedAt
	name := "created_at"
	if at.IsZero() {
		at, name = c.Timestamp, "timestamp"
	}
	return caseEvent(env, c, "opened", at, name)
}

// MapStatusChange maps a status transition from prev to cur:
//
//	pending → open              handover (the bot handed the customer to a person)
//	any → resolved              resolved (closure_tag from the labels)
//	resolved → open | pending   reopened
//	to or from snoozed          skipped (an agent parked it; no change of owner)
//	open → pending, others      skipped
//
// prev is "" when the transition is unknown (payloads without
// changed_attributes); then open is read as a handover, resolved as a
// resolution, and pending or snoozed are skipped.
//
// The time is the conversation's updated_at (the moment the status was
// saved) when present, else `timestamp` (its last activity: the best the
// older payloads offer).
func MapStatusChange(env *ingest.Env, c *Conversation, prev, cur Status) (*models.CaseEvent, error) {
	event, err := transition(prev, cur)
	if err != nil {
		return nil, err
	}
	at, name := c.UpdatedAt, "updated_at"
	if at.IsZero() {
		at, name = c.Timestamp, "timestamp"
	}
	r, err := caseEvent(env, c, event, at, name)
	if err != nil {
		return nil, err
	}
	switch event {
	case "handover":
		r.Reason = handoverReason(c)
	case "resolved":
		r.ClosureTag = ClosureTag(c)
	}
	return r, nil
}

func transition(prev, cur Status) (string, error) {
	if cur == "" {
		return "", errors.New("status: missing")
	}
	if prev == "" {
		switch cur {
		case Open:
			return "handover", nil
		case Resolved:
			return "resolved", nil
		}
		return "", fmt.Errorf("%w: chatwoot status %s", ingest.ErrSkip, cur)
	}
	switch {
	case cur == Resolved && prev != Resolved:
		return "resolved", nil
	case prev == Snoozed || cur == Snoozed:
	case prev == Resolved && (cur == Open || cur == Pending):
		return "reopened", nil
	case prev == Pending && cur == Open:
		return "handover", nil
	}
	return "", fmt.Errorf("%w: chatwoot status %s->%s", ingest.ErrSkip, prev, cur)
}

func handoverReason(c *Conversation) string {
	if r := strings.TrimSpace(string(c.CustomAttributes.HandoverReason)); r != "" {
		return r
	}
	if r := strings.TrimSpace(string(c.AdditionalAttributes.HandoverReason)); r != "" {
		return r
	}
	return DefaultHandoverReason
}

// caseEvent builds the event shared by every lifecycle step. The event_id
// hashes the case, the canonical event and its instant, so the same
// transition delivered by conversation_status_changed and by
// conversation_updated (Chatwoot sends both) is stored once.
func caseEvent(env *ingest.Env, c *Conversation, event string, at Time, atName string) (*models.CaseEvent, error) {
	if c.ID == "" {
		return nil, errors.New("id: missing (the conversation's display id)")
	}
	if at.IsZero() {
		return nil, fmt.Errorf("%s: missing", atName)
	}
	ts, err := at.Parse()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", atName, err)
	}
	r := &models.CaseEvent{
		CaseID:     CaseID(c),
		CustomerID: CustomerID(env, c),
		Event:      event,
		TS:         ts,
		Queue:      Queue(c),
		Category:   strings.TrimSpace(string(c.CustomAttributes.Category)),
		Workflow:   strings.TrimSpace(string(c.CustomAttributes.Workflow)),
	}
	r.EventID = models.HashID("chatwoot", "case", r.CaseID, event, models.UTCms(ts).Format(time.RFC3339Nano))
	return r, nil
}
