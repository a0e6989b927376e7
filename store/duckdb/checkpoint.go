package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/models"
)

// The store keeps per-file ingest checkpoints (migration 0004), which makes
// it an ingest.CheckpointLoader: an interrupted ingest resumes where its
// last committed batch ended.
var _ ingest.CheckpointLoader = (*Store)(nil)

// FileCheckpoint implements ingest.CheckpointLoader.
func (s *Store) FileCheckpoint(ctx context.Context, path, source string) (ingest.FileCheckpoint, bool, error) {
	cp := ingest.FileCheckpoint{Path: path, Source: source}
	var completed sql.NullTime
	err := s.conn.QueryRowContext(ctx, `SELECT size, mtime, sha256_prefix, docs_done, completed_at
		FROM ingest_files WHERE path = ? AND source = ?`, path, source).
		Scan(&cp.Size, &cp.ModTime, &cp.SHA256Prefix, &cp.DocsDone, &completed)
	if errors.Is(err, sql.ErrNoRows) {
		return ingest.FileCheckpoint{}, false, nil
	}
	if err != nil {
		return ingest.FileCheckpoint{}, false, fmt.Errorf("reading ingest checkpoint: %w", err)
	}
	cp.ModTime = cp.ModTime.UTC()
	cp.Completed = completed.Valid
	return cp, true, nil
}

// LoadWithCheckpoint implements ingest.CheckpointLoader: it stages recs as
// Load does, then moves the new rows and upserts the file's checkpoint in
// one transaction. A crash before the commit leaves neither; after it,
// both.
func (s *Store) LoadWithCheckpoint(ctx context.Context, recs []models.Record, file ingest.FileCheckpoint) (map[models.Table]int, error) {
	byTable := map[models.Table][]models.Record{}
	for _, r := range recs {
		byTable[r.Table()] = append(byTable[r.Table()], r)
	}
	tables := make([]models.Table, 0, len(byTable))
	for t := range byTable {
		tables = append(tables, t)
	}
	sort.Slice(tables, func(i, j int) bool { return tables[i] < tables[j] })
	for _, t := range tables {
		if err := s.stage(ctx, t, byTable[t]); err != nil {
			return nil, err
		}
	}
	added := map[models.Table]int{}
	tx, err := s.conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("starting load transaction: %w", err)
	}
	defer tx.Rollback()
	// The same statements as Load: first occurrence of an event_id wins,
	// events already stored are left alone.
	for _, t := range tables {
		cols := strings.Join(models.Columns[t], ", ")
		stage := stageName(t)
		res, err := tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %[1]s (%[2]s)
			SELECT %[2]s FROM (
				SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY rowid) AS _n FROM %[3]s
			) s
			WHERE _n = 1 AND NOT EXISTS (SELECT 1 FROM %[1]s t WHERE t.event_id = s.event_id)`, t, cols, stage))
		if err != nil {
			return nil, fmt.Errorf("moving staged %s rows: %w", t, err)
		}
		n, _ := res.RowsAffected()
		added[t] = int(n)
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+stage); err != nil {
			return nil, fmt.Errorf("clearing staged %s rows: %w", t, err)
		}
	}
	now := time.Now().UTC()
	var completed any
	if file.Completed {
		completed = now
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO ingest_files
			(path, source, size, mtime, sha256_prefix, docs_done, completed_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (path, source) DO UPDATE SET size = excluded.size, mtime = excluded.mtime,
			sha256_prefix = excluded.sha256_prefix, docs_done = excluded.docs_done,
			completed_at = excluded.completed_at, updated_at = excluded.updated_at`,
		file.Path, file.Source, file.Size, file.ModTime.UTC(), file.SHA256Prefix, file.DocsDone, completed, now); err != nil {
		return nil, fmt.Errorf("storing the ingest checkpoint of %s: %w", file.Path, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("committing load: %w", err)
	}
	return added, nil
}
