package duckdb

import (
	"context"
	"database/sql/driver"
	"fmt"
	"sort"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/closedloop/closedloop/models"
)

// pullTables are the tables the pull collectors write besides the event
// tables (migration 0003_collectors.sql): a record bound for one of them
// replaces the stored row with the same key. Records give their values in
// the table's column order.
var pullTables = map[models.Table][]string{
	"collector_freshness":    {"collector"},
	"template_metrics_daily": {"template_id", "day"},
	"template_changes":       {"event_id"},
}

// LoadWithState loads recs like Load (event tables keep the first row of
// each event_id; pull tables replace rows by key) and, in the same
// transaction, upserts the collector's rows of collector_state (an empty
// value deletes the key). Either all of it is stored or none: a pull
// collector's cursor can never run ahead of, or lag behind, its rows.
func (s *Store) LoadWithState(ctx context.Context, collector string, recs []models.Record, state map[string]string) (map[models.Table]int, error) {
	if collector == "" {
		return nil, fmt.Errorf("storing collector state: no collector name")
	}
	if err := s.Flush(ctx); err != nil {
		return nil, err
	}
	byTable := map[models.Table][]models.Record{}
	for _, r := range recs {
		t := r.Table()
		if _, ok := models.Columns[t]; !ok {
			if _, ok := pullTables[t]; !ok {
				return nil, fmt.Errorf("storing collector %s rows: unknown table %s", collector, t)
			}
		}
		byTable[t] = append(byTable[t], r)
	}
	tables := make([]models.Table, 0, len(byTable))
	for t := range byTable {
		tables = append(tables, t)
	}
	sort.Slice(tables, func(i, j int) bool { return tables[i] < tables[j] })
	for _, t := range tables {
		var err error
		if _, pull := pullTables[t]; pull {
			err = s.stagePull(ctx, t, byTable[t])
		} else {
			err = s.stage(ctx, t, byTable[t])
		}
		if err != nil {
			s.clearStages(ctx, tables)
			return nil, err
		}
	}

	added := map[models.Table]int{}
	tx, err := s.conn.BeginTx(ctx, nil)
	if err != nil {
		s.clearStages(ctx, tables)
		return nil, fmt.Errorf("starting collector %s transaction: %w", collector, err)
	}
	defer tx.Rollback()
	// fail rolls back first: the staging tables are emptied outside the
	// aborted transaction.
	fail := func(err error) (map[models.Table]int, error) {
		tx.Rollback()
		s.clearStages(ctx, tables)
		return nil, err
	}
	for _, t := range tables {
		stage := stageName(t)
		var q string
		if keys, pull := pullTables[t]; pull {
			k := strings.Join(keys, ", ")
			match := make([]string, len(keys))
			for i, c := range keys {
				match[i] = fmt.Sprintf("s.%[1]s = t.%[1]s", c)
			}
			if _, err := tx.ExecContext(ctx, fmt.Sprintf(`DELETE FROM %[1]s t WHERE EXISTS (SELECT 1 FROM %[2]s s WHERE %[3]s)`,
				t, stage, strings.Join(match, " AND "))); err != nil {
				return fail(fmt.Errorf("replacing %s rows: %w", t, err))
			}
			q = fmt.Sprintf(`INSERT INTO %[1]s SELECT * EXCLUDE (_n) FROM (
				SELECT *, row_number() OVER (PARTITION BY %[2]s ORDER BY rowid DESC) AS _n FROM %[3]s) WHERE _n = 1`, t, k, stage)
		} else {
			// The new rows (first of each event_id, key not stored) are
			// marked in the stage, then moved with their keys.
			cols := strings.Join(models.Columns[t], ", ")
			k1, k2 := sqlKeys("event_id")
			if _, err := tx.ExecContext(ctx, fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE _new_keys AS
				SELECT event_id, %[1]s AS k1, %[2]s AS k2, min(rowid) AS first FROM %[3]s GROUP BY event_id`, k1, k2, stage)); err != nil {
				return fail(fmt.Errorf("keying staged %s rows: %w", t, err))
			}
			if _, err := tx.ExecContext(ctx, fmt.Sprintf(`DELETE FROM _new_keys n
				WHERE EXISTS (SELECT 1 FROM %s k WHERE k.k1 = n.k1 AND k.k2 = n.k2)`, keyTable(t))); err != nil {
				return fail(fmt.Errorf("checking staged %s rows: %w", t, err))
			}
			if _, err := tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %s SELECT k1, k2 FROM _new_keys`, keyTable(t))); err != nil {
				return fail(fmt.Errorf("storing %s keys: %w", t, err))
			}
			q = fmt.Sprintf(`INSERT INTO %[1]s (%[2]s)
				SELECT %[2]s FROM %[3]s s WHERE s.rowid IN (SELECT first FROM _new_keys)`, t, cols, stage)
		}
		res, err := tx.ExecContext(ctx, q)
		if err != nil {
			return fail(fmt.Errorf("moving staged %s rows: %w", t, err))
		}
		n, _ := res.RowsAffected()
		added[t] = int(n)
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+stage); err != nil {
			return fail(fmt.Errorf("clearing staged %s rows: %w", t, err))
		}
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	keys := make([]string, 0, len(state))
	for k := range state {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := state[k]
		var err error
		if v == "" {
			_, err = tx.ExecContext(ctx, `DELETE FROM collector_state WHERE collector = ? AND key = ?`, collector, k)
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO collector_state (collector, key, value, updated_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (collector, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, collector, k, v, now)
		}
		if err != nil {
			return fail(fmt.Errorf("storing collector %s state %q: %w", collector, k, err))
		}
	}
	if err := tx.Commit(); err != nil {
		return fail(fmt.Errorf("committing collector %s rows and state: %w", collector, err))
	}
	return added, nil
}

