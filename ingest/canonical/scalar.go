package canonical

import (
	"bytes"
	"strconv"
	"strings"
	"unsafe"

	json "github.com/goccy/go-json"
)

// kind is the JSON type a field's value had in the input.
type kind uint8

const (
	absent    kind = iota // not in the line, null, or an empty string
	str                   // a JSON string (every CSV value is one)
	num                   // a JSON number, kept as its text
	boolean               // true or false
	composite             // an object or an array, kept as its raw text
)

// scalar is one field's value as the accessors see it: its JSON type and
// text. Knowing the type lets each field accept the spellings CSV and JSON
// writers use (2 and "2", true and "true") and still name the type in errors.
type scalar struct {
	text string
	kind kind
}

// value interprets a raw field. null, "" and blank strings are absent.
//
// The text aliases raw's bytes instead of copying them: json.RawMessage's
// UnmarshalJSON gives every field a fresh copy of its bytes, and nothing
// writes them again (a pooled line is cleared before reuse, so the next
// decode allocates new ones), so the string is as immutable as a copied one
// and decoding a line costs one allocation per field instead of two.
func value(raw json.RawMessage) scalar {
	b := bytes.TrimSpace(raw)
	if len(b) == 0 {
		return scalar{}
	}
	switch b[0] {
	case '"':
		var t string
		if len(b) >= 2 && bytes.IndexByte(b, '\\') < 0 {
			t = alias(b[1 : len(b)-1])
		} else {
			t = unquote(b)
		}
		t = strings.TrimSpace(t)
		if t == "" {
			return scalar{}
		}
		return scalar{text: t, kind: str}
	case 'n':
		return scalar{}
	case 't', 'f':
		return scalar{text: alias(b), kind: boolean}
	case '{', '[':
		return scalar{text: alias(b), kind: composite}
	}
	return scalar{text: alias(b), kind: num}
}

// unquote decodes a JSON string with escapes. go-json has validated the
// document already, so an error cannot happen; the raw text is kept if it
// does.
func unquote(b []byte) string {
	var t string
	if err := json.Unmarshal(b, &t); err != nil {
		return string(b)
	}
	return t
}

// alias views b as a string without copying; see value for why it is safe.
func alias(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// present reports whether the field has a value.
func (s scalar) present() bool { return s.kind != absent }

// decimal renders a JSON number as decimal text: integers as written
// (no precision lost), others without exponent (1e3 → "1000").
func decimal(n string) string {
	if isInteger(n) {
		return n
	}
	f, err := strconv.ParseFloat(n, 64)
	if err != nil {
		return n
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func isInteger(s string) bool {
	if strings.HasPrefix(s, "-") {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
