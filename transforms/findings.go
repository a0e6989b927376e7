package transforms

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/closedloop/closedloop/config"
	"github.com/closedloop/closedloop/store"
)

// Governance findings (SPEC §3 "Governance findings"): each is a list of
// the messages or cases behind it with a count per week. They read the
// facts of the cutoff (call Ensure first) and the raw tables, and are
// computed on DuckDB (the store the governance pack reads).

// Finding names.
const (
	FindingPersonalNumber        = "personal_number"
	FindingUntrackedConversation = "untracked_conversation"
	FindingHandoverNoReason      = "handover_without_reason"
	FindingPickupOverTarget      = "pickup_over_target"
	FindingTemplateHygiene       = "template_hygiene"
	FindingUnreadableDocument    = "unreadable_document"
)

// GovernanceOptions configure the findings.
type GovernanceOptions struct {
	// RegisteredNumbers is config registered_numbers; empty: no register,
	// and no personal-number finding.
	RegisteredNumbers []string
	// PickupTarget is a queue's pickup target (nil: the default 30m).
	PickupTarget func(queue string) time.Duration
	// Calendars measure pickup time in business time (nil: 24×7).
	Calendars Calendars
}

// GovernanceRequest is the window of weeks the findings are counted in.
type GovernanceRequest struct {
	// Weeks are the start of each week, oldest first; the last is the
	// reported week, which ends at To.
	Weeks  []time.Time
	To     time.Time
	Cutoff time.Time
	Loc    *time.Location
}

// FindingItem is one message or case behind a finding.
type FindingItem struct {
	TS     time.Time `json:"ts"`
	CaseID string    `json:"case_id,omitempty"`
	// Unit is a message id, or case@time for events of a case.
	Unit   string `json:"unit"`
	Key    string `json:"key"`
	Detail string `json:"detail,omitempty"`
}

// WeekCount is a finding's count in one week.
type WeekCount struct {
	Week  string `json:"week"`
	Count int64  `json:"count"`
}

// GovFinding is one finding: its weekly counts and, for the reported
// week, the items behind it.
type GovFinding struct {
	Finding string `json:"finding"`
	Label   string `json:"label"`
	Explain string `json:"explain"`
	// Configured is false when the finding needs configuration that is
	// missing (personal numbers without a register).
	Configured bool          `json:"configured"`
	Count      int64         `json:"count"`
	Weekly     []WeekCount   `json:"weekly"`
	Items      []FindingItem `json:"items"`
}

// Pickup is handover pickup time in the reported week: handover → first
// agent message in the case, in the queue's business time.
type Pickup struct {
	Queue      string   `json:"queue"`
	Target     float64  `json:"target_seconds"`
	Handovers  int64    `json:"handovers"`
	PickedUp   int64    `json:"picked_up"`
	P50        *float64 `json:"p50_seconds"`
	P90        *float64 `json:"p90_seconds"`
	OverTarget int64    `json:"over_target"`
	// Waiting counts handovers not picked up by the cutoff and still
	// within target (neither met nor missed yet).
	Waiting int64 `json:"waiting"`
}

// TemplateScore is one template's hygiene in the reported week.
type TemplateScore struct {
	Template    string   `json:"template"`
	State       string   `json:"approval_state"`
	Quality     string   `json:"quality_score,omitempty"`
	Sends       int64    `json:"sends"`
	Unapproved  int64    `json:"sends_without_approval"`
	Delivered   int64    `json:"delivered"`
	Failed      int64    `json:"failed"`
	Success     *float64 `json:"delivery_success"`
	TopFailures string   `json:"failure_codes,omitempty"`
	OptOuts     int64    `json:"opt_outs_within_24h"`
}

// AttachmentRow is media received per workflow in the reported week.
type AttachmentRow struct {
	Workflow         string   `json:"workflow"`
	Media            int64    `json:"media_messages"`
	CasesWithMedia   int64    `json:"cases_with_media"`
	DocumentCases    int64    `json:"document_cases"`
	Unreadable       int64    `json:"unreadable_document_handovers"`
	UnreadableRate   *float64 `json:"unreadable_document_rate"`
	CaselessMediaMsg int64    `json:"-"`
}

