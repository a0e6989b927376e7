package chatwoot

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/models"
	json "github.com/goccy/go-json"
)

// Decode implements ingest.Collector: it reads the event name, then the
// body as a conversation or a message, and hands it to the mapping shared
// with the REST collector. Events that carry no case or message step are
// skipped by name.
func (Collector) Decode(env *ingest.Env, doc ingest.Doc, emit func(models.Record)) error {
	var head struct {
		Event string `json:"event"`
	}
	if err := json.Unmarshal(doc.Raw, &head); err != nil {
		return describeJSONError("chatwoot", err)
	}
	event := head.Event
	var (
		r   models.Record
		err error
	)
	switch event {
	case "":
		return errors.New(`chatwoot: body has no "event"`)
	case "conversation_created", "conversation_status_changed", "conversation_updated",
		"conversation_opened", "conversation_resolved":
		r, err = decodeConversation(env, event, doc.Raw)
	case "message_created":
		r, err = decodeMessage(env, doc.Raw)
	default:
		// message_updated (status and edits of a message already stored),
		// webwidget_triggered, contact_*, inbox_*, typing indicators, …
		return fmt.Errorf("%w: chatwoot %s", ingest.ErrSkip, event)
	}
	if err != nil {
		if errors.Is(err, ingest.ErrSkip) {
			return err
		}
		return fmt.Errorf("chatwoot %s: %w", event, err)
	}
	emit(r)
	return nil
}

// conversationBody is a conversation_* webhook: the conversation's
// attributes at the top level, plus changed_attributes in newer versions.
type conversationBody struct {
	Conversation
	ChangedAttributes changedAttributes `json:"changed_attributes"`
}

func decodeConversation(env *ingest.Env, event string, raw []byte) (models.Record, error) {
	var b conversationBody
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, describeJSONError("", err)
	}
	c := &b.Conversation
	if event == "conversation_created" {
		return MapOpened(env, c)
	}
	ca := &b.ChangedAttributes
	if ca.err != nil {
		return nil, fmt.Errorf("changed_attributes: %w", ca.err)
	}
	// Without the exact transition, the current status is all there is.
	// The deprecated events are sent only when the status was saved as
	// open or resolved, so their name is the current status; the doc
	// samples' `status` contradicts it (copied from another event).
	prev, cur := Status(""), c.Status
	switch event {
	case "conversation_opened":
		cur = Open
	case "conversation_resolved":
		cur = Resolved
	}
	switch {
	case ca.status != nil:
		prev, cur = ca.status.prev, ca.status.cur
	case event == "conversation_updated":
		// Assignee, team, label or attribute changes are not case steps.
		return nil, fmt.Errorf("%w: chatwoot conversation_updated without status change", ingest.ErrSkip)
	}
	// updated_at as saved with the change beats the conversation's own,
	// which may have moved on by the time the webhook was built.
	if !ca.updatedAt.IsZero() {
		c.UpdatedAt = ca.updatedAt
	}
	return MapStatusChange(env, c, prev, cur)
}

// messageBody is a message_* webhook: the message's attributes at the top
// level with its conversation and inbox nested.
type messageBody struct {
	Message
	Conversation *Conversation `json:"conversation"`
	Inbox        Inbox         `json:"inbox"`
}

func decodeMessage(env *ingest.Env, raw []byte) (models.Record, error) {
	var b messageBody
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, describeJSONError("", err)
	}
	if b.Conversation == nil {
		return nil, errors.New("conversation: missing")
	}
	if b.Conversation.InboxName == "" {
		b.Conversation.InboxName = b.Inbox.Name
	}
	return MapMessage(env, b.Conversation, &b.Message)
}

// describeJSONError names the JSON path of a type mismatch
// (meta.sender.id) instead of goccy's Go struct path; prefix, when set,
// names the collector for errors raised before the event is known.
func describeJSONError(prefix string, err error) error {
	if prefix != "" {
		prefix += ": "
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Errorf("%s%s: cannot read a JSON %s as %s", prefix, jsonPath(te.Field), te.Value, te.Type)
	}
	var ve *valueError
	if errors.As(err, &ve) {
		return fmt.Errorf("%s%w", prefix, ve)
	}
	return fmt.Errorf("%sinvalid JSON: %w", prefix, err)
}

// jsonPath turns goccy's "conversation.messages.0.id" into
// "conversation.messages[0].id", dropping embedded struct names.
func jsonPath(field string) string {
	var b strings.Builder
	for i, p := range strings.Split(field, ".") {
		switch {
		case p == "Conversation" || p == "Message":
			continue
		case i > 0 && isIndex(p):
			b.WriteString("[" + p + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

func isIndex(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}
