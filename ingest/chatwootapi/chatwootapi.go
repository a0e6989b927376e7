// Package chatwootapi pulls conversations and messages from Chatwoot's
// REST API and maps them with the webhook collector's exported mapping
// (package chatwoot): one mapping, two transports. The same conversation
// step or message gets the same event_id from either transport, so running
// both never double-counts.
//
// Requests (header api_access_token):
//
//	GET /api/v1/accounts/{account}/conversations?status=all&assignee_type=all&page=N[&inbox_id=I]
//	    → {"data": {"meta": {…}, "payload": [conversation…]}}, newest activity first
//	GET /api/v1/accounts/{account}/conversations/{id}/messages[?before=ID]
//	    → {"meta": {…}, "payload": [message…]} (oldest first; a bare array is accepted too)
//
// What a run does, per inbox (or for the whole account):
//   - It lists conversations page by page until a page holds nothing
//     changed since the cursor (the newest change seen by the last complete
//     pass, minus an overlap) or is empty.
//   - A conversation is changed when max(updated_at, timestamp) differs
//     from what collector_state remembers for it. Then:
//     first sight → opened (MapOpened), plus resolved when it is already
//     resolved; afterwards a status different from the remembered one →
//     MapStatusChange(remembered, current) (handover, resolved, reopened;
//     other transitions are recorded in the state but make no event).
//     Its messages newer than the remembered newest id are fetched
//     (newest page first, then `before=<oldest id>` until a remembered
//     id or an empty page) and mapped with MapMessage (private notes and
//     activity messages are skipped, as from webhooks).
//   - The conversation's events and messages are committed with its new
//     state in one transaction; the cursor is advanced only after a
//     complete pass. A run killed half-way resumes by listing again: the
//     conversations it committed are unchanged against their state and
//     are skipped, the others are taken.
//
// What a poller cannot see: a status that changed and changed back between
// two runs, or transitions before the first run (a conversation first seen
// open is opened, not handed over). Chatwoot's webhooks see those; run both.
package chatwootapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	json "github.com/goccy/go-json"

	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/ingest/chatwoot"
	"github.com/closedloop/closedloop/ingest/pull"
	"github.com/closedloop/closedloop/models"
)

// Kind is the collector type and the source of its rows.
const Kind = "chatwoot_api"

// DefaultOverlap is how far before the cursor a pass still looks.
const DefaultOverlap = 10 * time.Minute

// Config configures one Chatwoot account.
type Config struct {
	Name      string
	BaseURL   string // e.g. https://app.chatwoot.com
	AccountID string
	// InboxIDs limits the pull to these inboxes (each has its own cursor);
	// empty: every inbox of the account.
	InboxIDs []string
	// Token is the user or agent-bot access token (api_access_token).
	Token   string
	Overlap time.Duration
	// HTTP tunes the shared client (timeouts, retries, rate limit).
	HTTP pull.ClientConfig
}

// Collector is a Chatwoot REST API pull collector.
type Collector struct {
	cfg    Config
	client *pull.Client
}

// New checks cfg and builds the collector.
func New(cfg Config) (*Collector, error) {
	if cfg.AccountID == "" {
		return nil, fmt.Errorf("collector %s: account_id is required", cfg.Name)
	}
	if cfg.Token == "" {
		return nil, fmt.Errorf("collector %s: no API access token", cfg.Name)
	}
	if cfg.Overlap <= 0 {
		cfg.Overlap = DefaultOverlap
	}
	hc := cfg.HTTP
	hc.Collector = cfg.Name
	hc.BaseURL = cfg.BaseURL
	hc.Header = http.Header{"Api_access_token": {cfg.Token}}
	c, err := pull.NewClient(hc)
	if err != nil {
		return nil, err
	}
	return &Collector{cfg: cfg, client: c}, nil
}

// Name implements pull.Collector.
func (c *Collector) Name() string { return c.cfg.Name }

// Kind implements pull.Collector.
func (c *Collector) Kind() string { return Kind }

func (c *Collector) accountPath() string {
	return "/api/v1/accounts/" + url.PathEscape(c.cfg.AccountID)
}

// convState is what collector_state remembers per conversation
// (key "conv:<id>").
type convState struct {
	Status  chatwoot.Status `json:"status"`
	Changed string          `json:"changed"` // max(updated_at, timestamp), RFC 3339
	LastMsg int64           `json:"last_msg"`
}

