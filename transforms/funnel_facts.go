package transforms

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"
)

// FunnelSettings is implemented by calendars that also carry the funnel
// configuration (closedloop's config-backed calendars do); others get the
// default wait.
type FunnelSettings interface {
	// FallbackWait is how long a first channel may go unread before a
	// second channel counts as a fallback.
	FallbackWait() time.Duration
}

// DefaultFallbackWait is the fallback wait without configuration.
const DefaultFallbackWait = 24 * time.Hour

func fallbackWait(cal Calendars) time.Duration {
	if f, ok := cal.(FunnelSettings); ok && f.FallbackWait() > 0 {
		return f.FallbackWait()
	}
	return DefaultFallbackWait
}

// Funnel steps in order (SPEC §3 "Funnel and channel sequence").
const (
	StepTriggered         = "triggered"
	StepDelivered         = "delivered"
	StepRead              = "read"
	StepActionStarted     = "action_started"
	StepIdentityValidated = "identity_validated"
	StepCompleted         = "completed"
	StepWrittenBack       = "written_back"
)

// FunnelSteps lists the steps in funnel order.
var FunnelSteps = []string{StepTriggered, StepDelivered, StepRead, StepActionStarted, StepIdentityValidated, StepCompleted, StepWrittenBack}

// Fallback reasons (fact_funnel.fallback_reason).
const (
	FallbackFailed = "first_channel_failed"
	FallbackUnread = "first_channel_unread"
)

// SequenceSep joins the channels of a channel sequence.
const SequenceSep = "→"

// funnelDDL creates fact_funnel (one row per workflow case) and
// fact_case_costs (one row per workflow case, channel, pricing category
// and business number) per engine.
var funnelDDL = map[string][]string{
	"duckdb": {
		`CREATE OR REPLACE TABLE fact_funnel (
		case_id VARCHAR, workflow VARCHAR, queue VARCHAR, opened_at TIMESTAMP_MS,
		first_channel VARCHAR, channel_sequence VARCHAR, channels INTEGER, outbound_msgs INTEGER,
		delivered_at TIMESTAMP_MS, read_at TIMESTAMP_MS, link_opened_at TIMESTAMP_MS, action_started_at TIMESTAMP_MS,
		identity_validated_at TIMESTAMP_MS, identity_failures INTEGER, action_submitted_at TIMESTAMP_MS,
		completed_at TIMESTAMP_MS, written_back BOOLEAN, handed_over BOOLEAN, agent_msgs INTEGER, deflected BOOLEAN,
		fallback BOOLEAN, fallback_reason VARCHAR, fallback_at TIMESTAMP_MS)`,
		`CREATE OR REPLACE TABLE fact_case_costs (
		case_id VARCHAR, workflow VARCHAR, channel VARCHAR, pricing_category VARCHAR, business_number VARCHAR,
		messages INTEGER, billable INTEGER)`,
	},
	"clickhouse": {
		`DROP TABLE IF EXISTS fact_funnel`,
		`CREATE TABLE fact_funnel (
		case_id String, workflow String, queue Nullable(String), opened_at Int64,
		first_channel Nullable(String), channel_sequence Nullable(String), channels Int32, outbound_msgs Int32,
		delivered_at Nullable(Int64), read_at Nullable(Int64), link_opened_at Nullable(Int64), action_started_at Nullable(Int64),
		identity_validated_at Nullable(Int64), identity_failures Int32, action_submitted_at Nullable(Int64),
		completed_at Nullable(Int64), written_back UInt8, handed_over UInt8, agent_msgs Int32, deflected UInt8,
		fallback UInt8, fallback_reason Nullable(String), fallback_at Nullable(Int64)) ENGINE = MergeTree ORDER BY tuple()`,
		`DROP TABLE IF EXISTS fact_case_costs`,
		`CREATE TABLE fact_case_costs (
		case_id String, workflow String, channel String, pricing_category Nullable(String), business_number Nullable(String),
		messages Int32, billable Int32) ENGINE = MergeTree ORDER BY tuple()`,
	},
}

