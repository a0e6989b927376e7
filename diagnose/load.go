package diagnose

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/closedloop/closedloop/store"
)

// eventOrder breaks ties between case events at the same instant in
// lifecycle order, so a path never reads "resolved>opened".
const eventOrder = `CASE e.event WHEN 'opened' THEN 0 WHEN 'handover' THEN 1 WHEN 'completed' THEN 2
	WHEN 'resolved' THEN 3 ELSE 4 END, e.event, e.event_id`

// casesSQL reads one row per case opened in [$1, $2) from the facts built
// for the cutoff $3: dimensions and outcome from case_facts, the event
// kinds in order from case_events, the first message from fact_messages,
// action telemetry from actions and writeback targets from fact_writebacks.
const casesSQL = `WITH w AS (
	SELECT case_id, coalesce(workflow, '') AS wf, coalesce(category, '') AS cat, coalesce(queue, '') AS q,
	       opened_at, completed_at IS NOT NULL AS completed, coalesce(resolved_at_cutoff, false) AS resolved,
	       coalesce(last_closure_tag, '') AS tag
	FROM case_facts WHERE opened_at >= $1 AND opened_at < $2
), ev AS (
	SELECT e.case_id,
	       string_agg(e.event, '>' ORDER BY e.ts, ` + eventOrder + `) AS seq,
	       first(e.event ORDER BY e.ts, ` + eventOrder + `) AS first_event
	FROM case_events e WHERE e.ts <= $3 AND e.case_id IN (SELECT case_id FROM w)
	GROUP BY e.case_id
), msg AS (
	SELECT m.case_id,
	       first(CASE WHEN m.direction = 'inbound' THEN 'customer message'
	                  WHEN m.kind = 'template' THEN 'template ' || coalesce(m.template_name, '(unnamed)')
	                  ELSE m.sender_type || ' message' END ORDER BY m.ts, m.message_id) AS first_msg
	FROM fact_messages m WHERE m.case_id IN (SELECT case_id FROM w)
	GROUP BY m.case_id
), act AS (
	SELECT case_id, count(*) AS n,
	       count(*) FILTER (WHERE step IN ('identity_validated', 'identity_failed')) AS ids
	FROM actions WHERE ts <= $3 AND case_id IN (SELECT case_id FROM w)
	GROUP BY case_id
), wb AS (
	SELECT case_id, string_agg(DISTINCT target_system, ',' ORDER BY target_system) AS targets
	FROM fact_writebacks WHERE target_system IS NOT NULL AND case_id IN (SELECT case_id FROM w)
	GROUP BY case_id
)
SELECT w.case_id, w.wf, w.cat, w.q, w.opened_at, w.completed, w.resolved, w.tag,
       coalesce(ev.seq, ''), coalesce(ev.first_event, ''), coalesce(msg.first_msg, ''),
       coalesce(act.n, 0), coalesce(act.ids, 0), coalesce(wb.targets, '')
FROM w LEFT JOIN ev USING (case_id) LEFT JOIN msg USING (case_id)
       LEFT JOIN act USING (case_id) LEFT JOIN wb USING (case_id)
ORDER BY w.case_id`

func needDuckDB(st store.Store, what string) error {
	if st.Dialect() != "duckdb" {
		return fmt.Errorf("%s reads a DuckDB store; %s is not supported yet", what, st.Dialect())
	}
	return nil
}

// Load reads the cases opened in [from, to) from the store's facts, which
// must be built for the cutoff asof (transforms.Ensure).
func Load(ctx context.Context, st store.Store, from, to, asof time.Time) ([]Case, error) {
	if err := needDuckDB(st, "the diagnosis"); err != nil {
		return nil, err
	}
	rows, err := st.DB().QueryContext(ctx, casesSQL, from.UTC(), to.UTC(), asof.UTC())
	if err != nil {
		return nil, fmt.Errorf("reading cases for the diagnosis: %w", err)
	}
	defer rows.Close()
	var out []Case
	for rows.Next() {
		var c Case
		var seq, first, msg, targets string
		if err := rows.Scan(&c.ID, &c.Workflow, &c.Category, &c.Queue, &c.Opened, &c.Completed, &c.Resolved,
			&c.ClosureTag, &seq, &first, &msg, &c.Actions, &c.IdentitySteps, &targets); err != nil {
			return nil, fmt.Errorf("reading cases for the diagnosis: %w", err)
		}
		if seq != "" {
			c.Events = strings.Split(seq, ">")
		}
		c.Trigger = first
		if msg != "" {
			if c.Trigger != "" {
				c.Trigger += " · "
			}
			c.Trigger += msg
		}
		if targets != "" {
			c.WritebackTargets = strings.Split(targets, ",")
		}
		c.Opened = c.Opened.UTC()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading cases for the diagnosis: %w", err)
	}
	return out, nil
}

// LoadDemand reads when each case opened in [from, to) opened, with its
// category and queue, from the store's facts (built by transforms.Ensure).
func LoadDemand(ctx context.Context, st store.Store, from, to time.Time) ([]DemandCase, error) {
	if err := needDuckDB(st, "the demand map"); err != nil {
		return nil, err
	}
	rows, err := st.DB().QueryContext(ctx, `SELECT opened_at, coalesce(category, ''), coalesce(queue, '')
		FROM case_facts WHERE opened_at >= $1 AND opened_at < $2 ORDER BY opened_at, case_id`, from.UTC(), to.UTC())
	if err != nil {
		return nil, fmt.Errorf("reading cases for the demand map: %w", err)
	}
	defer rows.Close()
	var out []DemandCase
	for rows.Next() {
		var c DemandCase
		if err := rows.Scan(&c.Opened, &c.Category, &c.Queue); err != nil {
			return nil, fmt.Errorf("reading cases for the demand map: %w", err)
		}
		c.Opened = c.Opened.UTC()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading cases for the demand map: %w", err)
	}
	return out, nil
}

// Run diagnoses the cases opened in [from, to) of a store whose facts are
// built for asof.
func Run(ctx context.Context, st store.Store, th Thresholds, from, to, asof time.Time, loc *time.Location) (*Result, error) {
	cases, err := Load(ctx, st, from, to, asof)
	if err != nil {
		return nil, err
	}
	return Diagnose(cases, th, from, to, asof, loc), nil
}

// Map builds the demand map of the weeks starting at weekStarts (the last
// ending at end) from a store whose facts are built, with the top
// categories' weekly trend. The dashboard and the pack use it.
func Map(ctx context.Context, st store.Store, loc *time.Location, weekStarts []time.Time, end time.Time, top int) (*Demand, error) {
	if len(weekStarts) == 0 {
		return BuildDemand(nil, loc, nil, end, top), nil
	}
	cases, err := LoadDemand(ctx, st, weekStarts[0], end)
	if err != nil {
		return nil, err
	}
	return BuildDemand(cases, loc, weekStarts, end, top), nil
}
