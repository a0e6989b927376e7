// Package metagraph pulls message templates and their daily analytics from
// Meta's WhatsApp Business Management API (the Graph API, bearer token).
//
// Templates: GET /{version}/{waba_id}/message_templates, following
// paging.cursors.after while the page has paging.next. Each template's
// status, category and quality score are compared with what
// collector_state remembers (key "tpl:<id>"), and every change is stored:
//   - a status change to APPROVED, REJECTED, PAUSED or DISABLED becomes a
//     template_events row (approved, rejected, paused, disabled; actor
//     "meta", or "meta:first_seen" the first time the collector sees the
//     template). Other statuses (PENDING, IN_APPEAL, PENDING_DELETION,
//     DELETED, LIMIT_EXCEEDED, ARCHIVED) are not approval states of
//     SPEC §2 and make no template_events row.
//   - every change of status, category or quality score (GREEN, YELLOW,
//     RED, UNKNOWN) becomes a template_changes row: template_id, name,
//     language, attribute, previous_value, value, ts. A quality change is
//     not an approval change, so it is kept out of template_events; when
//     Meta pauses a template for its quality, the status change to PAUSED
//     is a template_events row.
//
// The list carries no change time: ts is when the collector saw the change
// (the run's start). Meta's template webhooks carry exact times; a
// template's approval before the first pull is only known from them or
// from a canonical templates file.
//
// Analytics: GET /{version}/{waba_id}/template_analytics?start=&end=
// &granularity=DAILY&metric_types=…&template_ids=[…] (at most 10 ids a
// request) → template_metrics_daily(template_id, template_name, day, sent,
// delivered, read, clicked, cost, currency, collected_at), one row per
// template and UTC day, replaced when collected again (Meta revises recent
// days). clicked sums the button clicks; cost is the amount_spent value in
// the account's currency (Meta does not repeat it in the response: set
// `currency` in the configuration). Meta serves template analytics for the
// last 90 days only: a start further back is clamped to 90 days ago and the
// run says so. Each run re-reads from RefreshDays before the last day
// collected.
package metagraph

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	json "github.com/goccy/go-json"

	"github.com/closedloop/closedloop/ingest/pull"
	"github.com/closedloop/closedloop/models"
)

// Kind is the collector type and the source of its rows.
const Kind = "meta_graph"

// Defaults.
const (
	DefaultBaseURL    = "https://graph.facebook.com"
	DefaultAPIVersion = "v23.0"
	// LookbackDays is how far back Meta serves template analytics.
	LookbackDays = 90
	// DefaultBackfillDays is how far back the first run reads analytics.
	DefaultBackfillDays = 30
	// RefreshDays are re-read on every run (Meta revises recent days).
	RefreshDays = 3
	// maxIDsPerRequest is Meta's limit on template_ids per request.
	maxIDsPerRequest = 10
)

// Config configures one WhatsApp Business Account.
type Config struct {
	Name       string
	BaseURL    string
	APIVersion string
	WABAID     string
	Token      string
	// Analytics turns the template analytics pull on.
	Analytics bool
	// BackfillDays is how far back the first analytics run reads (capped
	// at LookbackDays).
	BackfillDays int
	// Currency is the account's currency (ISO 4217) stored with costs.
	Currency string
	HTTP     pull.ClientConfig
}

// Collector is a Meta WhatsApp Business Management API pull collector.
type Collector struct {
	cfg    Config
	client *pull.Client
}

