// Package models defines closedloop's canonical events (the store's raw
// layer). Every collector maps its source onto these types; every store
// writes them with the column order given by Columns.
package models

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Table names a raw table of the store.
type Table string

// The raw tables, in the order they are documented.
const (
	TableMessages        Table = "messages"
	TableMessageStatuses Table = "message_statuses"
	TableCaseEvents      Table = "case_events"
	TableWritebacks      Table = "writebacks"
	TableConsentEvents   Table = "consent_events"
	TableTemplateEvents  Table = "template_events"
	TableAuditEvents     Table = "audit_events"
	TableActions         Table = "actions"
	TableRejects         Table = "rejects"
)

// EventTables lists the tables that hold events (everything but rejects).
var EventTables = []Table{
	TableMessages, TableMessageStatuses, TableCaseEvents, TableWritebacks,
	TableConsentEvents, TableTemplateEvents, TableAuditEvents, TableActions,
}

// Meta is carried by every stored row: where it came from and when.
type Meta struct {
	EventID    string
	Source     string    // collector name
	SourceRef  string    // file:line or request id
	IngestedAt time.Time // set by the ingest pipeline
}

// Record is one canonical row bound for a table.
type Record interface {
	Table() Table
	// Base gives access to the shared provenance fields.
	Base() *Meta
	// Values returns the row's values in the order of Columns[Table()].
	Values() []any
}

// Columns gives, per table, the column order shared by every store.
var Columns = map[Table][]string{
	TableMessages: {"event_id", "message_id", "case_id", "customer_id", "direction", "sender_type",
		"kind", "template_name", "channel", "business_number", "ts", "source", "source_ref", "ingested_at"},
	TableMessageStatuses: {"event_id", "message_id", "status", "ts", "error_code", "error_title",
		"pricing_category", "billable", "channel", "customer_id", "source", "source_ref", "ingested_at"},
	TableCaseEvents: {"event_id", "case_id", "customer_id", "event", "ts", "queue", "category",
		"workflow", "actor", "reason", "closure_tag", "source", "source_ref", "ingested_at"},
	TableWritebacks: {"event_id", "writeback_id", "case_id", "workflow", "target_system", "action",
		"idempotency_key", "attempt", "status", "manual", "ts", "error", "source", "source_ref", "ingested_at"},
	TableConsentEvents: {"event_id", "customer_id", "channel", "status", "ts", "consent_source",
		"source", "source_ref", "ingested_at"},
	TableTemplateEvents: {"event_id", "template_name", "status", "ts", "actor", "source", "source_ref", "ingested_at"},
	TableAuditEvents: {"event_id", "audit_id", "ts", "actor", "actor_role", "action", "object_type",
		"object_id", "details", "prev_hash", "hash", "source", "source_ref", "ingested_at"},
	TableActions: {"event_id", "case_id", "customer_id", "workflow", "step", "channel", "ts",
		"source", "source_ref", "ingested_at"},
	TableRejects: {"event_id", "source", "source_ref", "reason", "raw", "ingested_at"},
}

// Message is one WhatsApp (or SMS/email) message.
type Message struct {
	Meta
	MessageID      string
	CaseID         string // empty when the source does not know it
	CustomerID     string // pseudonym
	Direction      string // inbound|outbound
	SenderType     string // customer|bot|agent|system
	Kind           string // text|template|interactive|media|other
	TemplateName   string
	Channel        string // whatsapp|sms|email
	BusinessNumber string
	TS             time.Time
}

// MessageStatus is one delivery status report for an outbound message.
type MessageStatus struct {
	Meta
	MessageID       string
	Status          string // sent|delivered|read|failed
	TS              time.Time
	ErrorCode       string
	ErrorTitle      string
	PricingCategory string
	Billable        *bool
	Channel         string
	CustomerID      string // recipient pseudonym, when known
}

// CaseEvent is one step of a case's lifecycle.
type CaseEvent struct {
	Meta
	CaseID     string
	CustomerID string
	Event      string // opened|handover|completed|resolved|reopened
	TS         time.Time
	Queue      string
	Category   string
	Workflow   string
	Actor      string
	Reason     string
	ClosureTag string
}

// Writeback is one attempt to write a workflow's outcome to a system of record.
type Writeback struct {
	Meta
	WritebackID    string
	CaseID         string
	Workflow       string
	TargetSystem   string
	Action         string
	IdempotencyKey string
	Attempt        int
	Status         string // success|failed
	Manual         bool
	TS             time.Time
	Error          string
}

// ConsentEvent records a customer's opt-in or opt-out on a channel.
type ConsentEvent struct {
	Meta
	CustomerID    string
	Channel       string
	Status        string // opt_in|opt_out
	TS            time.Time
	ConsentSource string // the `source` field of the canonical format
}

// TemplateEvent records a change of a message template's approval state.
type TemplateEvent struct {
	Meta
	TemplateName string
	Status       string // approved|rejected|paused|disabled
	TS           time.Time
	Actor        string
}

// AuditEvent is one link of the append-only audit hash chain.
type AuditEvent struct {
	Meta
	AuditID    string
	TS         time.Time
	Actor      string
	ActorRole  string
	Action     string
	ObjectType string
	ObjectID   string
	Details    string // JSON
	PrevHash   string
	Hash       string
}

