package transforms

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/closedloop/closedloop/store"
)

// Calendars answers business-time questions per queue (SPEC §4).
type Calendars interface {
	// BusinessTime is the overlap of [from, to) with the queue's opening hours.
	BusinessTime(queue string, from, to time.Time) time.Duration
	// SLATarget is the queue's response target in business time.
	SLATarget(queue string) time.Duration
}

// RowWriter is implemented by stores that can bulk-append Go-computed rows.
type RowWriter interface {
	WriteRows(ctx context.Context, table string, rows [][]any) error
}

// State records what the facts were built from.
type State struct {
	AsOf      time.Time // the cutoff the facts reflect
	Watermark string    // fingerprint of the raw tables when built
	BuiltAt   time.Time
	Duration  time.Duration
}

// Run rebuilds every fact table as of the cutoff asof.
func Run(ctx context.Context, st store.Store, cal Calendars, asof time.Time) (State, error) {
	start := time.Now()
	asof = asof.UTC().Truncate(time.Millisecond)
	db := st.DB()
	names, steps, err := transformSteps(st.Dialect())
	if err != nil {
		return State{}, err
	}
	for i, q := range steps {
		if _, err := db.ExecContext(ctx, q, asof); err != nil {
			return State{}, fmt.Errorf("transform step %s: %w", names[i], err)
		}
	}
	w, ok := st.(RowWriter)
	if !ok {
		return State{}, fmt.Errorf("store %s cannot write computed facts", st.Dialect())
	}
	if err := buildWaits(ctx, db, w, cal, asof); err != nil {
		return State{}, err
	}
	if err := buildFirstResponse(ctx, db, w, cal); err != nil {
		return State{}, err
	}
	if err := recordDefinitions(ctx, db, st.Dialect()); err != nil {
		return State{}, err
	}
	wm, err := Watermark(ctx, db)
	if err != nil {
		return State{}, err
	}
	s := State{AsOf: asof, Watermark: wm, BuiltAt: time.Now().UTC(), Duration: time.Since(start)}
	if err := saveState(ctx, db, s); err != nil {
		return State{}, err
	}
	return s, nil
}