// New checks cfg and builds the collector.
func New(cfg Config) (*Collector, error) {
	if cfg.WABAID == "" {
		return nil, fmt.Errorf("collector %s: waba_id is required", cfg.Name)
	}
	if cfg.Token == "" {
		return nil, fmt.Errorf("collector %s: no access token", cfg.Name)
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.APIVersion == "" {
		cfg.APIVersion = DefaultAPIVersion
	}
	if cfg.BackfillDays <= 0 {
		cfg.BackfillDays = DefaultBackfillDays
	}
	hc := cfg.HTTP
	hc.Collector = cfg.Name
	hc.BaseURL = cfg.BaseURL
	hc.Header = http.Header{"Authorization": {"Bearer " + cfg.Token}}
	hc.Retryable = throttled
	hc.Describe = describe
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

func (c *Collector) path(edge string) string {
	return "/" + url.PathEscape(c.cfg.APIVersion) + "/" + url.PathEscape(c.cfg.WABAID) + "/" + edge
}

// graphError is the Graph API's error body.
type graphError struct {
	Error *struct {
		Message     string `json:"message"`
		Type        string `json:"type"`
		Code        int    `json:"code"`
		Subcode     int    `json:"error_subcode"`
		IsTransient bool   `json:"is_transient"`
	} `json:"error"`
}

// throttled marks Meta's rate-limit and transient errors as retryable:
// they often arrive with status 400 (codes 4, 17, 32, 613: application,
// user and page limits; 80004, 80008: WhatsApp Business rate limits;
// 130429: throughput; 2: temporary).
func throttled(status int, body []byte) bool {
	var g graphError
	if json.Unmarshal(body, &g) != nil || g.Error == nil {
		return false
	}
	if g.Error.IsTransient {
		return true
	}
	switch g.Error.Code {
	case 1, 2, 4, 17, 32, 613, 80004, 80008, 130429:
		return true
	}
	return false
}

func describe(body []byte) string {
	var g graphError
	if json.Unmarshal(body, &g) != nil || g.Error == nil {
		return ""
	}
	s := fmt.Sprintf("%s (code %d", g.Error.Message, g.Error.Code)
	if g.Error.Subcode != 0 {
		s += fmt.Sprintf(", subcode %d", g.Error.Subcode)
	}
	return s + ")"
}

// Pull implements pull.Collector: templates first (analytics needs their
// ids and names), then analytics.
func (c *Collector) Pull(ctx context.Context, run *pull.Run) error {
	if err := c.templates(ctx, run); err != nil {
		return err
	}
	if c.cfg.Analytics {
		return c.analytics(ctx, run)
	}
	return nil
}

// template is an element of message_templates' data.
type template struct {
	ID       string       `json:"id"`
	Name     string       `json:"name"`
	Language string       `json:"language"`
	Status   string       `json:"status"`
	Category string       `json:"category"`
	Quality  qualityScore `json:"quality_score"`
}

// qualityScore is {"score": "GREEN", "date": …} (or a bare string).
type qualityScore string

func (q *qualityScore) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || b[0] == 'n':
		*q = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*q = qualityScore(s)
	default:
		var o struct {
			Score string `json:"score"`
		}
		if err := json.Unmarshal(b, &o); err != nil {
			return err
		}
		*q = qualityScore(o.Score)
	}
	return nil
}

type paging struct {
	Cursors struct {
		After string `json:"after"`
	} `json:"cursors"`
	Next string `json:"next"`
}

// tplState is what collector_state remembers per template ("tpl:<id>").
type tplState struct {
	Name     string `json:"name"`
	Language string `json:"language"`
	Status   string `json:"status"`
	Category string `json:"category"`
	Quality  string `json:"quality,omitempty"`
}

// canonicalStatus maps Meta's status onto template_events' vocabulary.
func canonicalStatus(s string) (string, bool) {
	switch strings.ToUpper(s) {
	case "APPROVED":
		return "approved", true
	case "REJECTED":
		return "rejected", true
	case "PAUSED":
		return "paused", true
	case "DISABLED":
		return "disabled", true
	}
	return "", false
}

