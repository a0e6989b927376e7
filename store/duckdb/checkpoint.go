package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
	return s.loadBatch(ctx, recs, func(ctx context.Context) error { return s.saveCheckpoint(ctx, file) }, true)
}

// The store keeps a load's transaction open across parts (see
// ingest.PartLoader), so that full row groups are written, compressed,
// once and a commit is cheap.
var _ ingest.PartLoader = (*Store)(nil)

// LoadPart implements ingest.PartLoader.
func (s *Store) LoadPart(ctx context.Context, recs []models.Record, file ingest.FileCheckpoint, commit bool) (map[models.Table]int, error) {
	return s.loadBatch(ctx, recs, func(ctx context.Context) error { return s.saveCheckpoint(ctx, file) }, commit)
}

// saveCheckpoint upserts a file's checkpoint (inside the load's transaction).
func (s *Store) saveCheckpoint(ctx context.Context, file ingest.FileCheckpoint) error {
	now := time.Now().UTC()
	var completed any
	if file.Completed {
		completed = now
	}
	if _, err := s.conn.ExecContext(ctx, `INSERT INTO ingest_files
			(path, source, size, mtime, sha256_prefix, docs_done, completed_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (path, source) DO UPDATE SET size = excluded.size, mtime = excluded.mtime,
			sha256_prefix = excluded.sha256_prefix, docs_done = excluded.docs_done,
			completed_at = excluded.completed_at, updated_at = excluded.updated_at`,
		file.Path, file.Source, file.Size, file.ModTime.UTC(), file.SHA256Prefix, file.DocsDone, completed, now); err != nil {
		return fmt.Errorf("storing the ingest checkpoint of %s: %w", file.Path, err)
	}
	return nil
}
