// Package sendgrid collects SendGrid Event Webhook bodies: a JSON array of
// events (some marketing events arrive as one bare object), each with
// `event`, `email`, `timestamp`, `sg_event_id` and `sg_message_id`.
//
// Mapping (SPEC §1 "More sources"), channel email:
//
//   - processed → sent, delivered → delivered, open → read,
//     bounce and dropped → failed with error_code the bounce classification
//     (`bounce_classification`, else `type`: bounce or blocked; `dropped`
//     for drops) and error_title the `reason` (e-mail addresses in it are
//     replaced by "[email]").
//   - unsubscribe → a consent_events opt_out on channel email for the
//     recipient (the one-click unsubscribe is a withdrawal of consent).
//   - deferred (a retry is coming), click, spamreport, group_unsubscribe
//     and group_resubscribe are skipped (ingest.ErrSkip).
//   - message_id is sg_message_id without SendGrid's filter suffix: the
//     part before ".filter…", ".stfilter…" or ".recvd…", which is the
//     X-Message-Id the Mail Send API returned to the sender (what the
//     sender logged as the message id). Without sg_message_id the smtp-id's
//     local part is used; an event with neither is rejected (it cannot be
//     joined to a message).
//   - customer_id is the pseudonym of a `customer_id` custom argument when
//     the sender attached one (so the e-mail joins the customer's phone
//     pseudonym), else of the lower-cased e-mail address.
//   - event case is ignored ("Processed" is processed); timestamp is Unix
//     seconds as a number or a string. Single Sends report milliseconds
//     (13 digits): for SendGrid, and only here, values of 1e11 or more are
//     read as milliseconds.
//   - event_id: sg_event_id when it looks unique (16+ characters of
//     base64 with upper and lower case letters); SendGrid's documentation
//     examples use placeholders such as the literal "sg_event_id" for every
//     event, so otherwise it is the SHA-256 of the event's compact JSON.
//
// A body with several events is one document: an invalid event rejects
// it whole (the reason names its index), as for every collector. Files
// holding an array are split into one document per event by the reader.
package sendgrid

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	json "github.com/goccy/go-json"

	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/models"
)

// Name is the collector's registered name (`--source sendgrid`).
const Name = "sendgrid"

func init() { ingest.Register(Collector{}) }

// Collector maps SendGrid event bodies onto canonical records. It holds no
// state.
type Collector struct{}

// Name implements ingest.Collector.
func (Collector) Name() string { return Name }

// events are SendGrid's event types (lower case).
var events = map[string]bool{
	"processed": true, "deferred": true, "delivered": true, "open": true, "click": true,
	"bounce": true, "dropped": true, "spamreport": true, "unsubscribe": true,
	"group_unsubscribe": true, "group_resubscribe": true,
}

// Detect recognises an event (or an array of them): an `event` that is a
// SendGrid event name and an `email`. Chatwoot's and canonical events never
// use these names with an e-mail field.
func (Collector) Detect(doc ingest.Doc) bool {
	raw := doc.Raw
	if doc.Format != ingest.FormatJSON || doc.CSV || len(raw) == 0 || (raw[0] != '{' && raw[0] != '[') {
		return false
	}
	if !bytes.Contains(raw, []byte(`"email"`)) || !bytes.Contains(raw, []byte(`"event"`)) {
		return false
	}
	return events[strings.ToLower(eventName(raw))]
}

// eventName finds the string value of the first "event" key.
func eventName(raw []byte) string {
	key := []byte(`"event"`)
	for off := 0; ; {
		i := bytes.Index(raw[off:], key)
		if i < 0 {
			return ""
		}
		off += i + len(key)
		rest := bytes.TrimLeft(raw[off:], " \t\r\n")
		if len(rest) == 0 || rest[0] != ':' {
			continue
		}
		rest = bytes.TrimLeft(rest[1:], " \t\r\n")
		if len(rest) == 0 || rest[0] != '"' {
			return ""
		}
		end := bytes.IndexByte(rest[1:], '"')
		if end < 0 {
			return ""
		}
		return string(rest[1 : 1+end])
	}
}

// Decode implements ingest.Collector.
func (Collector) Decode(env *ingest.Env, doc ingest.Doc, emit func(models.Record)) error {
	raw := bytes.TrimSpace(doc.Raw)
	if len(raw) == 0 {
		return errors.New("sendgrid: empty body")
	}
	var elems []json.RawMessage
	if raw[0] == '[' {
		if err := json.Unmarshal(raw, &elems); err != nil {
			return fmt.Errorf("sendgrid: invalid JSON array: %v", err)
		}
		if len(elems) == 0 {
			return fmt.Errorf("%w: sendgrid empty array", ingest.ErrSkip)
		}
	} else {
		elems = []json.RawMessage{raw}
	}
	var out []models.Record
	skip := ""
	for i, e := range elems {
		recs, skipped, err := decodeEvent(env, e)
		if err != nil {
			if len(elems) > 1 {
				return fmt.Errorf("sendgrid: event [%d]: %w", i, err)
			}
			return fmt.Errorf("sendgrid: %w", err)
		}
		if skipped != "" && skip == "" {
			skip = skipped
		}
		out = append(out, recs...)
	}
	if len(out) == 0 {
		return fmt.Errorf("%w: sendgrid %s", ingest.ErrSkip, skip)
	}
	for _, r := range out {
		emit(r)
	}
	return nil
}

