package duckdb

import (
	"context"
	"database/sql/driver"
	"fmt"
	"sort"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/closedloop/closedloop/models"
)

// How a batch is loaded (Load, LoadWithCheckpoint and LoadPart):
//
//  1. In Go, the batch is split by table and reduced to the first
//     occurrence of each event (by its dedup key, keys.go).
//  2. In one transaction on the store's connection: the batch's dedup
//     keys (keys.go) go through the Appender into a temp table, and one
//     semi join per table finds the keys already in event_keys_<table>.
//     DuckDB builds its hash table on the batch side (RIGHT_SEMI) and
//     streams the stored keys past it: one scan of 16 bytes per stored
//     event and no memory that grows with the table.
//  3. The new rows are appended straight to the raw tables and their keys
//     to the key tables (no staging copy, no window function, no anti join
//     over the rows), then the caller's extra statements run (the file
//     checkpoint), then COMMIT. Any error rolls everything back, the temp
//     keys included.

// probeTable holds the dedup keys of the batch being loaded.
const probeTable = "_load_keys"

// loadBatch writes recs as described above; extra, when not nil, runs in
// the same transaction. With commit false the transaction stays open for
// the next call (LoadPart); any other write to the store, Flush and Close
// commit it first.
func (s *Store) loadBatch(ctx context.Context, recs []models.Record, extra func(ctx context.Context) error, commit bool) (map[models.Table]int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	byTable, keys, tables := splitFirst(recs)
	added := map[models.Table]int{}
	if err := ctx.Err(); err != nil {
		s.rollbackLocked(ctx)
		return nil, err
	}
	if !s.inTx {
		if _, err := s.conn.ExecContext(ctx, `CREATE TEMP TABLE IF NOT EXISTS `+probeTable+` (tbl VARCHAR, k1 UBIGINT, k2 UBIGINT)`); err != nil {
			return nil, fmt.Errorf("creating the load's id table: %w", err)
		}
		if _, err := s.conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
			return nil, fmt.Errorf("starting load transaction: %w", err)
		}
		s.inTx = true
	}
	ok := false
	defer func() {
		if !ok {
			s.rollbackLocked(ctx)
		}
	}()
	stored, err := s.storedKeys(ctx, keys, tables)
	if err != nil {
		return nil, err
	}
	for _, t := range tables {
		rs, ks := byTable[t], keys[t]
		if dup := stored[t]; len(dup) > 0 {
			fresh, freshKeys := rs[:0:0], ks[:0:0]
			for i, r := range rs {
				if !dup[ks[i]] {
					fresh, freshKeys = append(fresh, r), append(freshKeys, ks[i])
				}
			}
			rs, ks = fresh, freshKeys
		}
		if err := s.appendRows(ctx, "main", string(t), len(models.Columns[t]), rs); err != nil {
			return nil, err
		}
		if err := s.appendKeys(ctx, t, ks); err != nil {
			return nil, err
		}
		added[t] = len(rs)
	}
	if extra != nil {
		if err := extra(ctx); err != nil {
			return nil, err
		}
	}
	if commit {
		if err := s.commitLocked(ctx); err != nil {
			return nil, err
		}
	}
	ok = true
	return added, nil
}

// Flush commits a load transaction left open by LoadPart.
func (s *Store) Flush(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commitLocked(ctx)
}

func (s *Store) commitLocked(ctx context.Context) error {
	if !s.inTx {
		return nil
	}
	s.inTx = false
	if _, err := s.conn.ExecContext(ctx, "COMMIT"); err != nil {
		s.conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK") //nolint:errcheck // the commit failed: nothing was stored
		return fmt.Errorf("committing load: %w", err)
	}
	return nil
}

// rollbackLocked drops an open load transaction; a cancelled ctx must not
// keep it open.
func (s *Store) rollbackLocked(ctx context.Context) {
	if !s.inTx {
		return
	}
	s.inTx = false
	s.conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK") //nolint:errcheck // nothing more to do
}

// splitFirst groups recs by table, keeping the first record of each event
// (by its dedup key), and returns each kept record's key beside it and the
// tables in name order.
func splitFirst(recs []models.Record) (map[models.Table][]models.Record, map[models.Table][]eventKey, []models.Table) {
	byTable := map[models.Table][]models.Record{}
	keys := map[models.Table][]eventKey{}
	seen := map[models.Table]map[eventKey]struct{}{}
	for _, r := range recs {
		t := r.Table()
		ks := seen[t]
		if ks == nil {
			ks = make(map[eventKey]struct{}, len(recs))
			seen[t] = ks
		}
		k := keyOf(r.Base().EventID)
		if _, dup := ks[k]; dup {
			continue
		}
		ks[k] = struct{}{}
		byTable[t] = append(byTable[t], r)
		keys[t] = append(keys[t], k)
	}
	tables := make([]models.Table, 0, len(byTable))
	for t := range byTable {
		tables = append(tables, t)
	}
	sort.Slice(tables, func(i, j int) bool { return tables[i] < tables[j] })
	return byTable, keys, tables
}