// buildWaits walks each case's messages in time order and records every
// waiting period: it starts at a customer message when none is unanswered
// and ends at the next bot or agent message in the case.
func buildWaits(ctx context.Context, db *sql.DB, w RowWriter, cal Calendars, asof time.Time) error {
	if _, err := db.ExecContext(ctx, `CREATE OR REPLACE TABLE fact_waits (
		case_id VARCHAR, queue VARCHAR, started_at TIMESTAMP_MS, answered_at TIMESTAMP_MS,
		business_seconds DOUBLE, target_seconds DOUBLE, state VARCHAR)`); err != nil {
		return fmt.Errorf("creating fact_waits: %w", err)
	}
	rows, err := db.QueryContext(ctx, `
		SELECT m.case_id, coalesce(c.queue, ''), m.ts, m.direction, m.sender_type
		FROM fact_messages m JOIN fact_cases c ON c.case_id = m.case_id
		ORDER BY m.case_id, m.ts, m.direction DESC`)
	if err != nil {
		return fmt.Errorf("reading messages for waits: %w", err)
	}
	defer rows.Close()
	var out [][]any
	var curCase, curQueue string
	var waiting *time.Time
	closeWait := func(end *time.Time) {
		if waiting == nil {
			return
		}
		target := cal.SLATarget(curQueue)
		stop := asof
		if end != nil {
			stop = *end
		}
		bt := cal.BusinessTime(curQueue, *waiting, stop)
		state := "pending"
		switch {
		case end != nil && bt <= target:
			state = "attained"
		case end != nil:
			state = "breached"
		case bt > target:
			state = "breached"
		}
		var answered any
		if end != nil {
			answered = *end
		}
		out = append(out, []any{curCase, nullStr(curQueue), *waiting, answered, bt.Seconds(), target.Seconds(), state})
		waiting = nil
	}
	for rows.Next() {
		var caseID, queue, dir, sender string
		var ts time.Time
		if err := rows.Scan(&caseID, &queue, &ts, &dir, &sender); err != nil {
			return fmt.Errorf("reading messages for waits: %w", err)
		}
		if caseID != curCase {
			closeWait(nil)
			curCase, curQueue = caseID, queue
		}
		switch {
		case dir == "inbound":
			if waiting == nil {
				t := ts
				waiting = &t
			}
		case sender == "bot" || sender == "agent":
			t := ts
			closeWait(&t)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading messages for waits: %w", err)
	}
	closeWait(nil)
	rows.Close()
	if err := w.WriteRows(ctx, "fact_waits", out); err != nil {
		return fmt.Errorf("writing fact_waits: %w", err)
	}
	return nil
}

// buildFirstResponse measures, per case, business time from opened to the
// first bot or agent message.
func buildFirstResponse(ctx context.Context, db *sql.DB, w RowWriter, cal Calendars) error {
	if _, err := db.ExecContext(ctx, `CREATE OR REPLACE TABLE fact_first_response (
		case_id VARCHAR, queue VARCHAR, opened_at TIMESTAMP_MS, first_response_at TIMESTAMP_MS, business_seconds DOUBLE)`); err != nil {
		return fmt.Errorf("creating fact_first_response: %w", err)
	}
	rows, err := db.QueryContext(ctx, `SELECT case_id, coalesce(queue, ''), opened_at, first_response_at
		FROM case_facts WHERE first_response_at IS NOT NULL ORDER BY case_id`)
	if err != nil {
		return fmt.Errorf("reading first responses: %w", err)
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		var id, queue string
		var opened, first time.Time
		if err := rows.Scan(&id, &queue, &opened, &first); err != nil {
			return fmt.Errorf("reading first responses: %w", err)
		}
		bt := cal.BusinessTime(queue, opened, first)
		out = append(out, []any{id, nullStr(queue), opened, first, bt.Seconds()})
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading first responses: %w", err)
	}
	rows.Close()
	if err := w.WriteRows(ctx, "fact_first_response", out); err != nil {
		return fmt.Errorf("writing fact_first_response: %w", err)
	}
	return nil
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// recordDefinitions keeps kpi_definitions current: one row per (name,
// version) with the SHA-256 of its SQL, so every figure names what made it.
func recordDefinitions(ctx context.Context, db *sql.DB, dialect string) error {
	defs, err := Definitions(dialect)
	if err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS kpi_definitions (
		name VARCHAR, version INTEGER, dialect VARCHAR, sql_sha256 VARCHAR, kind VARCHAR,
		definition VARCHAR, sql_text VARCHAR, first_seen TIMESTAMP_MS)`); err != nil {
		return fmt.Errorf("creating kpi_definitions: %w", err)
	}
	for _, d := range defs {
		if _, err := db.ExecContext(ctx, `INSERT INTO kpi_definitions
			SELECT ?, ?, ?, ?, ?, ?, ?, current_timestamp::TIMESTAMP_MS
			WHERE NOT EXISTS (SELECT 1 FROM kpi_definitions WHERE name = ? AND version = ? AND dialect = ? AND sql_sha256 = ?)`,
			d.Name, d.Version, dialect, d.SHA256, string(d.Kind), d.Definition, d.SQL,
			d.Name, d.Version, dialect, d.SHA256); err != nil {
			return fmt.Errorf("recording definition of %s: %w", d.Name, err)
		}
	}
	return nil
}

// Watermark fingerprints the raw tables (row counts and newest ingest), so
// a reader can tell whether the facts are stale.
func Watermark(ctx context.Context, db *sql.DB) (string, error) {
	var parts []string
	for _, t := range []string{"messages", "message_statuses", "case_events", "writebacks", "consent_events", "template_events"} {
		var n int64
		var last sql.NullTime
		if err := db.QueryRowContext(ctx, "SELECT count(*), max(ingested_at) FROM "+t).Scan(&n, &last); err != nil {
			return "", fmt.Errorf("fingerprinting %s: %w", t, err)
		}
		parts = append(parts, fmt.Sprintf("%s=%d@%d", t, n, last.Time.UnixMilli()))
	}
	return strings.Join(parts, ";"), nil
}

func saveState(ctx context.Context, db *sql.DB, s State) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS transform_state (
		as_of TIMESTAMP_MS, watermark VARCHAR, built_at TIMESTAMP_MS, duration_ms BIGINT)`); err != nil {
		return fmt.Errorf("creating transform_state: %w", err)
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM transform_state`); err != nil {
		return fmt.Errorf("saving transform state: %w", err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO transform_state VALUES (?, ?, ?, ?)`,
		s.AsOf, s.Watermark, s.BuiltAt, s.Duration.Milliseconds()); err != nil {
		return fmt.Errorf("saving transform state: %w", err)
	}
	return nil
}

// LoadState returns the last transform's state, or ok=false if none ran.
func LoadState(ctx context.Context, db *sql.DB) (State, bool, error) {
	var s State
	var ms int64
	err := db.QueryRowContext(ctx, `SELECT as_of, watermark, built_at, duration_ms FROM transform_state`).
		Scan(&s.AsOf, &s.Watermark, &s.BuiltAt, &ms)
	if err != nil {
		if err == sql.ErrNoRows || strings.Contains(err.Error(), "does not exist") {
			return State{}, false, nil
		}
		return State{}, false, fmt.Errorf("reading transform state: %w", err)
	}
	s.Duration = time.Duration(ms) * time.Millisecond
	return s, true, nil
}

// NewestEvent is the default cutoff: the latest event timestamp in the store.
func NewestEvent(ctx context.Context, db *sql.DB) (time.Time, error) {
	var t sql.NullTime
	err := db.QueryRowContext(ctx, `SELECT max(ts) FROM (
		SELECT max(ts) AS ts FROM messages UNION ALL SELECT max(ts) FROM message_statuses
		UNION ALL SELECT max(ts) FROM case_events UNION ALL SELECT max(ts) FROM writebacks)`).Scan(&t)
	if err != nil {
		return time.Time{}, fmt.Errorf("finding newest event: %w", err)
	}
	if !t.Valid {
		return time.Time{}, fmt.Errorf("the store holds no events yet: run closedloop ingest first")
	}
	return t.Time.UTC(), nil
}