// Pull implements pull.Collector.
func (c *Collector) Pull(ctx context.Context, run *pull.Run) error {
	scopes := c.cfg.InboxIDs
	if len(scopes) == 0 {
		scopes = []string{""}
	}
	for _, inbox := range scopes {
		if err := c.pullScope(ctx, run, inbox); err != nil {
			return err
		}
	}
	return nil
}

func cursorKey(inbox string) string {
	if inbox == "" {
		return "cursor"
	}
	return "cursor:inbox:" + inbox
}

// listResponse accepts {"data": {"meta", "payload"}} and, for older
// versions, {"meta", "payload"} at the top.
type listResponse struct {
	Data *struct {
		Payload []json.RawMessage `json:"payload"`
	} `json:"data"`
	Payload []json.RawMessage `json:"payload"`
}

func (c *Collector) pullScope(ctx context.Context, run *pull.Run, inbox string) error {
	var cursor time.Time
	if v := run.State[cursorKey(inbox)]; v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return fmt.Errorf("collector %s: state %s = %q is not a time", c.cfg.Name, cursorKey(inbox), v)
		}
		cursor = t
	}
	since := cursor.Add(-c.cfg.Overlap)
	newest := cursor
	path := c.accountPath() + "/conversations"
	for page := 1; ; page++ {
		q := url.Values{"status": {"all"}, "assignee_type": {"all"}, "page": {strconv.Itoa(page)}}
		if inbox != "" {
			q.Set("inbox_id", inbox)
		}
		var resp listResponse
		if err := c.client.GetJSON(ctx, path, q, &resp); err != nil {
			return err
		}
		items := resp.Payload
		if resp.Data != nil {
			items = resp.Data.Payload
		}
		if len(items) == 0 {
			break
		}
		anyRecent := false
		for _, raw := range items {
			changed, err := c.conversation(ctx, run, raw, since, cursor.IsZero())
			if err != nil {
				return err
			}
			if changed.After(newest) {
				newest = changed
			}
			if cursor.IsZero() || changed.After(since) {
				anyRecent = true
			}
		}
		if !anyRecent {
			break // newest activity first: the rest is older still
		}
	}
	if newest.After(cursor) {
		return run.Commit(ctx, nil, map[string]string{cursorKey(inbox): newest.UTC().Format(time.RFC3339Nano)})
	}
	return nil
}

// changedAt is when the conversation last changed: the later of
// updated_at (status and attribute changes) and timestamp (last activity).
func changedAt(cv *chatwoot.Conversation) time.Time {
	var out time.Time
	for _, t := range []chatwoot.Time{cv.UpdatedAt, cv.Timestamp} {
		if t.IsZero() {
			continue
		}
		if p, err := t.Parse(); err == nil && p.After(out) {
			out = p
		}
	}
	return out
}

// conversation handles one element of the list and returns its change time.
func (c *Collector) conversation(ctx context.Context, run *pull.Run, raw json.RawMessage, since time.Time, firstPass bool) (time.Time, error) {
	var cv chatwoot.Conversation
	ref := fmt.Sprintf("%s:%s/conversations", c.cfg.Name, c.accountPath())
	if err := json.Unmarshal(raw, &cv); err != nil || cv.ID == "" {
		reason := "conversation without id"
		if err != nil {
			reason = "unreadable conversation: " + err.Error()
		}
		// An unreadable element is rejected (and counted) but does not
		// stop the pull; its rejects row dedups on the same bytes.
		return time.Time{}, run.Commit(ctx, []models.Record{reject(ref, reason, raw)}, nil)
	}
	changed := changedAt(&cv)
	if !firstPass && !changed.IsZero() && !changed.After(since) {
		return changed, nil
	}
	key := "conv:" + string(cv.ID)
	var prev convState
	seen := false
	if v, ok := run.State[key]; ok {
		if err := json.Unmarshal([]byte(v), &prev); err == nil {
			seen = true
		}
	}
	changedText := changed.UTC().Format(time.RFC3339Nano)
	if seen && prev.Changed == changedText && prev.Status == cv.Status {
		return changed, nil // committed by an earlier (perhaps interrupted) run
	}
	ref = fmt.Sprintf("%s:%s/conversations/%s", c.cfg.Name, c.accountPath(), cv.ID)
	var recs []models.Record
	add := func(r models.Record, err error) {
		switch {
		case err == nil:
			r.Base().SourceRef = ref
			recs = append(recs, r)
		case errors.Is(err, ingest.ErrSkip):
		default:
			recs = append(recs, reject(ref, "chatwoot_api conversation: "+err.Error(), raw))
		}
	}
	switch {
	case !seen:
		r, err := chatwoot.MapOpened(run.Env, &cv)
		add(r, err)
		if cv.Status == chatwoot.Resolved {
			r, err := chatwoot.MapStatusChange(run.Env, &cv, "", chatwoot.Resolved)
			add(r, err)
		}
	case prev.Status != cv.Status && cv.Status != "":
		r, err := chatwoot.MapStatusChange(run.Env, &cv, prev.Status, cv.Status)
		add(r, err)
	}
	msgs, last, err := c.messages(ctx, run, &cv, prev.LastMsg)
	if err != nil {
		return changed, err
	}
	recs = append(recs, msgs...)
	next := convState{Status: cv.Status, Changed: changedText, LastMsg: last}
	b, _ := json.Marshal(next)
	return changed, run.Commit(ctx, recs, map[string]string{key: string(b)})
}