// storedKeys returns, per table, the batch's keys already stored.
func (s *Store) storedKeys(ctx context.Context, keys map[models.Table][]eventKey, tables []models.Table) (map[models.Table]map[eventKey]bool, error) {
	if _, err := s.conn.ExecContext(ctx, "DELETE FROM "+probeTable); err != nil {
		return nil, fmt.Errorf("clearing the load's key table: %w", err)
	}
	err := s.conn.Raw(func(dc any) error {
		app, err := duckdb.NewAppender(dc.(driver.Conn), "temp", "main", probeTable)
		if err != nil {
			return fmt.Errorf("opening appender for the load's keys: %w", err)
		}
		for _, t := range tables {
			name := string(t)
			for i, k := range keys[t] {
				if i%8192 == 0 && ctx.Err() != nil {
					app.Close()
					return ctx.Err()
				}
				if err := app.AppendRow(name, k.k1, k.k2); err != nil {
					app.Close()
					return fmt.Errorf("appending the load's keys: %w", err)
				}
			}
		}
		if err := app.Close(); err != nil {
			return fmt.Errorf("flushing the load's keys: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := map[models.Table]map[eventKey]bool{}
	for _, t := range tables {
		// The batch side is the small one: DuckDB builds on it and scans
		// the stored keys once (RIGHT_SEMI).
		rows, err := s.conn.QueryContext(ctx, fmt.Sprintf(`SELECT p.k1, p.k2 FROM %s p
			WHERE p.tbl = '%s' AND EXISTS (SELECT 1 FROM main.%s t WHERE t.k1 = p.k1 AND t.k2 = p.k2)`, probeTable, t, keyTable(t)))
		if err != nil {
			return nil, fmt.Errorf("looking up stored %s event keys: %w", t, err)
		}
		for rows.Next() {
			var k eventKey
			if err := rows.Scan(&k.k1, &k.k2); err != nil {
				rows.Close()
				return nil, fmt.Errorf("looking up stored %s event keys: %w", t, err)
			}
			if out[t] == nil {
				out[t] = map[eventKey]bool{}
			}
			out[t][k] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("looking up stored %s event keys: %w", t, err)
		}
	}
	return out, nil
}

// appendKeys adds the keys of newly stored events to the table's key table.
func (s *Store) appendKeys(ctx context.Context, t models.Table, keys []eventKey) error {
	if len(keys) == 0 {
		return nil
	}
	return s.conn.Raw(func(dc any) error {
		app, err := duckdb.NewAppender(dc.(driver.Conn), "", "main", keyTable(t))
		if err != nil {
			return fmt.Errorf("opening appender for %s: %w", keyTable(t), err)
		}
		for i, k := range keys {
			if i%8192 == 0 && ctx.Err() != nil {
				app.Close()
				return ctx.Err()
			}
			if err := app.AppendRow(k.k1, k.k2); err != nil {
				app.Close()
				return fmt.Errorf("appending %s: %w", keyTable(t), err)
			}
		}
		if err := app.Close(); err != nil {
			return fmt.Errorf("flushing appender for %s: %w", keyTable(t), err)
		}
		return nil
	})
}

// appendRows appends records to schema.table through the Appender, in the
// table's column order (models.Columns).
func (s *Store) appendRows(ctx context.Context, schema, table string, ncol int, recs []models.Record) error {
	if len(recs) == 0 {
		return nil
	}
	return s.conn.Raw(func(dc any) error {
		app, err := duckdb.NewAppender(dc.(driver.Conn), "", schema, table)
		if err != nil {
			return fmt.Errorf("opening appender for %s: %w", table, err)
		}
		vals := make([]driver.Value, ncol)
		for i, r := range recs {
			if i%4096 == 0 && ctx.Err() != nil {
				app.Close()
				return ctx.Err()
			}
			for j, v := range r.Values() {
				vals[j] = v
			}
			if err := app.AppendRow(vals...); err != nil {
				app.Close()
				return fmt.Errorf("appending %s row %s: %w", table, r.Base().SourceRef, err)
			}
		}
		if err := app.Close(); err != nil {
			return fmt.Errorf("flushing appender for %s: %w", table, err)
		}
		return nil
	})
}
