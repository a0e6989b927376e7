// Package duckdb is the embedded default store: one DuckDB file that an
// analyst can open on a laptop.
package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/closedloop/closedloop/models"
	"github.com/closedloop/closedloop/store"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

func init() {
	store.Register("duckdb", func(ctx context.Context, dsn string, opt store.Options) (store.Store, error) {
		return Open(ctx, dsn, opt)
	})
}

// Store is a DuckDB-backed store.
type Store struct {
	db   *sql.DB
	conn *sql.Conn // the single writer connection (appender + dedup inserts)
	path string

	// mu guards the load transaction that LoadPart may leave open on conn.
	mu   sync.Mutex
	inTx bool
}

// MemoryLimit bounds DuckDB's buffer pool for queries (transforms, KPIs,
// packs); StreamingMemoryLimit bounds it for ingest (store.Options.Streaming),
// where the buffer pool only caches blocks being written and the dedup
// keys being scanned: measured on 3M Meta events, 128MB ingests as fast as
// 384MB (faster: less to evict) with a third less peak RSS, which keeps a
// whole ingest under 512 MiB at any input size.
var (
	MemoryLimit          = "384MB"
	StreamingMemoryLimit = "128MB"
	// StreamingAllocatorFlush makes DuckDB's allocator hand freed memory
	// back after each task during ingest rather than keep it cached.
	StreamingAllocatorFlush = "16MB"
)

// Open opens (creating if needed) the DuckDB file at path and applies
// pending migrations. DuckDB allows one writing process per file; a second
// writer gets store.ErrLocked.
func Open(ctx context.Context, path string, opt store.Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("opening DuckDB store: empty path")
	}
	limit := MemoryLimit
	if opt.Streaming {
		limit = StreamingMemoryLimit
	}
	q := []string{"memory_limit=" + limit, "threads=" + strconv.Itoa(runtime.NumCPU())}
	if opt.Streaming && StreamingAllocatorFlush != "" {
		q = append(q, "allocator_flush_threshold="+StreamingAllocatorFlush)
	}
	if opt.ReadOnly {
		q = append(q, "access_mode=READ_ONLY")
	}
	dsn := path + "?" + strings.Join(q, "&")
	connector, err := duckdb.NewConnector(dsn, nil)
	if err != nil {
		return nil, wrapOpenError(path, err)
	}
	db := sql.OpenDB(connector)
	// Loads use one dedicated connection (its temp staging tables and the
	// appender live there); queries may use others from the pool.
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, wrapOpenError(path, err)
	}
	s := &Store{db: db, conn: conn, path: path}
	if !opt.ReadOnly {
		if err := s.migrate(ctx); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

func wrapOpenError(path string, err error) error {
	msg := err.Error()
	if strings.Contains(msg, "Could not set lock") || strings.Contains(msg, "Conflicting lock") {
		return fmt.Errorf("opening %s: %w (DuckDB allows one writer per file; wait for the other run to finish): %v", path, store.ErrLocked, err)
	}
	return fmt.Errorf("opening DuckDB store %s: %w", path, err)
}

// Dialect implements store.Store.
func (s *Store) Dialect() string { return "duckdb" }

// DB implements store.Store.
func (s *Store) DB() *sql.DB { return s.db }

// Conn returns the store's single connection.
func (s *Store) Conn() *sql.Conn { return s.conn }

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Close implements store.Store.
func (s *Store) Close() error {
	var errs []error
	if s.conn != nil {
		// Rows LoadPart left uncommitted were loaded with their checkpoint:
		// keep them.
		errs = append(errs, s.Flush(context.Background()))
		errs = append(errs, s.conn.Close())
	}
	errs = append(errs, s.db.Close())
	return errors.Join(errs...)
}

// migration is one numbered schema step.
type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("listing migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number and '_'", name)
		}
		b, err := migrationFS.ReadFile("migrations/" + name)
		if err != nil {
			return nil, fmt.Errorf("reading migration %s: %w", name, err)
		}
		out = append(out, migration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// migrate applies pending migrations, each in its own transaction together
// with its row in schema_migrations.
func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)`); err != nil {
		return fmt.Errorf("creating schema_migrations: %w", err)
	}
	var current int
	if err := s.conn.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("reading schema version: %w", err)
	}
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.version <= current {
			continue
		}
		tx, err := s.conn.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("applying migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			tx.Rollback()
			return fmt.Errorf("applying migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name) VALUES (?, ?)`, m.version, m.name); err != nil {
			tx.Rollback()
			return fmt.Errorf("recording migration %s: %w", m.name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("committing migration %s: %w", m.name, err)
		}
	}
	return nil
}