// ChangeItem is a change of a KPI definition or of configuration.
type ChangeItem struct {
	Week    string    `json:"week"`
	TS      time.Time `json:"ts"`
	Actor   string    `json:"actor"`
	Action  string    `json:"action"`
	Object  string    `json:"object"`
	Details string    `json:"details"`
}

// DefinitionVersion is one recorded version of a KPI definition.
type DefinitionVersion struct {
	KPI       string    `json:"kpi"`
	Version   int       `json:"version"`
	SHA256    string    `json:"sql_sha256"`
	FirstSeen time.Time `json:"-"` // when this store first recorded it (not stable across stores)
}

// RiskEntry is one row of the risk log.
type RiskEntry struct {
	Finding     string `json:"finding"`
	Key         string `json:"key"`
	FirstSeen   string `json:"first_seen_week"`
	LastSeen    string `json:"last_seen_week"`
	WeeksOpen   int    `json:"weeks_open"`
	Occurrences int64  `json:"occurrences"`
	Status      string `json:"status"`
}

// Governance is every finding of a window of weeks.
type Governance struct {
	Weeks       []string        `json:"weeks"`
	Findings    []GovFinding    `json:"findings"`
	Pickup      []Pickup        `json:"pickup"`
	Templates   []TemplateScore `json:"templates"`
	Attachments []AttachmentRow `json:"attachments"`
	// Changes are the KPI definition and configuration changes of the
	// whole window (the change-control record), oldest first.
	Changes     []ChangeItem        `json:"changes"`
	Definitions []DefinitionVersion `json:"definitions"`
	RiskLog     []RiskEntry         `json:"risk_log"`
}

// RiskCloseAfter is how many consecutive weeks without an occurrence close
// a risk-log entry ("stopped recurring"); one clean week keeps it open.
const RiskCloseAfter = 2

var findingText = map[string][2]string{
	FindingPersonalNumber:        {"Messages through unregistered numbers", "Messages sent or received through a business number that is not in the register (registered_numbers): a personal phone or an unapproved sender."},
	FindingUntrackedConversation: {"Untracked conversations", "Customer messages that belong to no case after linking: nobody opened a ticket for them."},
	FindingHandoverNoReason:      {"Handovers without a reason", "Handovers to a person that did not say why, so exceptions cannot be analysed."},
	FindingPickupOverTarget:      {"Handovers picked up late", "Handovers whose first agent message came after the queue's pickup target (business time), or had not come by the as-of and the target had passed."},
	FindingTemplateHygiene:       {"Template hygiene issues", "Template sends while the template had no approval in force, and sends followed by the customer opting out within 24 hours."},
	FindingUnreadableDocument:    {"Unreadable documents", "Cases handed to a person because a document the customer sent could not be read."},
}

// weekOf labels the ISO week of t.
func weekOf(t time.Time, loc *time.Location) string {
	y, w := t.In(loc).ISOWeek()
	return fmt.Sprintf("%04d-W%02d", y, w)
}

