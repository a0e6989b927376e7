package transforms

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/closedloop/closedloop/store"
)

// Incremental transforms (DuckDB).
//
// After new events are ingested, or when the cutoff moves forward, most
// cases' facts do not change. Update recomputes only the cases that can
// have changed and replaces their rows in every fact table (DELETE, then
// INSERT of the recomputed rows), with the same SQL step files and the
// same Go code as a full Run, so the facts are identical to a rebuild
// (transforms/incremental_test.go checks every fact table row for row and
// every KPI figure).
//
// The affected cases are:
//   - cases with raw rows ingested after the last build, or with events in
//     (old cutoff, new cutoff]: case events, messages, actions; the cases of
//     messages whose statuses changed; the cases of writebacks sharing an
//     idempotency key with a changed writeback;
//   - every case of those cases' customers (and of the customers of new
//     messages): a message without a case joins its customer's open case,
//     so a change to one of a customer's cases can move her messages;
//   - cases with an unanswered wait: its business time runs to the cutoff.
//
// Each SQL step runs on one connection with search_path "_incr,main": its
// driving input is shadowed by a copy in schema _incr holding only the
// affected keys' rows, every other table it reads is the current full
// table in main, and its output table lands in _incr, from where it
// replaces the affected keys' rows in main before the next step runs.
// The previous state is compatible when it was built with the same step
// SQL, calendars and funnel settings, for a cutoff not after the new one,
// and the raw tables only gained rows since (by ingested_at); otherwise,
// or with full set, Update runs a full Run.

// incrSchema holds an incremental run's scope and partial facts.
const incrSchema = "_incr"

// incrStep says how one fact-building SQL file is run on a scope.
type incrStep struct {
	output string // the table the file creates
	key    string // its key column
	keys   string // the _incr table holding the affected keys (column key)
	// shadows are the inputs replaced by their affected rows: table → filter.
	shadows [][2]string
}

// incrSteps covers every DuckDB step file; a file not listed here (a new
// step) makes Update fall back to a full run.
var incrSteps = map[string]incrStep{
	"10_cases.sql": {output: "fact_cases", key: "case_id", keys: "cases",
		shadows: [][2]string{{"case_events", "case_id IN (SELECT case_id FROM _incr.cases)"}}},
	"20_messages.sql": {output: "fact_messages", key: "message_id", keys: "msgs",
		shadows: [][2]string{
			{"messages", "message_id IN (SELECT message_id FROM _incr.msgs)"},
			{"case_events", "case_id IN (SELECT case_id FROM _incr.cases)"},
		}},
	"30_statuses.sql": {output: "fact_message_status", key: "message_id", keys: "stmsgs",
		shadows: [][2]string{{"message_statuses", "message_id IN (SELECT message_id FROM _incr.stmsgs)"}}},
	"40_case_messages.sql": {output: "fact_case_messages", key: "case_id", keys: "cases",
		shadows: [][2]string{{"fact_messages", "case_id IN (SELECT case_id FROM _incr.cases)"}}},
	"50_writebacks.sql": {output: "fact_writebacks", key: "writeback_key", keys: "wbkeys",
		shadows: [][2]string{{"writebacks", "coalesce(idempotency_key, writeback_id) IN (SELECT writeback_key FROM _incr.wbkeys)"}}},
	"60_case_final.sql": {output: "case_facts", key: "case_id", keys: "cases",
		shadows: [][2]string{{"fact_cases", "case_id IN (SELECT case_id FROM _incr.cases)"}}},
}

// incrRawTables are the raw tables whose growth an incremental run follows
// (the others in the watermark feed no fact table).
var incrRawTables = []string{"case_events", "messages", "message_statuses", "writebacks", "actions"}

// Update brings the facts to the cutoff asof: incrementally when the
// previous build is compatible (see above) and full is false, else with a
// full Run. State.Incremental tells which happened.
func Update(ctx context.Context, st store.Store, cal Calendars, asof time.Time, full bool) (State, error) {
	if !full {
		s, ok, err := runIncremental(ctx, st, cal, asof)
		if err != nil || ok {
			return s, err
		}
	}
	return Run(ctx, st, cal, asof)
}