// funnelCase is one workflow case while its funnel row is built.
type funnelCase struct {
	id, workflow, queue string
	opened              time.Time
	completed           *time.Time
	writtenBack         bool
	handovers           int64
	agentMsgs           int64
	msgs                []funnelMsg
	steps               map[string]time.Time // action step → first time
	failures            int
}

// funnelMsg is one outbound message of a workflow case.
type funnelMsg struct {
	id, channel, business string
	ts                    time.Time
}

// msgStatus is what the funnel needs of a message's statuses.
type msgStatus struct {
	delivered, read, failed *time.Time
	category                string
	billable                bool
}

// buildFunnel writes fact_funnel and fact_case_costs from case_facts,
// fact_messages, fact_message_status, message_statuses and actions (all as
// of the cutoff). It runs the same simple queries on every engine and does
// the sequencing in Go, so both engines give identical facts.
func buildFunnel(ctx context.Context, db *sql.DB, dialect string, w RowWriter, cal Calendars, asof time.Time, scope string) error {
	dl := dialectFor(dialect)
	ddl, ok := funnelDDL[dialect]
	if !ok {
		ddl = funnelDDL["duckdb"]
	}
	if scope == "" {
		for _, q := range ddl {
			if _, err := db.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("creating the funnel facts: %w", err)
			}
		}
	}
	// With a scope (incremental runs), only its cases' messages matter.
	scopedMsgs := ""
	if scope != "" {
		scopedMsgs = " AND message_id IN (SELECT message_id FROM fact_messages WHERE case_id IN (SELECT case_id FROM " + scope + "))"
	}
	cases := map[string]*funnelCase{}
	var order []string
	err := eachRow(ctx, db, "workflow cases", `SELECT case_id, workflow, queue, opened_at, completed_at, writeback_ok, handovers, agent_msgs
		FROM case_facts WHERE workflow IS NOT NULL`+inScope("case_id", scope)+` ORDER BY case_id`, nil, func(rs *sql.Rows) error {
		var c funnelCase
		var queue sql.NullString
		var opened, completed dbTime
		var wb dbBool
		if err := rs.Scan(&c.id, &c.workflow, &queue, &opened, &completed, &wb, &c.handovers, &c.agentMsgs); err != nil {
			return err
		}
		c.queue, c.opened, c.writtenBack = queue.String, opened.Time, wb.bool
		if completed.Valid {
			t := completed.Time
			c.completed = &t
		}
		cases[c.id] = &c
		order = append(order, c.id)
		return nil
	})
	if err != nil {
		return err
	}
	want := map[string]bool{}
	err = eachRow(ctx, db, "outbound messages", `SELECT case_id, message_id, channel, ts, business_number
		FROM fact_messages WHERE direction = 'outbound' AND case_id IS NOT NULL`+inScope("case_id", scope)+` ORDER BY case_id, ts, message_id`, nil, func(rs *sql.Rows) error {
		var caseID, id, channel string
		var business sql.NullString
		var ts dbTime
		if err := rs.Scan(&caseID, &id, &channel, &ts, &business); err != nil {
			return err
		}
		if c := cases[caseID]; c != nil {
			c.msgs = append(c.msgs, funnelMsg{id: id, channel: channel, business: business.String, ts: ts.Time})
			want[id] = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	statuses := map[string]*msgStatus{}
	err = eachRow(ctx, db, "message statuses", `SELECT message_id, delivered_at, read_at, pricing_category, billable
		FROM fact_message_status WHERE 1 = 1`+scopedMsgs, nil, func(rs *sql.Rows) error {
		var id string
		var delivered, read dbTime
		var cat sql.NullString
		var billable dbBool
		if err := rs.Scan(&id, &delivered, &read, &cat, &billable); err != nil {
			return err
		}
		if !want[id] {
			return nil
		}
		s := &msgStatus{category: cat.String, billable: billable.bool}
		if delivered.Valid {
			t := delivered.Time
			s.delivered = &t
		}
		if read.Valid {
			t := read.Time
			s.read = &t
		}
		statuses[id] = s
		return nil
	})
	if err != nil {
		return err
	}
	err = eachRow(ctx, db, "failed statuses", `SELECT message_id, min(ts) FROM message_statuses
		WHERE status = 'failed' AND ts <= $1`+scopedMsgs+` GROUP BY message_id`, []any{dl.timeArg(asof)}, func(rs *sql.Rows) error {
		var id string
		var ts dbTime
		if err := rs.Scan(&id, &ts); err != nil {
			return err
		}
		if !want[id] || !ts.Valid {
			return nil
		}
		s := statuses[id]
		if s == nil {
			s = &msgStatus{}
			statuses[id] = s
		}
		t := ts.Time
		s.failed = &t
		return nil
	})
	if err != nil {
		return err
	}
	err = eachRow(ctx, db, "actions", `SELECT case_id, step, min(ts), count(*) FROM actions
		WHERE ts <= $1`+inScope("case_id", scope)+` GROUP BY case_id, step`, []any{dl.timeArg(asof)}, func(rs *sql.Rows) error {
		var caseID, step string
		var ts dbTime
		var n int64
		if err := rs.Scan(&caseID, &step, &ts, &n); err != nil {
			return err
		}
		c := cases[caseID]
		if c == nil || !ts.Valid {
			return nil
		}
		if c.steps == nil {
			c.steps = map[string]time.Time{}
		}
		c.steps[step] = ts.Time
		if step == "identity_failed" {
			c.failures = int(n)
		}
		return nil
	})
	if err != nil {
		return err
	}

	wait := fallbackWait(cal)
	var rows, costs [][]any
	for _, id := range order {
		c := cases[id]
		rows = append(rows, c.factRow(statuses, wait))
		costs = append(costs, c.costRows(statuses)...)
	}
	for _, t := range []string{"fact_funnel", "fact_case_costs"} {
		if err := clearScope(ctx, db, t, scope); err != nil {
			return err
		}
	}
	if err := w.WriteRows(ctx, "fact_funnel", rows); err != nil {
		return fmt.Errorf("writing fact_funnel: %w", err)
	}
	if err := w.WriteRows(ctx, "fact_case_costs", costs); err != nil {
		return fmt.Errorf("writing fact_case_costs: %w", err)
	}
	return nil
}

// factRow computes one case's funnel facts. The messages that count for
// the funnel are those sent up to completion (all of them when the case
// did not complete): a confirmation sent afterwards did not help finish
// the task. Their statuses count whenever they came by the cutoff.
func (c *funnelCase) factRow(st map[string]*msgStatus, wait time.Duration) []any {
	var msgs []funnelMsg
	for _, m := range c.msgs {
		if c.completed == nil || !m.ts.After(*c.completed) {
			msgs = append(msgs, m)
		}
	}
	var seq []string
	firstUse := map[string]time.Time{}
	var delivered, read *time.Time
	earliest := func(cur **time.Time, t *time.Time) {
		if t != nil && (*cur == nil || t.Before(**cur)) {
			v := *t
			*cur = &v
		}
	}
	for _, m := range msgs {
		if _, ok := firstUse[m.channel]; !ok {
			firstUse[m.channel] = m.ts
			seq = append(seq, m.channel)
		}
		if s := st[m.id]; s != nil {
			earliest(&delivered, s.delivered)
			earliest(&read, s.read)
		}
	}
	var fallback bool
	var reason any
	var fallbackAt any
	if len(seq) >= 2 {
		switch r := fallbackReason(msgs, st, seq[0], firstUse[seq[1]], wait); r {
		case "":
		default:
			fallback, reason, fallbackAt = true, r, firstUse[seq[1]]
		}
	}
	// Opening the action's link shows the message was read, also on
	// channels without read receipts (SMS) and for customers who switched
	// them off.
	if t, ok := c.steps["link_opened"]; ok {
		earliest(&read, &t)
	}
	step := func(name string) any {
		if t, ok := c.steps[name]; ok {
			return t
		}
		return nil
	}
	var completed any
	if c.completed != nil {
		completed = *c.completed
	}
	deflected := c.completed != nil && c.handovers == 0 && c.agentMsgs == 0
	return []any{c.id, c.workflow, nullStr(c.queue), c.opened,
		nullStr(first(seq)), nullStr(strings.Join(seq, SequenceSep)), int32(len(seq)), int32(len(msgs)),
		timePtr(delivered), timePtr(read), step("link_opened"), step("action_started"),
		step("identity_validated"), int32(c.failures), step("action_submitted"),
		completed, c.writtenBack, c.handovers > 0, int32(c.agentMsgs), deflected,
		fallback, reason, fallbackAt}
}

// fallbackReason says why a second channel was used at second: the first
// channel had failed (a failure and no delivery before), or had gone
// unread for the wait; "" when the second channel was used while the first
// had been read, or early without a failure (a parallel send, not a
// fallback).
func fallbackReason(msgs []funnelMsg, st map[string]*msgStatus, firstCh string, second time.Time, wait time.Duration) string {
	var firstSend *time.Time
	var read, delivered, failed bool
	for _, m := range msgs {
		if m.channel != firstCh || m.ts.After(second) {
			continue
		}
		if firstSend == nil {
			t := m.ts
			firstSend = &t
		}
		s := st[m.id]
		if s == nil {
			continue
		}
		at := func(t *time.Time) bool { return t != nil && !t.After(second) }
		read = read || at(s.read)
		delivered = delivered || at(s.delivered)
		failed = failed || at(s.failed)
	}
	switch {
	case firstSend == nil || read:
		return ""
	case failed && !delivered:
		return FallbackFailed
	case second.Sub(*firstSend) >= wait:
		return FallbackUnread
	}
	return ""
}

// costRows groups a case's outbound messages (all of them: spend counts
// whenever it happened) by channel, pricing category and business number.
func (c *funnelCase) costRows(st map[string]*msgStatus) [][]any {
	type key struct{ channel, cat, business string }
	type agg struct{ n, billable int32 }
	groups := map[key]*agg{}
	var keys []key
	for _, m := range c.msgs {
		k := key{channel: m.channel, business: m.business}
		s := st[m.id]
		if s != nil && m.channel == "whatsapp" {
			k.cat = s.category
		}
		a := groups[k]
		if a == nil {
			a = &agg{}
			groups[k] = a
			keys = append(keys, k)
		}
		a.n++
		if s != nil && s.billable {
			a.billable++
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.channel != b.channel {
			return a.channel < b.channel
		}
		if a.cat != b.cat {
			return a.cat < b.cat
		}
		return a.business < b.business
	})
	out := make([][]any, 0, len(keys))
	for _, k := range keys {
		g := groups[k]
		out = append(out, []any{c.id, c.workflow, k.channel, nullStr(k.cat), nullStr(k.business), g.n, g.billable})
	}
	return out
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func timePtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}

// eachRow runs a query and calls fn for every row.
func eachRow(ctx context.Context, db *sql.DB, what, q string, args []any, fn func(*sql.Rows) error) error {
	rs, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("reading %s: %w", what, err)
	}
	defer rs.Close()
	for rs.Next() {
		if err := fn(rs); err != nil {
			return fmt.Errorf("reading %s: %w", what, err)
		}
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", what, err)
	}
	return nil
}

// dbBool scans a boolean column: BOOLEAN (DuckDB) or UInt8 (ClickHouse);
// NULL is false.
type dbBool struct{ bool }

// Scan implements sql.Scanner.
func (b *dbBool) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		b.bool = false
	case bool:
		b.bool = x
	case int64:
		b.bool = x != 0
	case uint8:
		b.bool = x != 0
	case *uint8:
		b.bool = x != nil && *x != 0
	case int32:
		b.bool = x != 0
	case uint64:
		b.bool = x != 0
	default:
		return fmt.Errorf("cannot read %T as a boolean", v)
	}
	return nil
}
