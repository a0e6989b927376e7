package canonical

import (
	"bytes"

	"github.com/closedloop/closedloop/models"
)

// fieldSet marks the fields that take part in recognising a line's table.
type fieldSet uint32

const (
	fCaseID fieldSet = 1 << iota
	fEvent
	fWritebackID
	fIdempotencyKey
	fAttempt
	fStep
	fAuditID
	fHash
	fAction
	fTemplateName
	fStatus
	fConsentStatus // status is opt_in or opt_out
	fMessageID
	fCustomerID
	fDirection
	fObject // Meta webhooks: never canonical
)

func (fs fieldSet) has(f fieldSet) bool { return fs&f == f }

// classify applies the recognition rules (see the package comment) in
// order. The order matters: a writeback carries case_id and a consent line
// carries customer_id, so the more specific rules come first.
func classify(fs fieldSet) (models.Table, bool) {
	switch {
	case fs.has(fCaseID | fEvent):
		return models.TableCaseEvents, true
	case fs.has(fWritebackID), fs.has(fIdempotencyKey | fAttempt):
		return models.TableWritebacks, true
	case fs.has(fStep):
		return models.TableActions, true
	case fs.has(fAuditID), fs.has(fHash | fAction):
		return models.TableAuditEvents, true
	case fs.has(fTemplateName|fStatus) && !fs.has(fMessageID):
		return models.TableTemplateEvents, true
	case fs.has(fCustomerID|fConsentStatus) && !fs.has(fCaseID):
		return models.TableConsentEvents, true
	case fs.has(fMessageID | fDirection):
		return models.TableMessages, true
	}
	return "", false
}

// detectable reports whether auto-detection may claim a document with these
// fields: not a Meta webhook ("object") and not a Chatwoot or SendGrid
// webhook ("event" without "case_id"), and matching one of the rules.
func detectable(fs fieldSet) bool {
	if fs.has(fObject) || (fs.has(fEvent) && !fs.has(fCaseID)) {
		return false
	}
	_, ok := classify(fs)
	return ok
}

// fieldBit maps a top-level key onto its recognition bit (0 for the rest).
// Keys match case-insensitively, as go-json matches them when decoding, so
// that Detect and Decode agree on which fields a line has.
func fieldBit(key []byte) fieldSet {
	var buf [16]byte
	if len(key) > len(buf) {
		return 0 // longer than any recognition field
	}
	k := buf[:len(key)]
	for i, c := range key {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		k[i] = c
	}
	switch string(k) {
	case "case_id":
		return fCaseID
	case "event":
		return fEvent
	case "writeback_id":
		return fWritebackID
	case "idempotency_key":
		return fIdempotencyKey
	case "attempt":
		return fAttempt
	case "step":
		return fStep
	case "audit_id":
		return fAuditID
	case "hash":
		return fHash
	case "action":
		return fAction
	case "template_name":
		return fTemplateName
	case "status":
		return fStatus
	case "message_id":
		return fMessageID
	case "customer_id":
		return fCustomerID
	case "direction":
		return fDirection
	case "object":
		return fObject
	}
	return 0
}

// scanFields collects the recognition bits of a JSON object's top-level
// keys without decoding it: no allocation, one pass, nested values skipped.
// ok is false when raw is not a well-formed-looking object; full validation
// is left to Decode, which reports the problem precisely.
func scanFields(raw []byte) (fs fieldSet, ok bool) {
	i := skipWS(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return 0, false
	}
	i = skipWS(raw, i+1)
	if i < len(raw) && raw[i] == '}' {
		return 0, true
	}
	for i < len(raw) {
		if raw[i] != '"' {
			return 0, false
		}
		end := stringEnd(raw, i)
		if end < 0 {
			return 0, false
		}
		key := raw[i+1 : end-1]
		i = skipWS(raw, end)
		if i >= len(raw) || raw[i] != ':' {
			return 0, false
		}
		v := skipWS(raw, i+1)
		vend := valueEnd(raw, v)
		if vend < 0 {
			return 0, false
		}
		if bit := fieldBit(key); bit != 0 && hasValue(raw[v:vend]) {
			fs |= bit
			if bit == fStatus && isConsentStatus(raw[v:vend]) {
				fs |= fConsentStatus
			}
		}
		i = skipWS(raw, vend)
		if i >= len(raw) {
			return 0, false
		}
		switch raw[i] {
		case ',':
			i = skipWS(raw, i+1)
		case '}':
			return fs, true
		default:
			return 0, false
		}
	}
	return 0, false
}

// hasValue is false for null and for strings that are empty or blank,
// matching scalar's notion of an absent field.
func hasValue(v []byte) bool {
	if bytes.Equal(v, []byte("null")) {
		return false
	}
	if len(v) >= 2 && v[0] == '"' {
		return len(bytes.TrimSpace(v[1:len(v)-1])) > 0
	}
	return len(v) > 0
}

func isConsentStatus(v []byte) bool {
	v = bytes.TrimSpace(bytes.Trim(v, `"`))
	return bytes.EqualFold(v, []byte("opt_in")) || bytes.EqualFold(v, []byte("opt_out"))
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the string starting at b[i] == '"',
// or -1 when it is not terminated.
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// valueEnd returns the index just past the JSON value starting at b[i], or
// -1 when it is cut short. Scalars end at the next delimiter.
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				e := stringEnd(b, j)
				if e < 0 {
					return -1
				}
				j = e - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	if j == i {
		return -1
	}
	return j
}
