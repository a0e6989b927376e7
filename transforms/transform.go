package transforms

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
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
	// Incremental is set when Update recomputed only Cases cases (it is
	// not stored).
	Incremental bool
	Cases       int64
}

// Run rebuilds every fact table as of the cutoff asof.
func Run(ctx context.Context, st store.Store, cal Calendars, asof time.Time) (State, error) {
	start := time.Now()
	asof = asof.UTC().Truncate(time.Millisecond)
	db := st.DB()
	dl := dialectFor(st.Dialect())
	names, steps, err := transformSteps(st.Dialect())
	if err != nil {
		return State{}, err
	}
	for i, q := range steps {
		for _, stmt := range dl.statements(q) {
			if _, err := db.ExecContext(ctx, stmt, dl.timeArg(asof)); err != nil {
				return State{}, fmt.Errorf("transform step %s: %w", names[i], err)
			}
		}
	}
	w, ok := st.(RowWriter)
	if !ok {
		return State{}, fmt.Errorf("store %s cannot write computed facts", st.Dialect())
	}
	if err := buildWaits(ctx, db, dl, w, cal, asof, ""); err != nil {
		return State{}, err
	}
	if err := buildFirstResponse(ctx, db, dl, w, cal, ""); err != nil {
		return State{}, err
	}
	if err := buildFunnel(ctx, db, st.Dialect(), w, cal, asof, ""); err != nil {
		return State{}, err
	}
	if err := recordDefinitions(ctx, db, st.Dialect()); err != nil {
		return State{}, err
	}
	wm, err := stateWatermark(ctx, db, st.Dialect(), cal)
	if err != nil {
		return State{}, err
	}
	s := State{AsOf: asof, Watermark: wm, BuiltAt: time.Now().UTC(), Duration: time.Since(start)}
	if err := saveState(ctx, db, dl, s); err != nil {
		return State{}, err
	}
	return s, nil
}

// buildWaits walks each case's messages in time order and records every
// waiting period: it starts at a customer message when none is unanswered
// and ends at the next bot or agent message in the case. With a scope
// (a table of case ids, incremental runs on DuckDB) only those cases'
// rows are replaced.
func buildWaits(ctx context.Context, db *sql.DB, dl dialect, w RowWriter, cal Calendars, asof time.Time, scope string) error {
	q := dl.waitsQuery
	if scope == "" {
		for _, q := range dl.createWaits {
			if _, err := db.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("creating fact_waits: %w", err)
			}
		}
	} else {
		q = scopedWaitsQuery(scope)
	}
	rows, err := db.QueryContext(ctx, q)
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
		var dts dbTime
		if err := rows.Scan(&caseID, &queue, &dts, &dir, &sender); err != nil {
			return fmt.Errorf("reading messages for waits: %w", err)
		}
		ts := dts.Time
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
	if err := clearScope(ctx, db, "fact_waits", scope); err != nil {
		return err
	}
	if err := w.WriteRows(ctx, "fact_waits", out); err != nil {
		return fmt.Errorf("writing fact_waits: %w", err)
	}
	return nil
}

