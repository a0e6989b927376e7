package audit

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/closedloop/closedloop/models"
	"github.com/closedloop/closedloop/store"
)

// OwnSource is the source of the links closedloop writes for its own actions.
const OwnSource = "closedloop"

// appendMu serialises appends within the process; DuckDB's file lock keeps
// other processes out.
var appendMu sync.Mutex

// now is the clock of Append (tests replace it).
var now = time.Now

// Append records one of closedloop's own actions in audit_events, chained
// after the last link closedloop wrote. See AppendLink.
func Append(ctx context.Context, st store.Store, actor, role, action, objectType, objectID string, details any) error {
	_, err := AppendLink(ctx, st, actor, role, action, objectType, objectID, details)
	return err
}

// AppendLink records one of closedloop's own actions and returns the new
// link. details is any JSON-encodable value (json.RawMessage is taken as
// JSON text; nil becomes {}); it is stored in canonical form.
//
// closedloop keeps its own chain (source "closedloop") beside the chains it
// imports: an imported log belongs to the system that wrote it, which keeps
// appending to it, so chaining onto its tail would fork it at that system's
// next export. The new link follows the latest closedloop link in the walk
// order (ts, audit_id, event_id); its ts is the current time in UTC
// milliseconds, moved to 1 ms after that link when the clock has not
// advanced, so the chain's links are strictly ordered by ts.
func AppendLink(ctx context.Context, st store.Store, actor, role, action, objectType, objectID string, details any) (Link, error) {
	if action == "" {
		return Link{}, fmt.Errorf("audit: empty action")
	}
	dj, err := detailsJSON(details)
	if err != nil {
		return Link{}, fmt.Errorf("audit %s: %w", action, err)
	}
	appendMu.Lock()
	defer appendMu.Unlock()

	var prev sql.NullString
	var prevTS sql.NullTime
	err = st.DB().QueryRowContext(ctx, `SELECT hash, ts FROM audit_events WHERE source = ?
		ORDER BY ts DESC, audit_id DESC, event_id DESC LIMIT 1`, OwnSource).Scan(&prev, &prevTS)
	if err != nil && err != sql.ErrNoRows {
		return Link{}, fmt.Errorf("audit %s: reading the last link: %w", action, err)
	}
	ts := models.UTCms(now())
	if prevTS.Valid && !ts.After(prevTS.Time) {
		ts = models.UTCms(prevTS.Time).Add(time.Millisecond)
	}
	var rnd [4]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return Link{}, err
	}
	l := Link{
		AuditID:    "CL-" + ts.Format("20060102T150405.000Z") + "-" + hex.EncodeToString(rnd[:]),
		TS:         ts,
		Actor:      strings.TrimSpace(actor),
		ActorRole:  strings.TrimSpace(role),
		Action:     action,
		ObjectType: objectType,
		ObjectID:   objectID,
		Details:    dj,
		PrevHash:   prev.String,
		Source:     OwnSource,
	}
	if l.Hash, err = l.ComputeHash(); err != nil {
		return Link{}, err
	}
	l.EventID = l.Hash
	rec := &models.AuditEvent{AuditID: l.AuditID, TS: l.TS, Actor: l.Actor, ActorRole: l.ActorRole, Action: l.Action,
		ObjectType: l.ObjectType, ObjectID: l.ObjectID, Details: l.Details, PrevHash: l.PrevHash, Hash: l.Hash}
	rec.EventID = l.EventID
	rec.Source = OwnSource
	rec.SourceRef = "closedloop " + action
	rec.IngestedAt = ts
	added, err := st.Load(ctx, []models.Record{rec})
	if err != nil {
		return Link{}, fmt.Errorf("audit %s: %w", action, err)
	}
	if added[models.TableAuditEvents] != 1 {
		return Link{}, fmt.Errorf("audit %s: the link was not stored", action)
	}
	return l, nil
}

func detailsJSON(details any) (string, error) {
	var raw []byte
	switch d := details.(type) {
	case nil:
		return "{}", nil
	case json.RawMessage:
		raw = d
	default:
		b, err := json.Marshal(details)
		if err != nil {
			return "", fmt.Errorf("details: %w", err)
		}
		raw = b
	}
	c, err := CanonicalizeJSONText(raw)
	if err != nil {
		return "", fmt.Errorf("details: %w", err)
	}
	return string(c), nil
}

const linkColumns = `event_id, audit_id, ts, actor, actor_role, action, object_type, object_id, details, prev_hash, hash, source`

// LoadLinks reads audit_events rows (all when where is "") in walk order.
func LoadLinks(ctx context.Context, st store.Store, where string) ([]Link, error) {
	q := `SELECT ` + linkColumns + ` FROM audit_events`
	if where != "" {
		q += ` WHERE ` + where
	}
	q += ` ORDER BY ts, audit_id, event_id`
	rows, err := st.DB().QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("reading audit_events: %w", err)
	}
	defer rows.Close()
	var out []Link
	for rows.Next() {
		var l Link
		var actor, role, ot, oid, det, prev sql.NullString
		if err := rows.Scan(&l.EventID, &l.AuditID, &l.TS, &actor, &role, &l.Action, &ot, &oid, &det, &prev, &l.Hash, &l.Source); err != nil {
			return nil, fmt.Errorf("reading audit_events: %w", err)
		}
		l.TS = models.UTCms(l.TS)
		l.Actor, l.ActorRole, l.ObjectType, l.ObjectID, l.Details, l.PrevHash = actor.String, role.String, ot.String, oid.String, det.String, prev.String
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading audit_events: %w", err)
	}
	SortLinks(out) // byte order, whatever the engine's collation
	return out, nil
}

// VerifyStore walks the whole audit log of the store (README.md, "The
// audit chain"): every link's hash recomputed, every prev_hash the hash of
// an earlier link, no forks.
func VerifyStore(ctx context.Context, st store.Store) (ChainReport, error) {
	links, err := LoadLinks(ctx, st, "")
	if err != nil {
		return ChainReport{}, err
	}
	return WalkChain(links, false), nil
}
