// Package pull runs closedloop's pull collectors: the ones that fetch from
// the systems an operation runs (Chatwoot's REST API, Meta's WhatsApp
// Business Management API) or watch where exporters land files, instead of
// being handed files.
//
// Every collector keeps its cursors and checkpoints in the store's
// collector_state table, and advances them in the same transaction as the
// rows they cover (StateStore.LoadWithState). A run that dies half-way
// therefore resumes exactly where its last commit ended: no gap (nothing
// after the last commit was marked done) and no duplicate (everything
// before it is marked done, and event_ids deduplicate anyway).
//
// Tables (DuckDB migration 0003_collectors.sql):
//
//	collector_state(collector, key, value, updated_at)
//	    one row per collector and key; the collector's cursors and
//	    checkpoints (values are text, often JSON). Keys are the
//	    collector's own; "last_success_at" is shared by all.
//	collector_freshness(collector, kind, last_run_at, last_run_ok,
//	                    last_error, last_success_at, rows_last_run, updated_at)
//	    one row per collector, replaced after every run: what `closedloop
//	    status`, the pack's data-quality panel and /metrics read. A
//	    collector's lag is now − last_success_at: everything the source
//	    held at last_success_at is in the store.
//	collector_taken_files (view over collector_state)
//	    what the drop-folder collectors took: path, size, mtime, sha256.
//	template_metrics_daily, template_changes
//	    written by the Meta collector (package metagraph).
package pull

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/models"
)

// StateStore is what pull collectors need from the store. The DuckDB store
// implements it (store/duckdb/state.go); a store without it cannot run pull
// collectors.
type StateStore interface {
	// LoadWithState loads recs like Load (event tables deduplicate on
	// event_id; the pull tables registered by the store replace rows with
	// the same key) and, in the same transaction, upserts the collector's
	// state: a key with an empty value is deleted. It returns the rows
	// each table gained (event tables) or had written (pull tables).
	LoadWithState(ctx context.Context, collector string, recs []models.Record, state map[string]string) (map[models.Table]int, error)
	// CollectorState returns the collector's committed state.
	CollectorState(ctx context.Context, collector string) (map[string]string, error)
}

// ErrNoStateStore is returned when the store cannot keep state with rows.
var ErrNoStateStore = errors.New("pull collectors need the DuckDB store for now (the store has no LoadWithState)")

// Collector is one configured pull collector.
type Collector interface {
	// Name is the collector's configured name (unique across kinds).
	Name() string
	// Kind is its type: chatwoot_api, meta_graph or drop_folder.
	Kind() string
	// Pull fetches what changed since the run's state and commits it
	// through run.Commit, as often as it has a consistent checkpoint.
	Pull(ctx context.Context, run *Run) error
}

// KeyLastSuccess is the state key holding the end of the last successful run.
const KeyLastSuccess = "last_success_at"

// Run is one collector's run: the store, the committed state, and what the
// run stored so far.
type Run struct {
	Name, Kind string
	Store      StateStore
	// Env pseudonymises and stamps ingest time (Env.Now is the run's start).
	Env *ingest.Env
	// State is the committed state; Commit keeps it current.
	State map[string]string
	// Added counts the rows each table gained in this run.
	Added map[models.Table]int
	// Notes are remarks printed after the run (a clamped lookback, a file
	// still being written).
	Notes []string
	// Source is stamped on records that name none (default: Kind).
	Source string
}

// Commit loads recs and advances state atomically. Records without a
// source get the run's; without an ingest time, Env.Now.
func (r *Run) Commit(ctx context.Context, recs []models.Record, state map[string]string) error {
	for _, rec := range recs {
		b := rec.Base()
		if b.Source == "" {
			b.Source = r.Source
		}
		if b.IngestedAt.IsZero() {
			b.IngestedAt = r.Env.Now
		}
	}
	added, err := r.Store.LoadWithState(ctx, r.Name, recs, state)
	if err != nil {
		return fmt.Errorf("collector %s: storing rows and state: %w", r.Name, err)
	}
	for t, n := range added {
		r.Added[t] += n
	}
	for k, v := range state {
		if v == "" {
			delete(r.State, k)
		} else {
			r.State[k] = v
		}
	}
	return nil
}

// Notef records a remark printed after the run.
func (r *Run) Notef(format string, a ...any) { r.Notes = append(r.Notes, fmt.Sprintf(format, a...)) }

// Result is what one collector's run did.
type Result struct {
	Name, Kind string
	Added      map[models.Table]int
	Notes      []string
	Duration   time.Duration
	Err        error
}

// Rows is the number of rows the run stored, rejects included.
func (r Result) Rows() int {
	n := 0
	for _, c := range r.Added {
		n += c
	}
	return n
}