// buildFirstResponse measures, per case, business time from opened to the
// first bot or agent message.
func buildFirstResponse(ctx context.Context, db *sql.DB, dl dialect, w RowWriter, cal Calendars, scope string) error {
	if scope == "" {
		for _, q := range dl.createFirstResponse {
			if _, err := db.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("creating fact_first_response: %w", err)
			}
		}
	}
	rows, err := db.QueryContext(ctx, `SELECT case_id, coalesce(queue, ''), opened_at, first_response_at
		FROM case_facts WHERE first_response_at IS NOT NULL`+inScope("case_id", scope)+` ORDER BY case_id`)
	if err != nil {
		return fmt.Errorf("reading first responses: %w", err)
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		var id, queue string
		var dOpened, dFirst dbTime
		if err := rows.Scan(&id, &queue, &dOpened, &dFirst); err != nil {
			return fmt.Errorf("reading first responses: %w", err)
		}
		opened, first := dOpened.Time, dFirst.Time
		bt := cal.BusinessTime(queue, opened, first)
		out = append(out, []any{id, nullStr(queue), opened, first, bt.Seconds()})
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading first responses: %w", err)
	}
	rows.Close()
	if err := clearScope(ctx, db, "fact_first_response", scope); err != nil {
		return err
	}
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
	dl := dialectFor(dialect)
	if _, err := db.ExecContext(ctx, dl.createDefinitions); err != nil {
		return fmt.Errorf("creating kpi_definitions: %w", err)
	}
	for _, d := range defs {
		if _, err := db.ExecContext(ctx, dl.insertDefinition,
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
	for _, t := range []string{"messages", "message_statuses", "case_events", "writebacks", "consent_events", "template_events", "actions"} {
		var n int64
		var last dbTime
		if err := db.QueryRowContext(ctx, "SELECT count(*), max(ingested_at) FROM "+t).Scan(&n, &last); err != nil {
			return "", fmt.Errorf("fingerprinting %s: %w", t, err)
		}
		parts = append(parts, fmt.Sprintf("%s=%d@%d", t, n, last.Time.UnixMilli()))
	}
	return strings.Join(parts, ";"), nil
}

func saveState(ctx context.Context, db *sql.DB, dl dialect, s State) error {
	if _, err := db.ExecContext(ctx, dl.createState); err != nil {
		return fmt.Errorf("creating transform_state: %w", err)
	}
	if _, err := db.ExecContext(ctx, dl.clearState); err != nil {
		return fmt.Errorf("saving transform state: %w", err)
	}
	if _, err := db.ExecContext(ctx, dl.insertState,
		dl.timeArg(s.AsOf), s.Watermark, dl.timeArg(s.BuiltAt), s.Duration.Milliseconds()); err != nil {
		return fmt.Errorf("saving transform state: %w", err)
	}
	return nil
}

// LoadState returns the last transform's state, or ok=false if none ran.
func LoadState(ctx context.Context, db *sql.DB) (State, bool, error) {
	var s State
	var ms int64
	var asOf, builtAt dbTime
	err := db.QueryRowContext(ctx, `SELECT as_of, watermark, built_at, duration_ms FROM transform_state`).
		Scan(&asOf, &s.Watermark, &builtAt, &ms)
	s.AsOf, s.BuiltAt = asOf.Time, builtAt.Time
	if err != nil {
		// "does not exist": DuckDB; "doesn't exist": ClickHouse.
		if err == sql.ErrNoRows || strings.Contains(err.Error(), "does not exist") || strings.Contains(err.Error(), "doesn't exist") {
			return State{}, false, nil
		}
		return State{}, false, fmt.Errorf("reading transform state: %w", err)
	}
	s.Duration = time.Duration(ms) * time.Millisecond
	return s, true, nil
}

// NewestEvent is the default cutoff: the latest event timestamp in the store.
func NewestEvent(ctx context.Context, db *sql.DB) (time.Time, error) {
	var t dbTime
	q := `SELECT max(ts) FROM (
		SELECT max(ts) AS ts FROM messages UNION ALL SELECT max(ts) FROM message_statuses
		UNION ALL SELECT max(ts) FROM case_events UNION ALL SELECT max(ts) FROM writebacks)`
	if isClickHouse(db) {
		q = dialects["clickhouse"].newestEvent
	}
	err := db.QueryRowContext(ctx, q).Scan(&t)
	if err != nil {
		return time.Time{}, fmt.Errorf("finding newest event: %w", err)
	}
	if !t.Valid {
		return time.Time{}, fmt.Errorf("the store holds no events yet: run closedloop ingest first")
	}
	return t.Time.UTC(), nil
}

// dialect holds the SQL that this package issues itself, per engine (the
// fact-building steps and the KPIs are the files under sql/ and kpis/).
type dialect struct {
	// msTimes: the engine keeps timestamps as Int64 epoch milliseconds, so
	// time parameters are passed as such (ClickHouse).
	msTimes bool
	// oneStatement: the engine runs one statement per call, so step files
	// are split on the semicolons that end their lines (ClickHouse).
	oneStatement bool

	createWaits, createFirstResponse []string
	waitsQuery                       string
	createDefinitions                string
	// insertDefinition takes name, version, dialect, sha256, kind,
	// definition, sql, then name, version, dialect, sha256 again.
	insertDefinition string
	createState      string
	clearState       string
	// insertState takes as_of, watermark, built_at, duration_ms.
	insertState string
	newestEvent string
	// unitsQuery wraps a KPI's SQL (%s) with the case's dimensions; it takes
	// from, to and cutoff as $1, $2 and $3.
	unitsQuery string
}

var dialects = map[string]dialect{
	"duckdb": {
		createWaits: []string{`CREATE OR REPLACE TABLE fact_waits (
		case_id VARCHAR, queue VARCHAR, started_at TIMESTAMP_MS, answered_at TIMESTAMP_MS,
		business_seconds DOUBLE, target_seconds DOUBLE, state VARCHAR)`},
		createFirstResponse: []string{`CREATE OR REPLACE TABLE fact_first_response (
		case_id VARCHAR, queue VARCHAR, opened_at TIMESTAMP_MS, first_response_at TIMESTAMP_MS, business_seconds DOUBLE)`},
		waitsQuery: `
		SELECT m.case_id, coalesce(c.queue, ''), m.ts, m.direction, m.sender_type
		FROM fact_messages m JOIN fact_cases c ON c.case_id = m.case_id
		ORDER BY m.case_id, m.ts, m.direction DESC`,
		createDefinitions: `CREATE TABLE IF NOT EXISTS kpi_definitions (
		name VARCHAR, version INTEGER, dialect VARCHAR, sql_sha256 VARCHAR, kind VARCHAR,
		definition VARCHAR, sql_text VARCHAR, first_seen TIMESTAMP_MS)`,
		insertDefinition: `INSERT INTO kpi_definitions
			SELECT ?, ?, ?, ?, ?, ?, ?, current_timestamp::TIMESTAMP_MS
			WHERE NOT EXISTS (SELECT 1 FROM kpi_definitions WHERE name = ? AND version = ? AND dialect = ? AND sql_sha256 = ?)`,
		createState: `CREATE TABLE IF NOT EXISTS transform_state (
		as_of TIMESTAMP_MS, watermark VARCHAR, built_at TIMESTAMP_MS, duration_ms BIGINT)`,
		clearState:  `DELETE FROM transform_state`,
		insertState: `INSERT INTO transform_state VALUES (?, ?, ?, ?)`,
		unitsQuery: `SELECT u.unit_id, coalesce(u.case_id, ''), u.period_ts, u.den, u.num, u.value, coalesce(CAST(u.detail AS VARCHAR), ''),
		coalesce(c.queue, ''), coalesce(c.category, ''), coalesce(c.workflow, '')
		FROM (%s) u LEFT JOIN fact_cases c ON c.case_id = u.case_id`,
	},
	// ClickHouse (18.16 and current): Int64 epoch-ms timestamps, no CTEs,
	// one JOIN per SELECT, explicit join strictness, INSERT … SELECT instead
	// of INSERT … VALUES (which clickhouse-go's Exec cannot send), and the
	// session setting join_use_nulls=1 (set by the store) for LEFT JOIN.
	"clickhouse": {
		msTimes:      true,
		oneStatement: true,
		createWaits: []string{`DROP TABLE IF EXISTS fact_waits`, `CREATE TABLE fact_waits (
		case_id String, queue Nullable(String), started_at Int64, answered_at Nullable(Int64),
		business_seconds Float64, target_seconds Float64, state String) ENGINE = MergeTree ORDER BY tuple()`},
		createFirstResponse: []string{`DROP TABLE IF EXISTS fact_first_response`, `CREATE TABLE fact_first_response (
		case_id String, queue Nullable(String), opened_at Int64, first_response_at Int64, business_seconds Float64)
		ENGINE = MergeTree ORDER BY tuple()`},
		waitsQuery: `
		SELECT w_case, ifNull(w_queue, ''), w_ts, w_direction, w_sender
		FROM (SELECT assumeNotNull(case_id) AS w_case, ts AS w_ts, direction AS w_direction, sender_type AS w_sender
		      FROM fact_messages WHERE isNotNull(case_id))
		ALL INNER JOIN (SELECT case_id AS w_case, queue AS w_queue FROM fact_cases) USING w_case
		ORDER BY w_case, w_ts, w_direction DESC`,
		createDefinitions: `CREATE TABLE IF NOT EXISTS kpi_definitions (
		name String, version Int32, dialect String, sql_sha256 String, kind String,
		definition String, sql_text String, first_seen Int64) ENGINE = TinyLog`,
		insertDefinition: `INSERT INTO kpi_definitions (name, version, dialect, sql_sha256, kind, definition, sql_text, first_seen)
			SELECT ?, ?, ?, ?, ?, ?, ?, toInt64(toUnixTimestamp(now())) * 1000
			WHERE (?, toInt32(?), ?, ?) NOT IN (SELECT name, version, dialect, sql_sha256 FROM kpi_definitions)`,
		createState: `CREATE TABLE IF NOT EXISTS transform_state (
		as_of Int64, watermark String, built_at Int64, duration_ms Int64) ENGINE = TinyLog`,
		clearState:  `TRUNCATE TABLE transform_state`,
		insertState: `INSERT INTO transform_state (as_of, watermark, built_at, duration_ms) SELECT ?, ?, ?, ?`,
		newestEvent: `SELECT if(sum(n) = 0, NULL, max(ts)) FROM (
		SELECT count() AS n, max(ts) AS ts FROM messages UNION ALL SELECT count(), max(ts) FROM message_statuses
		UNION ALL SELECT count(), max(ts) FROM case_events UNION ALL SELECT count(), max(ts) FROM writebacks)`,
		unitsQuery: `SELECT unit_id, u_case, period_ts, den, num, value, u_detail,
		ifNull(u_queue, ''), ifNull(u_category, ''), ifNull(u_workflow, '')
		FROM (SELECT unit_id, ifNull(case_id, '') AS u_case, period_ts, den, num, value, ifNull(toString(detail), '') AS u_detail
		      FROM (%s))
		ALL LEFT JOIN (SELECT case_id AS u_case, queue AS u_queue, category AS u_category, workflow AS u_workflow FROM fact_cases)
		USING u_case`,
	},
}

// dialectFor returns the SQL of an engine; DuckDB's for unknown names.
func dialectFor(name string) dialect {
	if d, ok := dialects[name]; ok {
		return d
	}
	return dialects["duckdb"]
}

// timeArg is a time parameter as the engine compares it with its columns.
func (d dialect) timeArg(t time.Time) any {
	if d.msTimes {
		return t.UnixMilli()
	}
	return t
}

// statements splits a step file into what one call may execute.
func (d dialect) statements(text string) []string {
	if !d.oneStatement {
		return []string{text}
	}
	var out []string
	var cur strings.Builder
	code := false
	for _, line := range strings.SplitAfter(text, "\n") {
		cur.WriteString(line)
		l := strings.TrimSpace(line)
		if l == "" || strings.HasPrefix(l, "--") {
			continue
		}
		code = true
		if strings.HasSuffix(l, ";") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
			code = false
		}
	}
	if code {
		out = append(out, strings.TrimSpace(cur.String()))
	}
	return out
}

// isClickHouse tells a ClickHouse database/sql handle from others.
func isClickHouse(db *sql.DB) bool {
	t := reflect.TypeOf(db.Driver())
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t != nil && strings.Contains(strings.ToLower(t.PkgPath()), "clickhouse")
}

// dbTime scans a timestamp column: a TIMESTAMP (DuckDB) or Int64 epoch
// milliseconds (ClickHouse). NULL leaves Valid false.
type dbTime struct {
	Time  time.Time
	Valid bool
}

// Scan implements sql.Scanner.
func (t *dbTime) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*t = dbTime{}
	case time.Time:
		*t = dbTime{Time: x, Valid: true}
	case int64:
		*t = dbTime{Time: time.UnixMilli(x).UTC(), Valid: true}
	case uint64:
		*t = dbTime{Time: time.UnixMilli(int64(x)).UTC(), Valid: true}
	case *int64:
		if x == nil {
			*t = dbTime{}
			return nil
		}
		*t = dbTime{Time: time.UnixMilli(*x).UTC(), Valid: true}
	default:
		return fmt.Errorf("cannot read %T as a timestamp", v)
	}
	return nil
}