// messagesResponse accepts {"meta", "payload": [...]} or a bare array.
type messagesResponse struct {
	Payload []json.RawMessage
}

func (m *messagesResponse) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		return json.Unmarshal(b, &m.Payload)
	}
	var o struct {
		Payload []json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return err
	}
	m.Payload = o.Payload
	return nil
}

type msgItem struct {
	id  int64
	msg chatwoot.Message
	raw json.RawMessage
}

// messages fetches the conversation's messages newer than after, oldest
// first, and maps them. It returns the records and the newest id seen.
func (c *Collector) messages(ctx context.Context, run *pull.Run, cv *chatwoot.Conversation, after int64) ([]models.Record, int64, error) {
	path := fmt.Sprintf("%s/conversations/%s/messages", c.accountPath(), url.PathEscape(string(cv.ID)))
	ref := c.cfg.Name + ":" + path
	var items []msgItem
	var recs []models.Record
	before := int64(0)
	for {
		q := url.Values{}
		if before > 0 {
			q.Set("before", strconv.FormatInt(before, 10))
		}
		var resp messagesResponse
		if err := c.client.GetJSON(ctx, path, q, &resp); err != nil {
			return nil, after, err
		}
		if len(resp.Payload) == 0 {
			break
		}
		oldest := int64(0)
		for _, raw := range resp.Payload {
			var m chatwoot.Message
			if err := json.Unmarshal(raw, &m); err != nil {
				recs = append(recs, reject(ref, "unreadable message: "+err.Error(), raw))
				continue
			}
			id, err := strconv.ParseInt(string(m.ID), 10, 64)
			if err != nil {
				recs = append(recs, reject(ref, fmt.Sprintf("message id %q is not a number", m.ID), raw))
				continue
			}
			if oldest == 0 || id < oldest {
				oldest = id
			}
			if id > after {
				items = append(items, msgItem{id: id, msg: m, raw: raw})
			}
		}
		if oldest == 0 || oldest <= after {
			break
		}
		if before > 0 && oldest >= before {
			return nil, after, fmt.Errorf("collector %s: GET %s?before=%d returned messages not older than %d; stopping rather than looping", c.cfg.Name, path, before, before)
		}
		before = oldest
	}
	sort.Slice(items, func(i, j int) bool { return items[i].id < items[j].id })
	last := after
	seen := map[int64]bool{}
	for _, it := range items {
		if seen[it.id] {
			continue
		}
		seen[it.id] = true
		if it.id > last {
			last = it.id
		}
		r, err := chatwoot.MapMessage(run.Env, cv, &it.msg)
		switch {
		case err == nil:
			r.SourceRef = fmt.Sprintf("%s#%d", ref, it.id)
			recs = append(recs, r)
		case errors.Is(err, ingest.ErrSkip):
		default:
			recs = append(recs, reject(fmt.Sprintf("%s#%d", ref, it.id), "chatwoot_api message: "+err.Error(), it.raw))
		}
	}
	return recs, last, nil
}

// reject builds a rejects row; its event_id hashes what the pipeline's
// rejects hash, so the same bad input is stored once.
func reject(ref, reason string, raw []byte) *models.Reject {
	if len(raw) > ingest.MaxRawBytes {
		raw = raw[:ingest.MaxRawBytes]
	}
	r := &models.Reject{Reason: reason, Raw: string(bytes.ToValidUTF8(raw, []byte("\uFFFD")))}
	r.Source = Kind
	r.SourceRef = ref
	r.EventID = models.HashID(Kind, ref, reason, r.Raw)
	return r
}