// event is what the mapping reads of one SendGrid event.
type event struct {
	Event          string          `json:"event"`
	Email          string          `json:"email"`
	Timestamp      json.RawMessage `json:"timestamp"`
	SGEventID      string          `json:"sg_event_id"`
	SGMessageID    string          `json:"sg_message_id"`
	SMTPID         string          `json:"smtp-id"`
	Reason         string          `json:"reason"`
	Type           string          `json:"type"`
	Classification string          `json:"bounce_classification"`
	CustomerID     json.RawMessage `json:"customer_id"`
}

// decodeEvent maps one event; skipped names a deliberately unused event.
func decodeEvent(env *ingest.Env, raw []byte) (recs []models.Record, skipped string, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, "", errors.New("an event must be a JSON object")
	}
	var e event
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, "", fmt.Errorf("invalid event: %v", err)
	}
	name := strings.ToLower(strings.TrimSpace(e.Event))
	if name == "" {
		return nil, "", errors.New("event has no \"event\"")
	}
	if !events[name] {
		return nil, "", fmt.Errorf("event %q is not a SendGrid event (processed, delivered, open, bounce, dropped, deferred, click, spamreport, unsubscribe, group_unsubscribe, group_resubscribe)", e.Event)
	}
	switch name {
	case "deferred", "click", "spamreport", "group_unsubscribe", "group_resubscribe":
		return nil, name, nil
	}
	email := strings.ToLower(strings.TrimSpace(e.Email))
	if email == "" {
		return nil, "", fmt.Errorf("%s event has no email", name)
	}
	ts, err := timestamp(e.Timestamp)
	if err != nil {
		return nil, "", err
	}
	customer := env.Pseudo.Customer(email)
	if id := customArg(e.CustomerID); id != "" {
		customer = env.Pseudo.Customer(id)
	}
	eventID := models.HashID(Name, "event", e.SGEventID)
	if !uniqueLooking(e.SGEventID) {
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return nil, "", fmt.Errorf("invalid event: %v", err)
		}
		eventID = models.HashBytes(buf.Bytes())
	}
	if name == "unsubscribe" {
		c := &models.ConsentEvent{CustomerID: customer, Channel: "email", Status: "opt_out", TS: ts,
			ConsentSource: "sendgrid_unsubscribe"}
		c.EventID = eventID
		return []models.Record{c}, "", nil
	}
	id := MessageID(e.SGMessageID)
	if id == "" {
		id = smtpLocal(e.SMTPID)
	}
	if id == "" {
		return nil, "", fmt.Errorf("%s event has neither sg_message_id nor smtp-id: it cannot be joined to a message", name)
	}
	s := &models.MessageStatus{MessageID: id, TS: ts, Channel: "email", CustomerID: customer}
	switch name {
	case "processed":
		s.Status = "sent"
	case "delivered":
		s.Status = "delivered"
	case "open":
		s.Status = "read"
	case "bounce", "dropped":
		s.Status = "failed"
		s.ErrorCode = strings.TrimSpace(e.Classification)
		if s.ErrorCode == "" {
			s.ErrorCode = strings.ToLower(strings.TrimSpace(e.Type))
		}
		if s.ErrorCode == "" {
			s.ErrorCode = name
		}
		s.ErrorTitle = emailRE.ReplaceAllString(strings.TrimSpace(e.Reason), "[email]")
	}
	s.EventID = eventID
	return []models.Record{s}, "", nil
}

var emailRE = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)

// MessageID strips SendGrid's filter suffix from sg_message_id, leaving the
// X-Message-Id the sender got back from the Mail Send API.
func MessageID(sg string) string {
	sg = strings.TrimSpace(sg)
	for _, marker := range []string{".filter", ".stfilter", ".recvd"} {
		if i := strings.Index(sg, marker); i > 0 {
			return sg[:i]
		}
	}
	return sg
}

// smtpLocal returns the local part of an smtp-id like "<abc.def@host>".
func smtpLocal(s string) string {
	s = strings.Trim(strings.TrimSpace(s), "<>")
	if i := strings.IndexByte(s, '@'); i > 0 {
		return s[:i]
	}
	return ""
}

// customArg reads a custom argument given as a string or a number.
func customArg(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.TrimSpace(s)
	}
	if raw[0] >= '0' && raw[0] <= '9' {
		return string(raw)
	}
	return ""
}

// uniqueLooking tells a real sg_event_id (base64 of random bytes, 22–24
// characters) from documentation placeholders ("sg_event_id").
func uniqueLooking(id string) bool {
	if len(id) < 16 || len(id) > 128 {
		return false
	}
	var upper, lower bool
	for _, c := range id {
		switch {
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= '0' && c <= '9', c == '-', c == '_', c == '+', c == '/', c == '=':
		default:
			return false
		}
	}
	return upper && lower
}

// timestamp reads Unix seconds (number or string); 13-digit values are
// SendGrid's milliseconds (Single Sends).
func timestamp(raw json.RawMessage) (time.Time, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return time.Time{}, errors.New("event has no timestamp")
	}
	s := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return time.Time{}, fmt.Errorf("timestamp %s: %v", raw, err)
		}
	}
	s = strings.TrimSpace(s)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f < 0 {
			return time.Time{}, fmt.Errorf("timestamp %s is not Unix seconds", raw)
		}
		n = int64(f)
	}
	switch {
	case n < 0:
		return time.Time{}, fmt.Errorf("timestamp %d is negative", n)
	case n >= 100_000_000_000 && n < 100_000_000_000_000:
		return time.UnixMilli(n).UTC(), nil
	case n >= 100_000_000_000:
		return time.Time{}, fmt.Errorf("timestamp %d is neither Unix seconds nor milliseconds", n)
	}
	return time.Unix(n, 0).UTC(), nil
}