// SchemaVersion returns the highest applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.conn.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}

// Load implements store.Store: new events (first occurrence of each
// event_id, not already stored) are appended in one transaction; see
// loadBatch.
func (s *Store) Load(ctx context.Context, recs []models.Record) (map[models.Table]int, error) {
	return s.loadBatch(ctx, recs, nil, true)
}

func stageName(t models.Table) string { return "_stage_" + string(t) }

// stage appends rows to the table's staging table through the Appender.
func (s *Store) stage(ctx context.Context, t models.Table, recs []models.Record) error {
	stage := stageName(t)
	if _, err := s.conn.ExecContext(ctx, fmt.Sprintf(`CREATE TEMP TABLE IF NOT EXISTS %s AS SELECT * FROM %s LIMIT 0`, stage, t)); err != nil {
		return fmt.Errorf("creating staging table for %s: %w", t, err)
	}
	// A load that failed part-way may have left rows behind; they must not
	// be swept into this batch.
	if _, err := s.conn.ExecContext(ctx, "DELETE FROM "+stage); err != nil {
		return fmt.Errorf("clearing staging table for %s: %w", t, err)
	}
	return s.conn.Raw(func(dc any) error {
		app, err := duckdb.NewAppender(dc.(driver.Conn), "temp", "main", stage)
		if err != nil {
			return fmt.Errorf("opening appender for %s: %w", t, err)
		}
		vals := make([]driver.Value, len(models.Columns[t]))
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
				return fmt.Errorf("appending %s row %s: %w", t, r.Base().SourceRef, err)
			}
		}
		if err := app.Close(); err != nil {
			return fmt.Errorf("flushing appender for %s: %w", t, err)
		}
		return nil
	})
}

// Counts returns the number of rows per raw table.
func (s *Store) Counts(ctx context.Context) (map[models.Table]int, error) {
	out := map[models.Table]int{}
	for _, t := range append(append([]models.Table(nil), models.EventTables...), models.TableRejects) {
		var n int
		if err := s.conn.QueryRowContext(ctx, "SELECT count(*) FROM "+string(t)).Scan(&n); err != nil {
			return nil, fmt.Errorf("counting %s: %w", t, err)
		}
		out[t] = n
	}
	return out, nil
}

// WriteRows appends rows to an existing table through the Appender; the
// transforms use it for facts computed in Go (business time).
func (s *Store) WriteRows(ctx context.Context, table string, rows [][]any) error {
	if err := s.Flush(ctx); err != nil {
		return err
	}
	return s.conn.Raw(func(dc any) error {
		app, err := duckdb.NewAppenderFromConn(dc.(driver.Conn), "", table)
		if err != nil {
			return fmt.Errorf("opening appender for %s: %w", table, err)
		}
		vals := []driver.Value{}
		for i, r := range rows {
			if i%4096 == 0 && ctx.Err() != nil {
				app.Close()
				return ctx.Err()
			}
			vals = vals[:0]
			for _, v := range r {
				vals = append(vals, v)
			}
			if err := app.AppendRow(vals...); err != nil {
				app.Close()
				return fmt.Errorf("appending to %s: %w", table, err)
			}
		}
		if err := app.Close(); err != nil {
			return fmt.Errorf("flushing appender for %s: %w", table, err)
		}
		return nil
	})
}
