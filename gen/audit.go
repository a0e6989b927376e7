package gen

import (
	"bytes"
	"container/heap"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// The audit log is a hash chain. The rule, which `closedloop audit verify`
// and evidence bundles must apply identically:
//
//	hash = lowercase hex of SHA-256( prev_hash ‖ canonical )
//
// where prev_hash is the previous line's hash as its 64 ASCII hex characters
// (the empty string for the first line), ‖ is concatenation, and canonical is
// the JSON object of the line's other fields (audit_id, ts, actor,
// actor_role, action, object_type, object_id, details) serialised compactly:
// object keys sorted by byte value at every depth, no whitespace, strings
// escaped as Go's encoding/json does with HTML escaping off, numbers as
// written. Values are taken as they appear in the line (ts is the RFC 3339
// string, details the JSON object). The generator writes only ASCII
// strings and integers here, for which this equals RFC 8785 (JCS).
//
// CanonicalAuditJSON and AuditHash implement the rule for verifiers.

// CanonicalAuditJSON serialises one parsed audit line (as decoded by
// encoding/json with UseNumber) without prev_hash and hash, per the rule.
func CanonicalAuditJSON(line map[string]any) ([]byte, error) {
	m := make(map[string]any, len(line))
	for k, v := range line {
		if k != "prev_hash" && k != "hash" {
			m[k] = v
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("encoding audit event: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// AuditHash chains canonical bytes onto the previous hash.
func AuditHash(prevHash string, canonical []byte) string {
	h := sha256.New()
	h.Write([]byte(prevHash))
	h.Write(canonical)
	return hex.EncodeToString(h.Sum(nil))
}

// auditEvent is an audit entry waiting for its place in the chain.
type auditEvent struct {
	ts         int64
	seq        int
	actor      string
	role       string
	action     string
	objectType string
	objectID   string
	details    map[string]any
}

// auditQueue orders pending audit events by time (then creation order).
type auditQueue []*auditEvent

func (q auditQueue) Len() int { return len(q) }
func (q auditQueue) Less(i, j int) bool {
	if q[i].ts != q[j].ts {
		return q[i].ts < q[j].ts
	}
	return q[i].seq < q[j].seq
}
func (q auditQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *auditQueue) Push(x any)   { *q = append(*q, x.(*auditEvent)) }
func (q *auditQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// auditLog keeps the chain in time order although cases add entries out of
// order: entries wait in a heap until every case that could still add an
// earlier entry has been simulated (cases are processed in opening order and
// never log before they open). The heap holds only the entries of cases in
// flight, so it stays small.
type auditLog struct {
	out      *sink
	enc      *encoder
	pending  auditQueue
	seq      int
	written  int
	prevHash string
	lastTS   int64
	end      int64
}

func newAuditLog(out *sink, end int64) *auditLog {
	return &auditLog{out: out, enc: newEncoder(), end: end}
}

// add queues an entry; entries at or after the end of the period are dropped.
func (l *auditLog) add(ts int64, actor, role, action, objectType, objectID string, details map[string]any) {
	if ts >= l.end {
		return
	}
	l.seq++
	heap.Push(&l.pending, &auditEvent{ts: ts, seq: l.seq, actor: actor, role: role, action: action,
		objectType: objectType, objectID: objectID, details: details})
}

// flushBefore writes every queued entry older than ts.
func (l *auditLog) flushBefore(ts int64) {
	for len(l.pending) > 0 && l.pending[0].ts < ts {
		l.write(heap.Pop(&l.pending).(*auditEvent))
	}
}

// flushAll writes everything left.
func (l *auditLog) flushAll() {
	for len(l.pending) > 0 {
		l.write(heap.Pop(&l.pending).(*auditEvent))
	}
}

func (l *auditLog) write(e *auditEvent) {
	// Safety net: an entry that arrives after later ones were chained is
	// stamped when it was logged, so ts never goes backwards in the chain.
	if e.ts < l.lastTS {
		e.ts = l.lastTS
	}
	l.lastTS = e.ts
	l.written++
	if e.details == nil {
		e.details = map[string]any{}
	}
	row := auditRow{AuditID: fmt.Sprintf("AUD-%08d", l.written), TS: rfc3339ms(e.ts), Actor: e.actor,
		ActorRole: e.role, Action: e.action, ObjectType: e.objectType, ObjectID: e.objectID,
		Details: e.details, PrevHash: l.prevHash}
	canonical := l.enc.line(auditCanonical{Action: row.Action, Actor: row.Actor, ActorRole: row.ActorRole,
		AuditID: row.AuditID, Details: row.Details, ObjectID: row.ObjectID, ObjectType: row.ObjectType, TS: row.TS})
	row.Hash = AuditHash(l.prevHash, canonical)
	l.prevHash = row.Hash
	l.out.write(l.enc.line(row))
}

// auditCanonical lists the hashed fields in sorted key order, so that
// encoding it yields the canonical form directly (details is a map, which
// encoding/json sorts).
type auditCanonical struct {
	Action     string         `json:"action"`
	Actor      string         `json:"actor"`
	ActorRole  string         `json:"actor_role"`
	AuditID    string         `json:"audit_id"`
	Details    map[string]any `json:"details"`
	ObjectID   string         `json:"object_id"`
	ObjectType string         `json:"object_type"`
	TS         string         `json:"ts"`
}