// ComputeGovernance computes the findings over req's weeks and rebuilds
// the risk_log table from their weekly counts. Call Ensure first.
func ComputeGovernance(ctx context.Context, st store.Store, req GovernanceRequest, opt GovernanceOptions) (*Governance, error) {
	if st.Dialect() != "duckdb" {
		return nil, fmt.Errorf("governance findings read a DuckDB store; %s is not supported yet", st.Dialect())
	}
	if len(req.Weeks) == 0 {
		return nil, fmt.Errorf("governance findings need at least one week")
	}
	if req.Loc == nil {
		req.Loc = time.UTC
	}
	if opt.Calendars == nil {
		opt.Calendars = AlwaysOpen{Target: config.DefaultSLATarget}
	}
	if opt.PickupTarget == nil {
		opt.PickupTarget = func(string) time.Duration { return config.DefaultPickupTarget }
	}
	g := &Governance{}
	for _, w := range req.Weeks {
		g.Weeks = append(g.Weeks, weekOf(w, req.Loc))
	}
	q := &govQuerier{st: st, ctx: ctx, from: req.Weeks[0].UTC(), to: req.To.UTC(), cutoff: req.Cutoff.UTC(),
		weekFrom: req.Weeks[len(req.Weeks)-1].UTC()}

	units := map[string][]FindingItem{}
	var err error
	if len(opt.RegisteredNumbers) > 0 {
		if units[FindingPersonalNumber], err = q.personalNumbers(opt.RegisteredNumbers); err != nil {
			return nil, err
		}
	}
	if units[FindingUntrackedConversation], err = q.untracked(); err != nil {
		return nil, err
	}
	if units[FindingHandoverNoReason], err = q.reasonless(); err != nil {
		return nil, err
	}
	handovers, err := q.handovers()
	if err != nil {
		return nil, err
	}
	var late []FindingItem
	g.Pickup, late = pickups(handovers, q.cutoff, q.weekFrom, opt)
	units[FindingPickupOverTarget] = late
	if units[FindingTemplateHygiene], err = q.templateIssues(); err != nil {
		return nil, err
	}
	if units[FindingUnreadableDocument], err = q.unreadable(); err != nil {
		return nil, err
	}
	for _, name := range []string{FindingPersonalNumber, FindingUntrackedConversation, FindingHandoverNoReason,
		FindingPickupOverTarget, FindingTemplateHygiene, FindingUnreadableDocument} {
		f := GovFinding{Finding: name, Label: findingText[name][0], Explain: findingText[name][1],
			Configured: name != FindingPersonalNumber || len(opt.RegisteredNumbers) > 0, Items: []FindingItem{}}
		counts := make([]int64, len(req.Weeks))
		for _, it := range units[name] {
			if i := weekIndex(req.Weeks, req.To, it.TS); i >= 0 {
				counts[i]++
				if i == len(req.Weeks)-1 {
					f.Items = append(f.Items, it)
				}
			}
		}
		for i, c := range counts {
			f.Weekly = append(f.Weekly, WeekCount{Week: g.Weeks[i], Count: c})
		}
		f.Count = counts[len(counts)-1]
		g.Findings = append(g.Findings, f)
	}
	if g.Templates, err = q.templateScores(); err != nil {
		return nil, err
	}
	if g.Attachments, err = q.attachments(); err != nil {
		return nil, err
	}
	if g.Changes, err = q.changes(req.Loc); err != nil {
		return nil, err
	}
	if g.Definitions, err = q.definitions(); err != nil {
		return nil, err
	}
	g.RiskLog = riskLog(g.Findings, units, req)
	if err := writeRiskLog(ctx, st.DB(), g.RiskLog); err != nil && !readOnly(err) {
		return nil, err
	}
	return g, nil
}

// weekIndex places t in one of the weeks (-1 when outside).
func weekIndex(weeks []time.Time, to, t time.Time) int {
	for i := len(weeks) - 1; i >= 0; i-- {
		end := to
		if i+1 < len(weeks) {
			end = weeks[i+1]
		}
		if !t.Before(weeks[i]) && t.Before(end) {
			return i
		}
	}
	return -1
}

type govQuerier struct {
	st                         store.Store
	ctx                        context.Context
	from, to, cutoff, weekFrom time.Time
}

// items runs a query returning (ts, case_id, unit, key, detail) rows.
func (q *govQuerier) items(what, query string, args ...any) ([]FindingItem, error) {
	var out []FindingItem
	err := eachRow(q.ctx, q.st.DB(), what, query, args, func(rs *sql.Rows) error {
		var it FindingItem
		var ts dbTime
		if err := rs.Scan(&ts, &it.CaseID, &it.Unit, &it.Key, &it.Detail); err != nil {
			return err
		}
		it.TS = ts.Time.UTC()
		out = append(out, it)
		return nil
	})
	return out, err
}

