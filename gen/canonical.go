package gen

// Rows of closedloop's canonical JSON Lines (SPEC §2), field names verbatim,
// timestamps RFC 3339 in UTC with milliseconds and Z, identifiers as
// strings. Optional fields are left out when empty rather than written as "".

type caseRow struct {
	CaseID     string `json:"case_id"`
	CustomerID string `json:"customer_id"`
	Event      string `json:"event"`
	TS         string `json:"ts"`
	Queue      string `json:"queue"`
	Category   string `json:"category"`
	Workflow   string `json:"workflow,omitempty"`
	Actor      string `json:"actor,omitempty"`
	Reason     string `json:"reason,omitempty"`
	ClosureTag string `json:"closure_tag,omitempty"`
}

type messageRow struct {
	MessageID      string `json:"message_id"`
	CaseID         string `json:"case_id"`
	CustomerID     string `json:"customer_id"`
	Direction      string `json:"direction"`
	SenderType     string `json:"sender_type"`
	Kind           string `json:"kind"`
	TemplateName   string `json:"template_name,omitempty"`
	Channel        string `json:"channel"`
	BusinessNumber string `json:"business_number"`
	TS             string `json:"ts"`
}

type writebackRow struct {
	WritebackID    string `json:"writeback_id"`
	CaseID         string `json:"case_id"`
	Workflow       string `json:"workflow"`
	TargetSystem   string `json:"target_system"`
	Action         string `json:"action"`
	IdempotencyKey string `json:"idempotency_key"`
	Attempt        int    `json:"attempt"`
	Status         string `json:"status"`
	Manual         bool   `json:"manual"`
	TS             string `json:"ts"`
	Error          string `json:"error,omitempty"`
}

type actionRow struct {
	CaseID     string `json:"case_id"`
	CustomerID string `json:"customer_id"`
	Workflow   string `json:"workflow"`
	Step       string `json:"step"`
	Channel    string `json:"channel"`
	TS         string `json:"ts"`
}

type consentRow struct {
	CustomerID string `json:"customer_id"`
	Channel    string `json:"channel"`
	Status     string `json:"status"`
	TS         string `json:"ts"`
	Source     string `json:"source"`
}

type templateRow struct {
	TemplateName string `json:"template_name"`
	Status       string `json:"status"`
	TS           string `json:"ts"`
	Actor        string `json:"actor"`
}

// auditRow is written in this field order; its hash is computed over a
// different, canonical serialisation (see audit.go).
type auditRow struct {
	AuditID    string         `json:"audit_id"`
	TS         string         `json:"ts"`
	Actor      string         `json:"actor"`
	ActorRole  string         `json:"actor_role"`
	Action     string         `json:"action"`
	ObjectType string         `json:"object_type"`
	ObjectID   string         `json:"object_id"`
	Details    map[string]any `json:"details"`
	PrevHash   string         `json:"prev_hash"`
	Hash       string         `json:"hash"`
}
