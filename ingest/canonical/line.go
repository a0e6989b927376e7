package canonical

import (
	"bytes"
	"fmt"
	"strings"

	json "github.com/goccy/go-json"
)

// line holds every canonical field of every table. One struct for all
// tables lets the "canonical" collector decode a line once and then decide
// its table from the fields that turned out present. Fields are raw JSON
// values: go-json's typed struct decode finds them without building a map,
// and the field accessors (see scalar) interpret each one only when read.
type line struct {
	EventID        json.RawMessage `json:"event_id"`
	MessageID      json.RawMessage `json:"message_id"`
	CaseID         json.RawMessage `json:"case_id"`
	CustomerID     json.RawMessage `json:"customer_id"`
	Direction      json.RawMessage `json:"direction"`
	SenderType     json.RawMessage `json:"sender_type"`
	Kind           json.RawMessage `json:"kind"`
	TemplateName   json.RawMessage `json:"template_name"`
	Channel        json.RawMessage `json:"channel"`
	BusinessNumber json.RawMessage `json:"business_number"`
	TS             json.RawMessage `json:"ts"`
	Event          json.RawMessage `json:"event"`
	Queue          json.RawMessage `json:"queue"`
	Category       json.RawMessage `json:"category"`
	Workflow       json.RawMessage `json:"workflow"`
	Actor          json.RawMessage `json:"actor"`
	Reason         json.RawMessage `json:"reason"`
	ClosureTag     json.RawMessage `json:"closure_tag"`
	WritebackID    json.RawMessage `json:"writeback_id"`
	TargetSystem   json.RawMessage `json:"target_system"`
	Action         json.RawMessage `json:"action"`
	IdempotencyKey json.RawMessage `json:"idempotency_key"`
	Attempt        json.RawMessage `json:"attempt"`
	Status         json.RawMessage `json:"status"`
	Manual         json.RawMessage `json:"manual"`
	Error          json.RawMessage `json:"error"`
	Source         json.RawMessage `json:"source"`
	ConsentSource  json.RawMessage `json:"consent_source"` // how store exports name `source`
	AuditID        json.RawMessage `json:"audit_id"`
	ActorRole      json.RawMessage `json:"actor_role"`
	ObjectType     json.RawMessage `json:"object_type"`
	ObjectID       json.RawMessage `json:"object_id"`
	Details        json.RawMessage `json:"details"`
	PrevHash       json.RawMessage `json:"prev_hash"`
	Hash           json.RawMessage `json:"hash"`
	Step           json.RawMessage `json:"step"`
}

// decodeLine parses one document into a line, explaining what is wrong
// when it is not a JSON object.
func decodeLine(raw []byte, l *line) error {
	b := bytes.TrimSpace(raw)
	if len(b) == 0 {
		return fmt.Errorf("empty document, expected a JSON object of canonical fields")
	}
	if b[0] != '{' {
		if json.Valid(b) {
			return fmt.Errorf("JSON %s is not an object of canonical fields", jsonType(b[0]))
		}
		return fmt.Errorf("invalid JSON: expected an object starting with '{', found %q", truncate(b, 20))
	}
	if err := json.Unmarshal(b, l); err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	return nil
}

// fields reports which recognition-relevant fields have a value.
func (l *line) fields() fieldSet {
	var fs fieldSet
	set := func(bit fieldSet, raw json.RawMessage) {
		if value(raw).present() {
			fs |= bit
		}
	}
	set(fCaseID, l.CaseID)
	set(fEvent, l.Event)
	set(fWritebackID, l.WritebackID)
	set(fIdempotencyKey, l.IdempotencyKey)
	set(fAttempt, l.Attempt)
	set(fStep, l.Step)
	set(fAuditID, l.AuditID)
	set(fHash, l.Hash)
	set(fAction, l.Action)
	set(fTemplateName, l.TemplateName)
	set(fStatus, l.Status)
	set(fMessageID, l.MessageID)
	set(fCustomerID, l.CustomerID)
	set(fDirection, l.Direction)
	if st := value(l.Status); st.kind == str && (strings.EqualFold(st.text, "opt_in") || strings.EqualFold(st.text, "opt_out")) {
		fs |= fConsentStatus
	}
	return fs
}

func jsonType(c byte) string {
	switch c {
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