func sqlList(vals []string) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
	}
	return strings.Join(parts, ", ")
}

func (q *govQuerier) personalNumbers(register []string) ([]FindingItem, error) {
	return q.items("messages through unregistered numbers", `SELECT ts, coalesce(case_id, ''), message_id, business_number,
			direction || ' ' || channel || ' ' || sender_type
		FROM fact_messages
		WHERE business_number IS NOT NULL AND business_number NOT IN (`+sqlList(register)+`)
		  AND ts >= $1 AND ts < $2 AND ts <= $3
		ORDER BY ts, message_id`, q.from, q.to, q.cutoff)
}

func (q *govQuerier) untracked() ([]FindingItem, error) {
	return q.items("untracked conversations", `SELECT ts, '', message_id, coalesce(business_number, channel), channel || ' ' || kind
		FROM fact_messages
		WHERE direction = 'inbound' AND case_id IS NULL AND ts >= $1 AND ts < $2 AND ts <= $3
		ORDER BY ts, message_id`, q.from, q.to, q.cutoff)
}

func (q *govQuerier) reasonless() ([]FindingItem, error) {
	return q.items("handovers without a reason", `SELECT h.ts, h.case_id, h.case_id || '@' || strftime(h.ts, '%Y-%m-%dT%H:%M:%S.%gZ'),
			coalesce(c.queue, h.queue, '(no queue)'), coalesce(h.actor, '')
		FROM case_events h LEFT JOIN fact_cases c ON c.case_id = h.case_id
		WHERE h.event = 'handover' AND (h.reason IS NULL OR trim(h.reason) = '')
		  AND h.ts >= $1 AND h.ts < $2 AND h.ts <= $3
		ORDER BY h.ts, h.case_id`, q.from, q.to, q.cutoff)
}

// handover is one handover and the first agent message after it.
type handover struct {
	caseID, queue string
	ts            time.Time
	picked        *time.Time
}

func (q *govQuerier) handovers() ([]handover, error) {
	var out []handover
	err := eachRow(q.ctx, q.st.DB(), "handover pickups", `SELECT h.case_id, coalesce(c.queue, h.queue, ''), h.ts,
			(SELECT min(m.ts) FROM fact_messages m WHERE m.case_id = h.case_id AND m.direction = 'outbound'
			   AND m.sender_type = 'agent' AND m.ts >= h.ts) AS picked
		FROM case_events h LEFT JOIN fact_cases c ON c.case_id = h.case_id
		WHERE h.event = 'handover' AND h.ts >= $1 AND h.ts < $2 AND h.ts <= $3
		ORDER BY h.ts, h.case_id`, []any{q.from, q.to, q.cutoff}, func(rs *sql.Rows) error {
		var h handover
		var ts, picked dbTime
		if err := rs.Scan(&h.caseID, &h.queue, &ts, &picked); err != nil {
			return err
		}
		h.ts = ts.Time.UTC()
		if picked.Valid {
			t := picked.Time.UTC()
			h.picked = &t
		}
		out = append(out, h)
		return nil
	})
	return out, err
}

