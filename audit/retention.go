package audit

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/closedloop/closedloop/models"
	"github.com/closedloop/closedloop/store"
)

// RetentionOptions configure ApplyRetention.
type RetentionOptions struct {
	Cutoff time.Time // events with ts (rejects: ingested_at) before it are deleted
	MaxAge string    // as given, recorded in the audit log
	Actor  string
	Role   string
	DryRun bool // count only: nothing is deleted or recorded
}

// RetentionResult says what retention deleted.
type RetentionResult struct {
	Cutoff  time.Time
	Deleted map[models.Table]int
	Total   int
	DryRun  bool
	Link    Link // the retention.apply record (not for dry runs)
}

// retentionTables are the tables retention deletes from, with the column
// that dates a row. audit_events is never deleted: the chain stays whole.
func retentionTables() []models.Table {
	var out []models.Table
	for _, t := range models.EventTables {
		if t != models.TableAuditEvents {
			out = append(out, t)
		}
	}
	out = append(out, models.TableRejects)
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func dateColumn(t models.Table) string {
	if t == models.TableRejects {
		return "ingested_at"
	}
	return "ts"
}

// ApplyRetention deletes the events older than opt.Cutoff from every event
// table except audit_events (and rejects by ingestion time). Each deleted
// row leaves a tombstone (table_name, event_id, ts, leaf_hash, deleted_at)
// whose leaf_hash is the row's Merkle leaf as an evidence bundle computes
// it, so bundles made before the deletion can still be matched against the
// store. Tombstones and deletions happen in one transaction; the run is
// then recorded in the audit log (action retention.apply).
func ApplyRetention(ctx context.Context, st store.Store, opt RetentionOptions) (*RetentionResult, error) {
	res := &RetentionResult{Cutoff: models.UTCms(opt.Cutoff), Deleted: map[models.Table]int{}, DryRun: opt.DryRun}
	db := st.DB()
	cutoff := tsLit(res.Cutoff)
	if opt.DryRun {
		for _, t := range retentionTables() {
			var n int
			if err := db.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM %s WHERE %s < %s", t, dateColumn(t), cutoff)).Scan(&n); err != nil {
				return nil, fmt.Errorf("counting %s: %w", t, err)
			}
			res.Deleted[t] = n
			res.Total += n
		}
		return res, nil
	}
	deletedAt := models.UTCms(now())
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("retention: %w", err)
	}
	defer tx.Rollback()
	for _, t := range retentionTables() {
		cols := models.Columns[t]
		dc := dateColumn(t)
		rows, err := tx.QueryContext(ctx, fmt.Sprintf("SELECT %s FROM %s WHERE %s < %s", strings.Join(cols, ", "), t, dc, cutoff))
		if err != nil {
			return nil, fmt.Errorf("retention: reading %s: %w", t, err)
		}
		var stones [][]any
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		idCol, dCol := indexOf(cols, "event_id"), indexOf(cols, dc)
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return nil, fmt.Errorf("retention: reading %s: %w", t, err)
			}
			cells := make([]string, len(cols))
			for i, v := range vals {
				cells[i] = RenderValue(v)
			}
			leaf, err := RowLeaf(string(t), cols, cells)
			if err != nil {
				rows.Close()
				return nil, err
			}
			stones = append(stones, []any{string(t), cells[idCol], vals[dCol], leaf.String(), deletedAt})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("retention: reading %s: %w", t, err)
		}
		const batch = 200
		for i := 0; i < len(stones); i += batch {
			end := min(i+batch, len(stones))
			var ph []string
			var args []any
			for _, s := range stones[i:end] {
				ph = append(ph, "(?, ?, ?, ?, ?)")
				args = append(args, s...)
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO tombstones (table_name, event_id, ts, leaf_hash, deleted_at) VALUES "+strings.Join(ph, ", "), args...); err != nil {
				return nil, fmt.Errorf("retention: writing tombstones for %s: %w", t, err)
			}
		}
		r, err := tx.ExecContext(ctx, fmt.Sprintf("DELETE FROM %s WHERE %s < %s", t, dc, cutoff))
		if err != nil {
			return nil, fmt.Errorf("retention: deleting from %s: %w", t, err)
		}
		if n, err := r.RowsAffected(); err == nil && int(n) != len(stones) {
			return nil, fmt.Errorf("retention: %s: deleted %d rows but tombstoned %d; nothing was changed", t, n, len(stones))
		}
		res.Deleted[t] = len(stones)
		res.Total += len(stones)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("retention: %w", err)
	}
	deleted := map[string]any{}
	for t, n := range res.Deleted {
		deleted[string(t)] = n
	}
	link, err := AppendLink(ctx, st, opt.Actor, opt.Role, "retention.apply", "store", "", map[string]any{
		"cutoff":     FormatTime(res.Cutoff),
		"max_age":    opt.MaxAge,
		"deleted":    deleted,
		"total":      res.Total,
		"tombstones": "tombstones",
		"deleted_at": FormatTime(deletedAt),
	})
	if err != nil {
		return res, fmt.Errorf("retention done but not recorded in the audit log: %w", err)
	}
	res.Link = link
	return res, nil
}