func (c *Collector) templates(ctx context.Context, run *pull.Run) error {
	path := c.path("message_templates")
	// A template listed twice in one run (a listing that shifted while it
	// was paged) is taken at its first occurrence.
	listed := map[string]bool{}
	return pull.Paginate(ctx, "collector "+c.cfg.Name+": GET "+path, func(after string) (string, error) {
		q := url.Values{"fields": {"id,name,language,status,category,quality_score"}, "limit": {"100"}}
		if after != "" {
			q.Set("after", after)
		}
		var resp struct {
			Data   []json.RawMessage `json:"data"`
			Paging paging            `json:"paging"`
		}
		if err := c.client.GetJSON(ctx, path, q, &resp); err != nil {
			return "", err
		}
		var recs []models.Record
		state := map[string]string{}
		ref := fmt.Sprintf("%s:%s", c.cfg.Name, path)
		for _, raw := range resp.Data {
			var t template
			if err := json.Unmarshal(raw, &t); err != nil || t.ID == "" {
				reason := "template without id"
				if err != nil {
					reason = "unreadable template: " + err.Error()
				}
				recs = append(recs, reject(ref, reason, raw))
				continue
			}
			if listed[t.ID] {
				continue
			}
			listed[t.ID] = true
			key := "tpl:" + t.ID
			var prev tplState
			seen := false
			if v, ok := run.State[key]; ok {
				seen = json.Unmarshal([]byte(v), &prev) == nil
			}
			next := tplState{Name: t.Name, Language: t.Language, Status: strings.ToUpper(t.Status),
				Category: strings.ToUpper(t.Category), Quality: strings.ToUpper(string(t.Quality))}
			recs = append(recs, c.changes(run, ref+"#"+t.ID, t.ID, prev, next, seen)...)
			if !seen || prev != next {
				b, _ := json.Marshal(next)
				state[key] = string(b)
			}
		}
		// Each page is committed with its templates' state: a run killed
		// after it does not emit these changes again.
		if len(recs) > 0 || len(state) > 0 {
			if err := run.Commit(ctx, recs, state); err != nil {
				return "", err
			}
		}
		return resp.Paging.nextCursor(), nil
	})
}

// nextCursor follows Meta's rule: the last page has no paging.next. The
// cursor is followed on our own path rather than the next URL, which
// points at Meta's host with the token in its query.
func (p paging) nextCursor() string {
	if p.Next == "" {
		return ""
	}
	return p.Cursors.After
}

// changes compares a template with its remembered state.
func (c *Collector) changes(run *pull.Run, ref, id string, prev, next tplState, seen bool) []models.Record {
	ts := run.Env.Now
	var out []models.Record
	change := func(attr, from, to string) {
		if from == to || to == "" {
			return
		}
		ch := &TemplateChange{TemplateID: id, TemplateName: next.Name, Language: next.Language,
			Attribute: attr, Previous: from, Value: to, TS: ts}
		ch.SourceRef = ref
		ch.EventID = models.HashID(Kind, "template_change", id, attr, from, to, models.UTCms(ts).Format(time.RFC3339Nano))
		out = append(out, ch)
	}
	change("status", prev.Status, next.Status)
	change("category", prev.Category, next.Category)
	change("quality_score", prev.Quality, next.Quality)
	if status, ok := canonicalStatus(next.Status); ok && (!seen || prev.Status != next.Status) {
		actor := "meta"
		if !seen {
			actor = "meta:first_seen"
		}
		e := &models.TemplateEvent{TemplateName: next.Name, Status: status, TS: ts, Actor: actor}
		e.SourceRef = ref
		e.EventID = models.HashID(Kind, "template", id, status, models.UTCms(ts).Format(time.RFC3339Nano))
		out = append(out, e)
	}
	return out
}

// dataPoint is one template and day of template_analytics. The only
// published example (template group analytics) names the id
// template_group_id; both are read.
type dataPoint struct {
	TemplateID      string  `json:"template_id"`
	TemplateGroupID string  `json:"template_group_id"`
	Start           int64   `json:"start"`
	End             int64   `json:"end"`
	Sent            *int64  `json:"sent"`
	Delivered       *int64  `json:"delivered"`
	Read            *int64  `json:"read"`
	Clicked         []count `json:"clicked"`
	Cost            []cost  `json:"cost"`
}

type count struct {
	Type  string `json:"type"`
	Count int64  `json:"count"`
}

type cost struct {
	Type  string   `json:"type"`
	Value *float64 `json:"value"`
}

const keyAnalyticsThrough = "analytics.through"