// pickups measures each handover's pickup in its queue's business time:
// late when picked up after the target, or not picked up by the cutoff
// with the target passed (waiting otherwise). The statistics are of the
// reported week's handovers.
func pickups(hs []handover, cutoff, weekFrom time.Time, opt GovernanceOptions) ([]Pickup, []FindingItem) {
	type acc struct {
		p      Pickup
		values []float64
	}
	byQueue := map[string]*acc{}
	all := &acc{p: Pickup{Queue: "all queues"}}
	var late []FindingItem
	for _, h := range hs {
		target := opt.PickupTarget(h.queue)
		end := cutoff
		if h.picked != nil {
			end = *h.picked
		}
		bt := opt.Calendars.BusinessTime(h.queue, h.ts, end)
		over := bt > target
		if over {
			detail := fmt.Sprintf("picked up after %s (target %s)", fmtDur(bt), fmtDur(target))
			if h.picked == nil {
				detail = fmt.Sprintf("not picked up; %s waiting at the as-of (target %s)", fmtDur(bt), fmtDur(target))
			}
			q := h.queue
			if q == "" {
				q = "(no queue)"
			}
			late = append(late, FindingItem{TS: h.ts, CaseID: h.caseID, Unit: h.caseID + "@" + h.ts.Format("2006-01-02T15:04:05.000Z"),
				Key: q, Detail: detail})
		}
		if h.ts.Before(weekFrom) {
			continue
		}
		name := h.queue
		if name == "" {
			name = "(no queue)"
		}
		a := byQueue[name]
		if a == nil {
			a = &acc{p: Pickup{Queue: name, Target: target.Seconds()}}
			byQueue[name] = a
		}
		for _, x := range []*acc{a, all} {
			x.p.Handovers++
			switch {
			case h.picked != nil:
				x.p.PickedUp++
				x.values = append(x.values, bt.Seconds())
			case !over:
				x.p.Waiting++
			}
			if over {
				x.p.OverTarget++
			}
		}
	}
	var names []string
	for n := range byQueue {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []Pickup
	finish := func(a *acc) Pickup {
		sort.Float64s(a.values)
		if n := len(a.values); n > 0 {
			p50, p90 := a.values[NearestRank(0.5, n)-1], a.values[NearestRank(0.9, n)-1]
			a.p.P50, a.p.P90 = &p50, &p90
		}
		return a.p
	}
	for _, n := range names {
		out = append(out, finish(byQueue[n]))
	}
	if len(names) > 0 {
		out = append(out, finish(all))
	}
	return out, late
}

func fmtDur(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return d.String()
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// templateSends is the template sends of the window with the approval in
// force at the send and whether the customer opted out within 24 h after.
const templateSends = `
WITH sends AS (
    SELECT m.message_id, m.case_id, m.customer_id, m.template_name, m.ts,
           coalesce(s.final_status, 'sent') AS final_status, s.error_code
    FROM fact_messages m LEFT JOIN fact_message_status s ON s.message_id = m.message_id
    WHERE m.direction = 'outbound' AND m.kind = 'template' AND m.template_name IS NOT NULL
      AND m.ts >= $1 AND m.ts < $2 AND m.ts <= $3
),
approval AS (
    SELECT s.message_id, t.status AS state_at_send
    FROM sends s ASOF LEFT JOIN template_events t ON t.template_name = s.template_name AND s.ts >= t.ts
),
optouts AS (
    SELECT s.message_id, min(c.ts) AS opt_out_at
    FROM sends s JOIN consent_events c ON c.customer_id = s.customer_id AND c.status = 'opt_out'
     AND c.ts > s.ts AND c.ts <= s.ts + INTERVAL 24 HOUR AND c.ts <= $3
    GROUP BY 1
)
SELECT s.message_id, coalesce(s.case_id, ''), s.template_name, s.ts, s.final_status, coalesce(s.error_code, ''),
       coalesce(a.state_at_send, 'none'), o.opt_out_at IS NOT NULL
FROM sends s LEFT JOIN approval a ON a.message_id = s.message_id LEFT JOIN optouts o ON o.message_id = s.message_id
ORDER BY s.ts, s.message_id`

type templateSend struct {
	id, caseID, template, final, code, state string
	ts                                       time.Time
	optOut                                   bool
}

func (q *govQuerier) sends(from time.Time) ([]templateSend, error) {
	var out []templateSend
	err := eachRow(q.ctx, q.st.DB(), "template sends", templateSends, []any{from, q.to, q.cutoff}, func(rs *sql.Rows) error {
		var s templateSend
		var ts dbTime
		if err := rs.Scan(&s.id, &s.caseID, &s.template, &ts, &s.final, &s.code, &s.state, &s.optOut); err != nil {
			return err
		}
		s.ts = ts.Time.UTC()
		out = append(out, s)
		return nil
	})
	return out, err
}

func (q *govQuerier) templateIssues() ([]FindingItem, error) {
	sends, err := q.sends(q.from)
	if err != nil {
		return nil, err
	}
	var out []FindingItem
	for _, s := range sends {
		var why []string
		if s.state != "approved" {
			why = append(why, "sent while "+s.state)
		}
		if s.optOut {
			why = append(why, "customer opted out within 24 h")
		}
		if len(why) > 0 {
			out = append(out, FindingItem{TS: s.ts, CaseID: s.caseID, Unit: s.id, Key: s.template, Detail: strings.Join(why, "; ")})
		}
	}
	return out, nil
}

// templateScores is the scorecard of every template sent in the reported
// week or known to the template history.
func (q *govQuerier) templateScores() ([]TemplateScore, error) {
	sends, err := q.sends(q.weekFrom)
	if err != nil {
		return nil, err
	}
	scores := map[string]*TemplateScore{}
	codes := map[string]map[string]int64{}
	get := func(name string) *TemplateScore {
		s := scores[name]
		if s == nil {
			s = &TemplateScore{Template: name, State: "unknown"}
			scores[name] = s
			codes[name] = map[string]int64{}
		}
		return s
	}
	for _, s := range sends {
		t := get(s.template)
		t.Sends++
		if s.state != "approved" {
			t.Unapproved++
		}
		switch s.final {
		case "delivered", "read":
			t.Delivered++
		case "failed":
			t.Failed++
			c := s.code
			if c == "" {
				c = "unknown"
			}
			codes[s.template][c]++
		}
		if s.optOut {
			t.OptOuts++
		}
	}
	err = eachRow(q.ctx, q.st.DB(), "template states", `SELECT template_name, arg_max(status, ts) FROM template_events
		WHERE ts <= $1 GROUP BY 1`, []any{q.cutoff}, func(rs *sql.Rows) error {
		var name, state string
		if err := rs.Scan(&name, &state); err != nil {
			return err
		}
		get(name).State = state
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = eachRow(q.ctx, q.st.DB(), "template quality", `SELECT template_name, arg_max(value, ts) FROM template_changes
		WHERE attribute = 'quality_score' AND template_name IS NOT NULL AND ts <= $1 GROUP BY 1`, []any{q.cutoff}, func(rs *sql.Rows) error {
		var name, quality string
		if err := rs.Scan(&name, &quality); err != nil {
			return err
		}
		if s := scores[name]; s != nil {
			s.Quality = quality
		}
		return nil
	})
	if err != nil && !strings.Contains(err.Error(), "does not exist") {
		return nil, err
	}
	var out []TemplateScore
	for name, s := range scores {
		s.Success = rate(s.Delivered, s.Sends)
		var cs []Count
		for k, v := range codes[name] {
			cs = append(cs, Count{Key: k, Count: v})
		}
		sort.Slice(cs, func(i, j int) bool {
			if cs[i].Count != cs[j].Count {
				return cs[i].Count > cs[j].Count
			}
			return cs[i].Key < cs[j].Key
		})
		var parts []string
		for _, c := range cs {
			parts = append(parts, fmt.Sprintf("%s×%d", c.Key, c.Count))
		}
		s.TopFailures = strings.Join(parts, ", ")
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Sends != out[j].Sends {
			return out[i].Sends > out[j].Sends
		}
		return out[i].Template < out[j].Template
	})
	return out, nil
}

func (q *govQuerier) unreadable() ([]FindingItem, error) {
	return q.items("unreadable documents", `SELECT h.ts, h.case_id, h.case_id || '@' || strftime(h.ts, '%Y-%m-%dT%H:%M:%S.%gZ'),
			coalesce(c.workflow, h.workflow, '(conversation)'), coalesce(h.actor, '')
		FROM case_events h LEFT JOIN fact_cases c ON c.case_id = h.case_id
		WHERE h.event = 'handover' AND h.reason = 'document_unreadable'
		  AND h.ts >= $1 AND h.ts < $2 AND h.ts <= $3
		ORDER BY h.ts, h.case_id`, q.from, q.to, q.cutoff)
}

// attachments counts media received in the reported week per workflow,
// and per workflow the unreadable-document rate: cases opened in the week
// that were handed over because a document could not be read, over the
// cases opened in the week that received a document (media) or were
// handed over for that reason.
func (q *govQuerier) attachments() ([]AttachmentRow, error) {
	rows := map[string]*AttachmentRow{}
	get := func(w string) *AttachmentRow {
		r := rows[w]
		if r == nil {
			r = &AttachmentRow{Workflow: w}
			rows[w] = r
		}
		return r
	}
	err := eachRow(q.ctx, q.st.DB(), "media messages", `SELECT coalesce(c.workflow, CASE WHEN m.case_id IS NULL THEN '(no case)' ELSE '(conversation)' END),
			count(*), count(DISTINCT m.case_id)
		FROM fact_messages m LEFT JOIN fact_cases c ON c.case_id = m.case_id
		WHERE m.direction = 'inbound' AND m.kind = 'media' AND m.ts >= $1 AND m.ts < $2 AND m.ts <= $3
		GROUP BY 1`, []any{q.weekFrom, q.to, q.cutoff}, func(rs *sql.Rows) error {
		var w string
		var n, cases int64
		if err := rs.Scan(&w, &n, &cases); err != nil {
			return err
		}
		r := get(w)
		r.Media, r.CasesWithMedia = n, cases
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = eachRow(q.ctx, q.st.DB(), "document cases", `SELECT c.workflow,
			count(*) FILTER (WHERE EXISTS (SELECT 1 FROM fact_messages m WHERE m.case_id = c.case_id AND m.direction = 'inbound' AND m.kind = 'media')
			                    OR EXISTS (SELECT 1 FROM case_events h WHERE h.case_id = c.case_id AND h.event = 'handover' AND h.reason = 'document_unreadable' AND h.ts <= $3)),
			count(*) FILTER (WHERE EXISTS (SELECT 1 FROM case_events h WHERE h.case_id = c.case_id AND h.event = 'handover' AND h.reason = 'document_unreadable' AND h.ts <= $3))
		FROM fact_cases c
		WHERE c.workflow IS NOT NULL AND c.opened_at >= $1 AND c.opened_at < $2
		GROUP BY 1`, []any{q.weekFrom, q.to, q.cutoff}, func(rs *sql.Rows) error {
		var w string
		var docs, unreadable int64
		if err := rs.Scan(&w, &docs, &unreadable); err != nil {
			return err
		}
		if docs == 0 && rows[w] == nil {
			return nil
		}
		r := get(w)
		r.DocumentCases, r.Unreadable = docs, unreadable
		r.UnreadableRate = rate(unreadable, docs)
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []AttachmentRow
	for _, r := range rows {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Workflow < out[j].Workflow })
	return out, nil
}

// changes lists the KPI definition and configuration changes of the
// window's weeks from the audit log (the change-control record).
func (q *govQuerier) changes(loc *time.Location) ([]ChangeItem, error) {
	var out []ChangeItem
	err := eachRow(q.ctx, q.st.DB(), "changes", `SELECT ts, coalesce(actor, ''), action, coalesce(object_id, ''), coalesce(details, '')
		FROM audit_events
		WHERE action IN ('kpi_definition_change', 'config_change') AND ts >= $1 AND ts < $2 AND ts <= $3
		ORDER BY ts, audit_id`, []any{q.from, q.to, q.cutoff}, func(rs *sql.Rows) error {
		var c ChangeItem
		var ts dbTime
		if err := rs.Scan(&ts, &c.Actor, &c.Action, &c.Object, &c.Details); err != nil {
			return err
		}
		c.TS = ts.Time.UTC()
		c.Week = weekOf(c.TS, loc)
		out = append(out, c)
		return nil
	})
	return out, err
}

// definitions lists the KPI definition versions the store has recorded.
func (q *govQuerier) definitions() ([]DefinitionVersion, error) {
	var out []DefinitionVersion
	err := eachRow(q.ctx, q.st.DB(), "KPI definitions", `SELECT name, version, sql_sha256, min(first_seen)
		FROM kpi_definitions WHERE dialect = 'duckdb' GROUP BY 1, 2, 3 ORDER BY 1, 2, 4`, nil, func(rs *sql.Rows) error {
		var d DefinitionVersion
		var ts dbTime
		if err := rs.Scan(&d.KPI, &d.Version, &d.SHA256, &ts); err != nil {
			return err
		}
		d.FirstSeen = ts.Time.UTC()
		out = append(out, d)
		return nil
	})
	if err != nil && strings.Contains(err.Error(), "does not exist") {
		return nil, nil
	}
	return out, err
}

// riskLog turns the weekly counts per (finding, key) into risk-log
// entries: an entry opens in the first week with an occurrence and stays
// open until RiskCloseAfter consecutive weeks pass without one; it is
// then closed, and a later occurrence opens a new entry (only the latest
// entry of a key is kept). weeks_open counts the weeks from the first
// occurrence to the last (closed) or to the reported week (open).
func riskLog(findings []GovFinding, units map[string][]FindingItem, req GovernanceRequest) []RiskEntry {
	var out []RiskEntry
	n := len(req.Weeks)
	for _, f := range findings {
		if !f.Configured {
			continue
		}
		counts := map[string][]int64{}
		for _, it := range units[f.Finding] {
			i := weekIndex(req.Weeks, req.To, it.TS)
			if i < 0 {
				continue
			}
			if counts[it.Key] == nil {
				counts[it.Key] = make([]int64, n)
			}
			counts[it.Key][i]++
		}
		var keys []string
		for k := range counts {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			c := counts[k]
			start, last := -1, -1
			var occ int64
			for i := 0; i < n; i++ {
				if c[i] == 0 {
					continue
				}
				if start < 0 || i-last > RiskCloseAfter {
					start, occ = i, 0
				}
				last = i
				occ += c[i]
			}
			e := RiskEntry{Finding: f.Finding, Key: k, FirstSeen: weekOf(req.Weeks[start], req.Loc),
				LastSeen: weekOf(req.Weeks[last], req.Loc), Occurrences: occ, Status: "open"}
			end := n - 1
			if n-1-last >= RiskCloseAfter {
				e.Status, end = "closed", last
			}
			e.WeeksOpen = end - start + 1
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if (out[i].Status == "open") != (out[j].Status == "open") {
			return out[i].Status == "open"
		}
		if out[i].WeeksOpen != out[j].WeeksOpen {
			return out[i].WeeksOpen > out[j].WeeksOpen
		}
		if out[i].Finding != out[j].Finding {
			return out[i].Finding < out[j].Finding
		}
		return out[i].Key < out[j].Key
	})
	return out
}

// readOnly tells the error of a write to a store opened read-only (the
// risk log is then computed but not stored).
func readOnly(err error) bool {
	m := strings.ToLower(err.Error())
	return strings.Contains(m, "read-only") || strings.Contains(m, "read only")
}

// writeRiskLog replaces the risk_log table with the entries.
func writeRiskLog(ctx context.Context, db *sql.DB, entries []RiskEntry) error {
	if _, err := db.ExecContext(ctx, `CREATE OR REPLACE TABLE risk_log (finding VARCHAR, key VARCHAR,
		first_seen_week VARCHAR, last_seen_week VARCHAR, weeks_open INTEGER, occurrences BIGINT, status VARCHAR)`); err != nil {
		return fmt.Errorf("creating risk_log: %w", err)
	}
	for _, e := range entries {
		if _, err := db.ExecContext(ctx, `INSERT INTO risk_log VALUES (?, ?, ?, ?, ?, ?, ?)`,
			e.Finding, e.Key, e.FirstSeen, e.LastSeen, e.WeeksOpen, e.Occurrences, e.Status); err != nil {
			return fmt.Errorf("writing risk_log: %w", err)
		}
	}
	return nil
}