// String is the line `closedloop collect` prints for the run.
func (r Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): ", r.Name, r.Kind)
	if r.Err != nil {
		b.WriteString("FAILED")
	} else {
		b.WriteString("ok")
	}
	fmt.Fprintf(&b, " in %s", r.Duration.Round(time.Millisecond))
	tables := make([]string, 0, len(r.Added))
	for t := range r.Added {
		tables = append(tables, string(t))
	}
	sort.Strings(tables)
	var parts []string
	for _, t := range tables {
		if n := r.Added[models.Table(t)]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s +%d", t, n))
		}
	}
	if len(parts) == 0 {
		b.WriteString(", nothing new")
	} else {
		b.WriteString(", " + strings.Join(parts, ", "))
	}
	for _, n := range r.Notes {
		b.WriteString("\n  note: " + n)
	}
	if r.Err != nil {
		b.WriteString("\n  error: " + r.Err.Error())
	}
	return b.String()
}

// Options configure RunAll.
type Options struct {
	Store StateStore
	// Pseudo and Now build each run's ingest.Env (Now defaults to time.Now).
	Env func() *ingest.Env
	Now func() time.Time
	// OnResult, when set, is told each result as soon as it is known.
	OnResult func(Result)
}

// RunAll runs the collectors one after the other (they share the store's
// single writer) and records each one's freshness. A failing collector
// does not stop the others; its committed progress stays.
func RunAll(ctx context.Context, opt Options, cs []Collector) []Result {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	var out []Result
	for _, c := range cs {
		if ctx.Err() != nil {
			break
		}
		res := RunOne(ctx, opt, c)
		if opt.OnResult != nil {
			opt.OnResult(res)
		}
		out = append(out, res)
	}
	return out
}

// RunOne runs one collector: reads its state, pulls, and records its
// freshness (last success advanced only when the pull succeeded).
func RunOne(ctx context.Context, opt Options, c Collector) Result {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	start := opt.Now()
	res := Result{Name: c.Name(), Kind: c.Kind(), Added: map[models.Table]int{}}
	env := opt.Env()
	env.Now = start
	state, err := opt.Store.CollectorState(ctx, c.Name())
	if err != nil {
		res.Err = fmt.Errorf("collector %s: reading its state: %w", c.Name(), err)
		return res
	}
	run := &Run{Name: c.Name(), Kind: c.Kind(), Store: opt.Store, Env: env, State: state,
		Added: res.Added, Source: c.Kind()}
	err = c.Pull(ctx, run)
	end := opt.Now()
	res.Notes, res.Duration = run.Notes, end.Sub(start)
	fr := &Freshness{Collector: c.Name(), Kind: c.Kind(), LastRunAt: end, LastRunOK: err == nil, Rows: res.Rows()}
	if t, perr := time.Parse(time.RFC3339Nano, state[KeyLastSuccess]); perr == nil {
		fr.LastSuccessAt = t
	}
	var st map[string]string
	if err != nil {
		res.Err = err
		fr.LastError = Redact(err.Error())
	} else {
		fr.LastSuccessAt = end
		st = map[string]string{KeyLastSuccess: end.UTC().Format(time.RFC3339Nano)}
	}
	// Freshness is written even when the run was cancelled: the store
	// must say the collector did not finish.
	fctx := context.WithoutCancel(ctx)
	if _, ferr := opt.Store.LoadWithState(fctx, c.Name(), []models.Record{fr}, st); ferr != nil {
		res.Err = errors.Join(res.Err, fmt.Errorf("collector %s: recording freshness: %w", c.Name(), ferr))
	}
	return res
}

// TableFreshness is the pull table of per-collector freshness.
const TableFreshness models.Table = "collector_freshness"

// Freshness is a collector's row of collector_freshness.
type Freshness struct {
	models.Meta
	Collector, Kind string
	LastRunAt       time.Time
	LastRunOK       bool
	LastError       string
	LastSuccessAt   time.Time // zero: never succeeded
	Rows            int       // rows the last run stored
}

// Table implements models.Record.
func (f *Freshness) Table() models.Table { return TableFreshness }

// Base implements models.Record.
func (f *Freshness) Base() *models.Meta { return &f.Meta }

// Values are in the column order of collector_freshness.
func (f *Freshness) Values() []any {
	var last any
	if !f.LastSuccessAt.IsZero() {
		last = models.UTCms(f.LastSuccessAt)
	}
	var lerr any
	if f.LastError != "" {
		lerr = f.LastError
	}
	return []any{f.Collector, f.Kind, models.UTCms(f.LastRunAt), f.LastRunOK, lerr, last, int64(f.Rows), models.UTCms(f.LastRunAt)}
}