func (c *Collector) analytics(ctx context.Context, run *pull.Run) error {
	ids := map[string]string{} // id → name
	for k, v := range run.State {
		if id, ok := strings.CutPrefix(k, "tpl:"); ok {
			var s tplState
			if json.Unmarshal([]byte(v), &s) == nil {
				ids[id] = s.Name
			}
		}
	}
	if len(ids) == 0 {
		run.Notef("template analytics: no templates known yet, nothing to read")
		return nil
	}
	now := run.Env.Now.UTC()
	today := now.Truncate(24 * time.Hour)
	earliest := today.AddDate(0, 0, -LookbackDays)
	start := today.AddDate(0, 0, -c.cfg.BackfillDays)
	if v := run.State[keyAnalyticsThrough]; v != "" {
		if d, err := time.Parse(time.DateOnly, v); err == nil {
			start = d.AddDate(0, 0, -RefreshDays)
		}
	}
	if start.Before(earliest) {
		run.Notef("template analytics: start %s clamped to %s — Meta serves template analytics for the last %d days only",
			start.Format(time.DateOnly), earliest.Format(time.DateOnly), LookbackDays)
		start = earliest
	}
	list := make([]string, 0, len(ids))
	for id := range ids {
		list = append(list, id)
	}
	sort.Strings(list)
	path := c.path("template_analytics")
	for i := 0; i < len(list); i += maxIDsPerRequest {
		batch := list[i:min(i+maxIDsPerRequest, len(list))]
		err := pull.Paginate(ctx, "collector "+c.cfg.Name+": GET "+path, func(after string) (string, error) {
			q := url.Values{
				"start":        {strconv.FormatInt(start.Unix(), 10)},
				"end":          {strconv.FormatInt(now.Unix(), 10)},
				"granularity":  {"DAILY"},
				"metric_types": {"SENT,DELIVERED,READ,CLICKED,COST"},
				"template_ids": {"[" + strings.Join(batch, ",") + "]"},
			}
			if after != "" {
				q.Set("after", after)
			}
			var resp struct {
				Data []struct {
					DataPoints []dataPoint `json:"data_points"`
				} `json:"data"`
				Paging paging `json:"paging"`
			}
			if err := c.client.GetJSON(ctx, path, q, &resp); err != nil {
				return "", err
			}
			var recs []models.Record
			for _, d := range resp.Data {
				for _, p := range d.DataPoints {
					if m := c.metric(p, ids, now); m != nil {
						recs = append(recs, m)
					}
				}
			}
			// Rows replace the day's row, so re-reading after a crash
			// changes nothing; the through-day is advanced at the end.
			if len(recs) > 0 {
				if err := run.Commit(ctx, recs, nil); err != nil {
					return "", err
				}
			}
			return resp.Paging.nextCursor(), nil
		})
		if err != nil {
			return err
		}
	}
	return run.Commit(ctx, nil, map[string]string{keyAnalyticsThrough: today.Format(time.DateOnly)})
}

func (c *Collector) metric(p dataPoint, names map[string]string, now time.Time) *TemplateMetric {
	id := p.TemplateID
	if id == "" {
		id = p.TemplateGroupID
	}
	if id == "" || p.Start == 0 {
		return nil
	}
	m := &TemplateMetric{TemplateID: id, TemplateName: names[id], Day: time.Unix(p.Start, 0).UTC().Truncate(24 * time.Hour),
		Sent: p.Sent, Delivered: p.Delivered, Read: p.Read, Currency: c.cfg.Currency, CollectedAt: now}
	if p.Clicked != nil {
		var n int64
		for _, cl := range p.Clicked {
			n += cl.Count
		}
		m.Clicked = &n
	}
	for _, co := range p.Cost {
		if co.Type == "amount_spent" && co.Value != nil {
			v := *co.Value
			m.Cost = &v
		}
	}
	return m
}

func reject(ref, reason string, raw []byte) *models.Reject {
	if len(raw) > 2048 {
		raw = raw[:2048]
	}
	r := &models.Reject{Reason: reason, Raw: string(bytes.ToValidUTF8(raw, []byte("\uFFFD")))}
	r.Source = Kind
	r.SourceRef = ref
	r.EventID = models.HashID(Kind, ref, reason, r.Raw)
	return r
}
