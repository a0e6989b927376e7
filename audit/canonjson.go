package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// TimeFormat renders every timestamp closedloop hashes or exports: RFC 3339
// in UTC with exactly three fractional digits and a literal Z, e.g.
// 2026-03-02T06:00:00.000Z. Fixed width, so text order is time order.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// FormatTime renders t with TimeFormat (UTC, milliseconds, truncated).
func FormatTime(t time.Time) string { return t.UTC().Truncate(time.Millisecond).Format(TimeFormat) }

// ParseJSON decodes one JSON value the way the canonical form needs it:
// numbers stay json.Number (their text as written), objects become
// map[string]any, arrays []any. Trailing data is an error.
func ParseJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the JSON value")
	}
	return v, nil
}

// CanonicalJSON serialises a parsed JSON value canonically (README.md,
// "Canonical JSON"): no whitespace; object keys sorted by their UTF-8 bytes
// (= Unicode code point order) at every depth; strings as UTF-8 with only
// '"', '\\' and control characters escaped (\b \t \n \f \r, others as
// \u00xx with lower-case hex; invalid UTF-8 becomes U+FFFD); numbers as
// written (json.Number) or, for Go integers, in decimal; true, false, null.
// This equals Python's json.dumps(v, sort_keys=True, separators=(",", ":"),
// ensure_ascii=False) and RFC 8785 for strings, integers and ASCII keys.
func CanonicalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := appendCanonical(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func appendCanonical(buf *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case nil:
		buf.WriteString("null")
	case bool:
		if x {
			buf.WriteString("true")
		} else {
			buf.WriteString("false")
		}
	case string:
		writeCanonicalString(buf, x)
	case json.Number:
		if !isJSONNumber(string(x)) {
			return fmt.Errorf("invalid JSON number %q", string(x))
		}
		buf.WriteString(string(x))
	case int:
		buf.WriteString(strconv.Itoa(x))
	case int32:
		buf.WriteString(strconv.FormatInt(int64(x), 10))
	case int64:
		buf.WriteString(strconv.FormatInt(x, 10))
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeCanonicalString(buf, k)
			buf.WriteByte(':')
			if err := appendCanonical(buf, x[k]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case []any:
		buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := appendCanonical(buf, e); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	default:
		return fmt.Errorf("canonical JSON: unsupported value of type %T", v)
	}
	return nil
}

func writeCanonicalString(buf *bytes.Buffer, s string) {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	const hexdigits = "0123456789abcdef"
	buf.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			buf.WriteString(`\"`)
		case c == '\\':
			buf.WriteString(`\\`)
		case c == '\b':
			buf.WriteString(`\b`)
		case c == '\t':
			buf.WriteString(`\t`)
		case c == '\n':
			buf.WriteString(`\n`)
		case c == '\f':
			buf.WriteString(`\f`)
		case c == '\r':
			buf.WriteString(`\r`)
		case c < 0x20:
			buf.WriteString(`\u00`)
			buf.WriteByte(hexdigits[c>>4])
			buf.WriteByte(hexdigits[c&0xf])
		default:
			buf.WriteByte(c)
		}
	}
	buf.WriteByte('"')
}

// isJSONNumber checks the JSON number grammar (RFC 8259 §6).
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	if i >= len(s) {
		return false
	}
	if s[i] == '0' {
		i++
	} else if s[i] >= '1' && s[i] <= '9' {
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	} else {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	return i == len(s)
}

// CanonicalizeJSONText parses JSON text and returns its canonical form.
func CanonicalizeJSONText(b []byte) ([]byte, error) {
	v, err := ParseJSON(b)
	if err != nil {
		return nil, err
	}
	return CanonicalJSON(v)
}
