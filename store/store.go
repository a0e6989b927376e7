// Package store defines what closedloop needs from a columnar store and
// lets engines (DuckDB, ClickHouse) register themselves by DSN scheme.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/closedloop/closedloop/models"
)

// Store is a columnar event store.
type Store interface {
	// Dialect names the SQL dialect of the engine ("duckdb", "clickhouse").
	Dialect() string
	// Load writes records, skipping events whose event_id is already
	// stored, and returns how many rows each table gained.
	Load(ctx context.Context, recs []models.Record) (map[models.Table]int, error)
	// DB is the engine's database/sql handle for queries.
	DB() *sql.DB
	// Close releases the store (and its write lock).
	Close() error
}

// ErrLocked reports that another process is writing to the store.
var ErrLocked = errors.New("store is in use by another closedloop process")

// Opener opens a store from a DSN.
type Opener func(ctx context.Context, dsn string, opt Options) (Store, error)

// Options tune how a store is opened.
type Options struct {
	// ReadOnly opens without taking the writer lock where the engine allows it.
	ReadOnly bool
	// Streaming asks for the engine's small memory budget: the process
	// streams input into the store (ingest) rather than running large
	// queries, and its peak memory must not grow with the input.
	Streaming bool
}

var (
	mu      sync.RWMutex
	openers = map[string]Opener{}
)

// Register makes an engine available under a DSN scheme ("duckdb" is the
// default for plain paths).
func Register(scheme string, o Opener) {
	mu.Lock()
	defer mu.Unlock()
	openers[scheme] = o
}

// Open opens dsn: "clickhouse://host:port/db" selects ClickHouse; a plain
// path (or duckdb://path) selects DuckDB.
func Open(ctx context.Context, dsn string, opt Options) (Store, error) {
	scheme := "duckdb"
	if i := strings.Index(dsn, "://"); i > 0 {
		scheme = dsn[:i]
		if scheme == "duckdb" {
			dsn = dsn[i+3:]
		}
	}
	mu.RLock()
	o, ok := openers[scheme]
	mu.RUnlock()
	if !ok {
		known := make([]string, 0, len(openers))
		for k := range openers {
			known = append(known, k)
		}
		sort.Strings(known)
		return nil, fmt.Errorf("opening store %q: unknown engine %q (known: %s)", dsn, scheme, strings.Join(known, ", "))
	}
	return o(ctx, dsn, opt)
}