// clearStages empties staging tables after a failed load so that their
// rows do not join the next one.
func (s *Store) clearStages(ctx context.Context, tables []models.Table) {
	ctx = context.WithoutCancel(ctx)
	for _, t := range tables {
		s.conn.ExecContext(ctx, "DELETE FROM "+stageName(t)) //nolint:errcheck // best effort; the table may not exist yet
	}
}

// CollectorState returns a collector's committed state.
func (s *Store) CollectorState(ctx context.Context, collector string) (map[string]string, error) {
	rows, err := s.conn.QueryContext(ctx, `SELECT key, value FROM collector_state WHERE collector = ?`, collector)
	if err != nil {
		return nil, fmt.Errorf("reading collector %s state: %w", collector, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("reading collector %s state: %w", collector, err)
		}
		out[k] = v
	}
	return out, rows.Err()
}

// stagePull appends a pull table's rows to its staging table.
func (s *Store) stagePull(ctx context.Context, t models.Table, recs []models.Record) error {
	stage := stageName(t)
	if _, err := s.conn.ExecContext(ctx, fmt.Sprintf(`CREATE TEMP TABLE IF NOT EXISTS %s AS SELECT * FROM %s LIMIT 0`, stage, t)); err != nil {
		return fmt.Errorf("creating staging table for %s: %w", t, err)
	}
	return s.conn.Raw(func(dc any) error {
		app, err := duckdb.NewAppender(dc.(driver.Conn), "temp", "main", stage)
		if err != nil {
			return fmt.Errorf("opening appender for %s: %w", t, err)
		}
		for _, r := range recs {
			vals := r.Values()
			dv := make([]driver.Value, len(vals))
			for j, v := range vals {
				dv[j] = v
			}
			if err := app.AppendRow(dv...); err != nil {
				app.Close()
				return fmt.Errorf("appending %s row: %w", t, err)
			}
		}
		if err := app.Close(); err != nil {
			return fmt.Errorf("flushing appender for %s: %w", t, err)
		}
		return nil
	})
}