// watermarkParts splits a state watermark into the raw tables' count and
// newest ingest (ms) and the rest (SQL digest, calendars, funnel settings).
func watermarkParts(wm string) (map[string][2]int64, []string, bool) {
	raw := map[string][2]int64{}
	var rest []string
	for _, p := range strings.Split(wm, ";") {
		name, v, ok := strings.Cut(p, "=")
		if !ok {
			return nil, nil, false
		}
		n, ms, isRaw := strings.Cut(v, "@")
		if !isRaw {
			rest = append(rest, p)
			continue
		}
		c, err1 := strconv.ParseInt(n, 10, 64)
		m, err2 := strconv.ParseInt(ms, 10, 64)
		if err1 != nil || err2 != nil {
			rest = append(rest, p)
			continue
		}
		raw[name] = [2]int64{c, m}
	}
	return raw, rest, true
}

// errIncompatible says why the previous build cannot be updated.
var errIncompatible = errors.New("previous facts cannot be updated incrementally")

// runIncremental updates the facts, or reports ok=false (and no error)
// when a full run is needed.
func runIncremental(ctx context.Context, st store.Store, cal Calendars, asof time.Time) (State, bool, error) {
	start := time.Now()
	asof = asof.UTC().Truncate(time.Millisecond)
	if st.Dialect() != "duckdb" {
		return State{}, false, nil
	}
	w, ok := st.(RowWriter)
	if !ok {
		return State{}, false, nil
	}
	db := st.DB()
	prev, ok, err := LoadState(ctx, db)
	if err != nil || !ok || prev.AsOf.After(asof) {
		return State{}, false, err
	}
	names, steps, err := transformSteps(st.Dialect())
	if err != nil {
		return State{}, false, err
	}
	for _, n := range names {
		if _, known := incrSteps[n]; !known {
			return State{}, false, nil
		}
	}
	wmNow, err := stateWatermark(ctx, db, st.Dialect(), cal)
	if err != nil {
		return State{}, false, err
	}
	oldRaw, oldRest, ok1 := watermarkParts(prev.Watermark)
	_, newRest, ok2 := watermarkParts(wmNow)
	if !ok1 || !ok2 || strings.Join(oldRest, ";") != strings.Join(newRest, ";") {
		return State{}, false, nil
	}
	if prev.AsOf.Equal(asof) && wmNow == prev.Watermark {
		return prev, true, nil // nothing to do
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return State{}, false, err
	}
	defer conn.Close()
	newest := map[string]time.Time{}
	for _, t := range incrRawTables {
		o, ok := oldRaw[t]
		if !ok {
			return State{}, false, nil
		}
		// Only growth is followed: every row the previous build saw must
		// still be there, and no row may have arrived stamped before it.
		mx := time.UnixMilli(o[1]).UTC()
		var before int64
		if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM "+t+" WHERE ingested_at <= ?", mx).Scan(&before); err != nil {
			return State{}, false, fmt.Errorf("checking %s for an incremental transform: %w", t, err)
		}
		if before != o[0] {
			return State{}, false, nil
		}
		newest[t] = mx
	}
	for _, t := range []string{"fact_cases", "fact_messages", "fact_message_status", "fact_case_messages", "fact_writebacks",
		"case_facts", "fact_waits", "fact_first_response", "fact_funnel", "fact_case_costs"} {
		var n int
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = ?`, t).Scan(&n); err != nil {
			return State{}, false, err
		}
		if n == 0 {
			return State{}, false, nil
		}
	}

	// From here on the facts are being changed: a crash or an error leaves
	// no state, so the next run rebuilds them in full.
	dl := dialectFor(st.Dialect())
	if _, err := db.ExecContext(ctx, dl.createState); err != nil {
		return State{}, false, err
	}
	if _, err := db.ExecContext(ctx, dl.clearState); err != nil {
		return State{}, false, err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "DROP SCHEMA IF EXISTS "+incrSchema+" CASCADE") //nolint:errcheck // scratch space
	affected, err := incrScope(ctx, conn, prev.AsOf, asof, newest)
	if err != nil {
		return State{}, true, err
	}
	if err := incrSQLSteps(ctx, conn, names, steps, asof); err != nil {
		return State{}, true, err
	}
	scope := incrSchema + ".cases"
	if err := buildWaits(ctx, db, dl, w, cal, asof, scope); err != nil {
		return State{}, true, err
	}
	if err := buildFirstResponse(ctx, db, dl, w, cal, scope); err != nil {
		return State{}, true, err
	}
	if err := buildFunnel(ctx, db, st.Dialect(), w, cal, asof, scope); err != nil {
		return State{}, true, err
	}
	if err := recordDefinitions(ctx, db, st.Dialect()); err != nil {
		return State{}, true, err
	}
	wm, err := stateWatermark(ctx, db, st.Dialect(), cal)
	if err != nil {
		return State{}, true, err
	}
	s := State{AsOf: asof, Watermark: wm, BuiltAt: time.Now().UTC(), Duration: time.Since(start),
		Incremental: true, Cases: affected}
	if err := saveState(ctx, db, dl, s); err != nil {
		return State{}, true, err
	}
	return s, true, nil
}

// incrScope fills _incr.cases, _incr.msgs, _incr.stmsgs and _incr.wbkeys
// (see the package comment above) and returns the number of cases.
func incrScope(ctx context.Context, conn *sql.Conn, t0, t1 time.Time, newest map[string]time.Time) (int64, error) {
	changed := func(t string) string {
		// Raw rows the previous build did not see, or whose time the
		// previous cutoff left out and the new one takes in.
		return fmt.Sprintf("(ingested_at > TIMESTAMP '%s' OR (ts > TIMESTAMP '%s' AND ts <= TIMESTAMP '%s'))",
			sqlTime(newest[t]), sqlTime(t0), sqlTime(t1))
	}
	stmts := []string{
		"DROP SCHEMA IF EXISTS " + incrSchema + " CASCADE",
		"CREATE SCHEMA " + incrSchema,
		`CREATE TABLE _incr.new_ce AS SELECT DISTINCT case_id, customer_id FROM main.case_events WHERE ` + changed("case_events"),
		`CREATE TABLE _incr.new_msg AS SELECT DISTINCT message_id, case_id, customer_id FROM main.messages WHERE ` + changed("messages"),
		`CREATE TABLE _incr.stmsgs AS SELECT DISTINCT message_id FROM main.message_statuses WHERE ` + changed("message_statuses"),
		`CREATE TABLE _incr.wbkeys AS SELECT DISTINCT coalesce(idempotency_key, writeback_id) AS writeback_key FROM main.writebacks WHERE ` + changed("writebacks"),
		`CREATE TABLE _incr.new_act AS SELECT DISTINCT case_id FROM main.actions WHERE ` + changed("actions"),
		`CREATE TABLE _incr.base AS
			SELECT case_id FROM _incr.new_ce
			UNION SELECT case_id FROM _incr.new_msg WHERE case_id IS NOT NULL
			UNION SELECT f.case_id FROM main.fact_messages f
				WHERE f.case_id IS NOT NULL AND f.message_id IN (SELECT message_id FROM _incr.new_msg UNION SELECT message_id FROM _incr.stmsgs)
			UNION SELECT m.case_id FROM main.messages m
				WHERE m.case_id IS NOT NULL AND m.message_id IN (SELECT message_id FROM _incr.stmsgs)
			UNION SELECT case_id FROM main.writebacks
				WHERE case_id IS NOT NULL AND coalesce(idempotency_key, writeback_id) IN (SELECT writeback_key FROM _incr.wbkeys)
			UNION SELECT case_id FROM main.fact_writebacks
				WHERE case_id IS NOT NULL AND writeback_key IN (SELECT writeback_key FROM _incr.wbkeys)
			UNION SELECT case_id FROM _incr.new_act
			UNION SELECT case_id FROM main.fact_waits WHERE answered_at IS NULL`,
		`CREATE TABLE _incr.customers AS
			SELECT customer_id FROM main.fact_cases
				WHERE customer_id IS NOT NULL AND case_id IN (SELECT case_id FROM _incr.base)
			UNION SELECT customer_id FROM main.case_events
				WHERE customer_id IS NOT NULL AND case_id IN (SELECT case_id FROM _incr.base)
			UNION SELECT customer_id FROM _incr.new_msg WHERE customer_id IS NOT NULL
			UNION SELECT f.customer_id FROM main.fact_messages f
				WHERE f.customer_id IS NOT NULL AND f.message_id IN (SELECT message_id FROM _incr.new_msg)`,
		`CREATE TABLE _incr.cases AS
			SELECT case_id FROM _incr.base WHERE case_id IS NOT NULL
			UNION SELECT case_id FROM main.fact_cases WHERE customer_id IN (SELECT customer_id FROM _incr.customers)
			UNION SELECT case_id FROM main.case_events WHERE customer_id IN (SELECT customer_id FROM _incr.customers)`,
		`CREATE TABLE _incr.msgs AS
			SELECT message_id FROM main.messages
				WHERE case_id IN (SELECT case_id FROM _incr.cases) OR customer_id IN (SELECT customer_id FROM _incr.customers)
			UNION SELECT message_id FROM _incr.new_msg
			UNION SELECT message_id FROM main.fact_messages
				WHERE case_id IN (SELECT case_id FROM _incr.cases) OR customer_id IN (SELECT customer_id FROM _incr.customers)`,
	}
	for _, q := range stmts {
		t := time.Now()
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return 0, fmt.Errorf("finding the cases to update: %w", err)
		}
		traceStep(q, t)
	}
	var n int64
	err := conn.QueryRowContext(ctx, "SELECT count(*) FROM _incr.cases").Scan(&n)
	return n, err
}

// incrSQLSteps runs the step files on the scope and replaces the affected
// rows of each output table.
func incrSQLSteps(ctx context.Context, conn *sql.Conn, names, steps []string, asof time.Time) error {
	if _, err := conn.ExecContext(ctx, "SET search_path = '"+incrSchema+",main'"); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "RESET search_path") //nolint:errcheck // the connection goes back to the pool
	for i, q := range steps {
		sp := incrSteps[names[i]]
		for _, sh := range sp.shadows {
			t := time.Now()
			if _, err := conn.ExecContext(ctx, fmt.Sprintf(`CREATE OR REPLACE TABLE %s.%s AS SELECT * FROM main.%s WHERE %s`,
				incrSchema, sh[0], sh[0], sh[1])); err != nil {
				return fmt.Errorf("transform step %s: scoping %s: %w", names[i], sh[0], err)
			}
			traceStep("shadow "+sh[0], t)
		}
		t := time.Now()
		if _, err := conn.ExecContext(ctx, q, asof); err != nil {
			return fmt.Errorf("transform step %s: %w", names[i], err)
		}
		traceStep(names[i], t)
		keys := fmt.Sprintf("(SELECT %s FROM %s.%s)", sp.key, incrSchema, sp.keys)
		for _, m := range []string{
			fmt.Sprintf(`DELETE FROM main.%s WHERE %s IN %s`, sp.output, sp.key, keys),
			fmt.Sprintf(`INSERT INTO main.%[1]s SELECT * FROM %[2]s.%[1]s WHERE %[3]s IN %[4]s`, sp.output, incrSchema, sp.key, keys),
			fmt.Sprintf(`DROP TABLE %s.%s`, incrSchema, sp.output),
		} {
			t := time.Now()
			if _, err := conn.ExecContext(ctx, m); err != nil {
				return fmt.Errorf("transform step %s: replacing rows of %s: %w", names[i], sp.output, err)
			}
			traceStep(m, t)
		}
		for _, sh := range sp.shadows {
			if _, err := conn.ExecContext(ctx, fmt.Sprintf(`DROP TABLE %s.%s`, incrSchema, sh[0])); err != nil {
				return err
			}
		}
	}
	return nil
}

// sqlTime is a timestamp literal (UTC, milliseconds).
func sqlTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000") }

// inScope is " AND col IN (SELECT case_id FROM scope)", or "" without a scope.
func inScope(col, scope string) string {
	if scope == "" {
		return ""
	}
	return " AND " + col + " IN (SELECT case_id FROM " + scope + ")"
}

// clearScope deletes a fact table's rows of the scope's cases before their
// recomputed rows are written (nothing without a scope: the table is new).
func clearScope(ctx context.Context, db *sql.DB, table, scope string) error {
	if scope == "" {
		return nil
	}
	if _, err := db.ExecContext(ctx, "DELETE FROM "+table+" WHERE case_id IN (SELECT case_id FROM "+scope+")"); err != nil {
		return fmt.Errorf("replacing rows of %s: %w", table, err)
	}
	return nil
}

// scopedWaitsQuery is DuckDB's waits query restricted to a scope's cases.
func scopedWaitsQuery(scope string) string {
	return `
		SELECT m.case_id, coalesce(c.queue, ''), m.ts, m.direction, m.sender_type
		FROM fact_messages m JOIN fact_cases c ON c.case_id = m.case_id
		WHERE m.case_id IN (SELECT case_id FROM ` + scope + `)
		ORDER BY m.case_id, m.ts, m.direction DESC`
}

// traceStep prints a statement's time when $CLOSEDLOOP_TRANSFORM_TRACE is set.
func traceStep(what string, start time.Time) {
	if os.Getenv("CLOSEDLOOP_TRANSFORM_TRACE") == "" {
		return
	}
	what = strings.Join(strings.Fields(what), " ")
	if len(what) > 90 {
		what = what[:90]
	}
	fmt.Fprintf(os.Stderr, "%8.3fs %s\n", time.Since(start).Seconds(), what)
}