// Action is one step of a secure in-message action (mini-app telemetry).
type Action struct {
	Meta
	CaseID     string
	CustomerID string
	Workflow   string
	Step       string // link_opened|identity_validated|identity_failed|action_started|action_submitted
	Channel    string
	TS         time.Time
}

// Reject is an input that could not be read, with a reason a person understands.
type Reject struct {
	Meta
	Reason string
	Raw    string // truncated
}

func (r *Message) Table() Table       { return TableMessages }
func (r *MessageStatus) Table() Table { return TableMessageStatuses }
func (r *CaseEvent) Table() Table     { return TableCaseEvents }
func (r *Writeback) Table() Table     { return TableWritebacks }
func (r *ConsentEvent) Table() Table  { return TableConsentEvents }
func (r *TemplateEvent) Table() Table { return TableTemplateEvents }
func (r *AuditEvent) Table() Table    { return TableAuditEvents }
func (r *Action) Table() Table        { return TableActions }
func (r *Reject) Table() Table        { return TableRejects }

func (r *Message) Base() *Meta       { return &r.Meta }
func (r *MessageStatus) Base() *Meta { return &r.Meta }
func (r *CaseEvent) Base() *Meta     { return &r.Meta }
func (r *Writeback) Base() *Meta     { return &r.Meta }
func (r *ConsentEvent) Base() *Meta  { return &r.Meta }
func (r *TemplateEvent) Base() *Meta { return &r.Meta }
func (r *AuditEvent) Base() *Meta    { return &r.Meta }
func (r *Action) Base() *Meta        { return &r.Meta }
func (r *Reject) Base() *Meta        { return &r.Meta }

// null turns an empty string into a SQL NULL so absent values stay absent.
func null(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// UTCms normalises a timestamp to UTC with millisecond precision, the
// resolution every store keeps.
func UTCms(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

func (r *Message) Values() []any {
	return []any{r.EventID, r.MessageID, null(r.CaseID), null(r.CustomerID), r.Direction, r.SenderType,
		r.Kind, null(r.TemplateName), r.Channel, null(r.BusinessNumber), UTCms(r.TS), r.Source, r.SourceRef, UTCms(r.IngestedAt)}
}

func (r *MessageStatus) Values() []any {
	var billable any
	if r.Billable != nil {
		billable = *r.Billable
	}
	return []any{r.EventID, r.MessageID, r.Status, UTCms(r.TS), null(r.ErrorCode), null(r.ErrorTitle),
		null(r.PricingCategory), billable, r.Channel, null(r.CustomerID), r.Source, r.SourceRef, UTCms(r.IngestedAt)}
}

func (r *CaseEvent) Values() []any {
	return []any{r.EventID, r.CaseID, null(r.CustomerID), r.Event, UTCms(r.TS), null(r.Queue), null(r.Category),
		null(r.Workflow), null(r.Actor), null(r.Reason), null(r.ClosureTag), r.Source, r.SourceRef, UTCms(r.IngestedAt)}
}

func (r *Writeback) Values() []any {
	return []any{r.EventID, r.WritebackID, null(r.CaseID), null(r.Workflow), null(r.TargetSystem), null(r.Action),
		null(r.IdempotencyKey), int32(r.Attempt), r.Status, r.Manual, UTCms(r.TS), null(r.Error), r.Source, r.SourceRef, UTCms(r.IngestedAt)}
}

func (r *ConsentEvent) Values() []any {
	return []any{r.EventID, r.CustomerID, r.Channel, r.Status, UTCms(r.TS), null(r.ConsentSource),
		r.Source, r.SourceRef, UTCms(r.IngestedAt)}
}

func (r *TemplateEvent) Values() []any {
	return []any{r.EventID, r.TemplateName, r.Status, UTCms(r.TS), null(r.Actor), r.Source, r.SourceRef, UTCms(r.IngestedAt)}
}

func (r *AuditEvent) Values() []any {
	return []any{r.EventID, r.AuditID, UTCms(r.TS), null(r.Actor), null(r.ActorRole), r.Action, null(r.ObjectType),
		null(r.ObjectID), null(r.Details), null(r.PrevHash), r.Hash, r.Source, r.SourceRef, UTCms(r.IngestedAt)}
}

func (r *Action) Values() []any {
	return []any{r.EventID, r.CaseID, null(r.CustomerID), null(r.Workflow), r.Step, r.Channel, UTCms(r.TS),
		r.Source, r.SourceRef, UTCms(r.IngestedAt)}
}

func (r *Reject) Values() []any {
	return []any{r.EventID, r.Source, r.SourceRef, r.Reason, r.Raw, UTCms(r.IngestedAt)}
}

// HashID derives a stable event_id for sources without one: the hex
// SHA-256 of the given canonical parts, separated by a zero byte so that
// ("ab","c") and ("a","bc") differ.
func HashID(parts ...string) string {
	h := sha256.New()
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{0})
		}
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// HashBytes is the hex SHA-256 of raw canonical bytes.
func HashBytes(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
