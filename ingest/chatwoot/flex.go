package chatwoot

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/closedloop/closedloop/ingest"
	json "github.com/goccy/go-json"
)

// Chatwoot serialises the same attribute differently depending on where it
// appears and on the version: ids are numbers but documented as strings in
// places, `created_at` is ISO 8601 at the top of a message webhook and Unix
// seconds inside `messages[]`, `updated_at` is a float, `message_type` is a
// name at the top level and an integer inside `messages[]`. The types in
// this file accept every form seen, so one struct serves the webhook and
// the REST API.

// ID is an identifier sent as a JSON number or string, kept as text.
type ID string

// UnmarshalJSON accepts a number, a string or null.
func (v *ID) UnmarshalJSON(b []byte) error {
	s, kind := scalarText(b)
	if kind != "" {
		return &valueError{"an id (number or string)", kind}
	}
	*v = ID(s)
	return nil
}

// Text is a free-form attribute value (custom attributes are typed by the
// account admin): strings, numbers and booleans become text; lists and
// objects are ignored rather than rejected, since they cannot be a
// category or a reason.
type Text string

// UnmarshalJSON never fails on well-formed JSON.
func (v *Text) UnmarshalJSON(b []byte) error {
	s, kind := scalarText(b)
	if kind == "" || kind == "boolean" {
		*v = Text(s)
	}
	return nil
}

// Time is a timestamp in any of Chatwoot's forms, parsed on use so that a
// bad value is reported with the attribute's name.
type Time struct {
	raw  string
	kind string // JSON kind when it is neither string nor number
}

// TimeOf builds a Time from text in any accepted form (for callers that
// get timestamps from elsewhere, e.g. changed_attributes or a cursor).
func TimeOf(s string) Time { return Time{raw: s} }

// UnmarshalJSON keeps the value's text; it never fails.
func (v *Time) UnmarshalJSON(b []byte) error {
	s, kind := scalarText(b)
	*v = Time{raw: s, kind: kind}
	return nil
}

// IsZero reports an absent (or null) timestamp.
func (v Time) IsZero() bool { return v.raw == "" && v.kind == "" }

// Parse returns the instant: Unix seconds (integer or fractional, as a
// number or string), RFC 3339, or Ruby's default "2006-01-02 15:04:05 UTC".
func (v Time) Parse() (time.Time, error) {
	if v.kind != "" {
		return time.Time{}, fmt.Errorf("expected a timestamp, got a JSON %s", v.kind)
	}
	t, err := ingest.ParseTime(v.raw)
	if err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05 MST", "2006-01-02 15:04:05 -0700"} {
		if rt, rerr := time.Parse(layout, v.raw); rerr == nil {
			return rt.UTC(), nil
		}
	}
	return time.Time{}, err
}

// MessageType is Chatwoot's message type as a name: "incoming",
// "outgoing", "activity" or "template". The REST API and `messages[]`
// send the enum's integer (0..3), the webhook sends the name.
type MessageType string

// The message types, named as Chatwoot names them.
const (
	Incoming MessageType = "incoming"
	Outgoing MessageType = "outgoing"
	Activity MessageType = "activity"
	Template MessageType = "template"
)

// UnmarshalJSON accepts the name or the enum integer.
func (v *MessageType) UnmarshalJSON(b []byte) error {
	s, kind := scalarText(b)
	if kind != "" {
		return &valueError{"message_type (a name or integer)", kind}
	}
	switch s {
	case "0":
		s = string(Incoming)
	case "1":
		s = string(Outgoing)
	case "2":
		s = string(Activity)
	case "3":
		s = string(Template)
	}
	*v = MessageType(strings.ToLower(s))
	return nil
}

// Status is a conversation status as a name: open, resolved, pending or
// snoozed (the enum's integers 0..3 are accepted too).
type Status string

// The conversation statuses.
const (
	Open     Status = "open"
	Resolved Status = "resolved"
	Pending  Status = "pending"
	Snoozed  Status = "snoozed"
)

// UnmarshalJSON accepts the name or the enum integer; null is "".
func (v *Status) UnmarshalJSON(b []byte) error {
	s, kind := scalarText(b)
	if kind != "" {
		return &valueError{"a conversation status (a name or integer)", kind}
	}
	*v = statusOf(s)
	return nil
}

func statusOf(s string) Status {
	switch s {
	case "0":
		return Open
	case "1":
		return Resolved
	case "2":
		return Pending
	case "3":
		return Snoozed
	}
	return Status(strings.ToLower(s))
}

// valueError reports a value of the wrong JSON kind found by one of the
// types above. goccy does not add the path to such errors, so the message
// says what was expected instead.
type valueError struct{ want, got string }

func (e *valueError) Error() string { return fmt.Sprintf("expected %s, got a JSON %s", e.want, e.got) }

// scalarText returns a JSON string's or number's text; kind names any
// other JSON kind (null gives "", "").
func scalarText(b []byte) (s, kind string) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "", ""
	}
	switch c := b[0]; {
	case c == '"':
		if bytes.IndexByte(b, '\\') < 0 && len(b) >= 2 {
			return string(b[1 : len(b)-1]), ""
		}
		if err := json.Unmarshal(b, &s); err != nil {
			return "", "malformed string"
		}
		return s, ""
	case c == '-' || (c >= '0' && c <= '9'):
		return string(b), ""
	case c == 'n':
		return "", ""
	case c == 't' || c == 'f':
		return string(b), "boolean"
	case c == '{':
		return "", "object"
	case c == '[':
		return "", "array"
	}
	return "", "value"
}
