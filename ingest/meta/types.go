package meta

import (
	json "github.com/goccy/go-json"
)

// The structs below declare only what the mapping reads; goccy skips the
// rest (contacts, conversation, context, message bodies) without building
// values for it, which is most of the body.

type webhook struct {
	Object string  `json:"object"`
	Entry  []entry `json:"entry"`
}

type entry struct {
	Changes []change `json:"changes"`
}

// change is one `entry[].changes[]` element. `field` may come before or
// after `value`, or be missing; decoding into a struct makes the order moot.
type change struct {
	Field string `json:"field"`
	Value value  `json:"value"`
}

type value struct {
	Metadata metadata  `json:"metadata"`
	Messages []message `json:"messages"`
	Statuses []status  `json:"statuses"`
}

type metadata struct {
	PhoneNumberID scalar `json:"phone_number_id"`
}

type message struct {
	ID        scalar `json:"id"`
	From      scalar `json:"from"`
	Timestamp scalar `json:"timestamp"`
	Type      string `json:"type"`
}

type status struct {
	ID          scalar     `json:"id"`
	Status      string     `json:"status"`
	Timestamp   scalar     `json:"timestamp"`
	RecipientID scalar     `json:"recipient_id"`
	Errors      []apiError `json:"errors"`
	Pricing     pricing    `json:"pricing"`
}

type apiError struct {
	Code  scalar `json:"code"`
	Title string `json:"title"`
}

type pricing struct {
	Billable *bool  `json:"billable"`
	Category string `json:"category"`
}

// scalar is a JSON string or number kept as text. Meta documents ids and
// timestamps as strings but numbers have been seen in the wild (and error
// codes are numbers), so both are accepted; anything else is remembered
// as bad and reported later with its JSON path, which a decoder error
// could not name as clearly.
type scalar struct {
	s   string
	bad string // JSON kind of a value that is neither string nor number
}

// UnmarshalJSON never fails, so one odd value does not hide where it was.
func (v *scalar) UnmarshalJSON(b []byte) error {
	*v = scalar{}
	if len(b) == 0 {
		return nil
	}
	switch c := b[0]; {
	case c == '"':
		if len(b) >= 2 && !containsByte(b[1:len(b)-1], '\\') {
			v.s = string(b[1 : len(b)-1])
			return nil
		}
		if err := json.Unmarshal(b, &v.s); err != nil {
			v.bad = "malformed string"
		}
	case c == '-' || (c >= '0' && c <= '9'):
		v.s = string(b)
	case c == 'n':
		// null: absent
	case c == 't' || c == 'f':
		v.bad = "boolean"
	case c == '{':
		v.bad = "object"
	case c == '[':
		v.bad = "array"
	default:
		v.bad = "unknown value"
	}
	return nil
}

func containsByte(b []byte, c byte) bool {
	for _, x := range b {
		if x == c {
			return true
		}
	}
	return false
}
