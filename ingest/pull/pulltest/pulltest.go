// Package pulltest helps test pull collectors without a database: an
// in-memory StateStore with the DuckDB store's semantics (event tables
// deduplicate on event_id, pull tables replace rows by key, state is
// upserted in the same "transaction"), failure injection to simulate a
// crash, and a replay server helper.
package pulltest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/models"
	"github.com/closedloop/closedloop/pii"
)

// Keys gives, per pull table, the positions of its key columns in
// Values(); the DuckDB store's registry says the same by column name.
var Keys = map[models.Table][]int{
	"collector_freshness":    {0},    // collector
	"template_metrics_daily": {0, 2}, // template_id, day
	"template_changes":       {0},    // event_id
}

// ErrCrash is what an injected failure returns.
var ErrCrash = errors.New("pulltest: injected store failure")

// Store is an in-memory StateStore. The zero value is not usable; use New.
type Store struct {
	mu    sync.Mutex
	rows  map[models.Table]map[string][]any // key → values
	order map[models.Table][]string
	state map[string]map[string]string
	// FailAfter, when > 0, makes the commit after that many successful
	// commits fail without applying anything (a crash mid-pull).
	FailAfter int
	// Commits counts successful LoadWithState calls.
	Commits int
}

// New returns an empty store.
func New() *Store {
	return &Store{rows: map[models.Table]map[string][]any{}, order: map[models.Table][]string{}, state: map[string]map[string]string{}}
}

// LoadWithState implements pull.StateStore.
func (s *Store) LoadWithState(ctx context.Context, collector string, recs []models.Record, state map[string]string) (map[models.Table]int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.FailAfter > 0 && s.Commits >= s.FailAfter {
		return nil, ErrCrash
	}
	// Validate first so that nothing is applied on error.
	for _, r := range recs {
		if _, ok := models.Columns[r.Table()]; !ok {
			if _, ok := Keys[r.Table()]; !ok {
				return nil, fmt.Errorf("pulltest: unknown table %s", r.Table())
			}
		}
	}
	added := map[models.Table]int{}
	for _, r := range recs {
		t := r.Table()
		vals := r.Values()
		var key string
		if idx, ok := Keys[t]; ok {
			parts := make([]string, len(idx))
			for i, j := range idx {
				parts[i] = fmt.Sprint(vals[j])
			}
			key = strings.Join(parts, "\x00")
		} else {
			key = r.Base().EventID
		}
		if s.rows[t] == nil {
			s.rows[t] = map[string][]any{}
		}
		_, exists := s.rows[t][key]
		if _, pull := Keys[t]; !pull && exists {
			continue // first occurrence wins
		}
		if !exists {
			s.order[t] = append(s.order[t], key)
		}
		s.rows[t][key] = vals
		added[t]++
	}
	if s.state[collector] == nil {
		s.state[collector] = map[string]string{}
	}
	for k, v := range state {
		if v == "" {
			delete(s.state[collector], k)
		} else {
			s.state[collector][k] = v
		}
	}
	s.Commits++
	return added, nil
}

// CollectorState implements pull.StateStore.
func (s *Store) CollectorState(ctx context.Context, collector string) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for k, v := range s.state[collector] {
		out[k] = v
	}
	return out, nil
}

// Count is the number of rows in a table.
func (s *Store) Count(t models.Table) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.rows[t])
}

// Counts gives every non-empty table's row count.
func (s *Store) Counts() map[models.Table]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[models.Table]int{}
	for t, m := range s.rows {
		if len(m) > 0 {
			out[t] = len(m)
		}
	}
	return out
}

// Dump renders a table's rows as sorted text lines, leaving out the
// columns named in skip (e.g. ingested_at) so that two runs at different
// times compare equal.
func (s *Store) Dump(t models.Table, skip ...int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, vals := range s.rows[t] {
		var b strings.Builder
		for i, v := range vals {
			if contains(skip, i) {
				continue
			}
			if tm, ok := v.(time.Time); ok {
				v = tm.UTC().Format(time.RFC3339Nano)
			}
			fmt.Fprintf(&b, "%v|", v)
		}
		out = append(out, b.String())
	}
	sort.Strings(out)
	return out
}

// State returns a copy of a collector's state.
func (s *Store) State(collector string) map[string]string {
	st, _ := s.CollectorState(context.Background(), collector)
	return st
}

func contains(l []int, i int) bool {
	for _, x := range l {
		if x == i {
			return true
		}
	}
	return false
}

// Env is a test ingest environment with a fixed key and time.
func Env(now time.Time) func() *ingest.Env {
	p, err := pii.New([]byte("test-key-0123456789abcdef"), false)
	if err != nil {
		panic(err)
	}
	return func() *ingest.Env { return &ingest.Env{Pseudo: p, Now: now} }
}

// NoSleep is a Sleep that records the waits and returns at once.
type NoSleep struct {
	mu    sync.Mutex
	Waits []time.Duration
}

// Sleep implements pull.ClientConfig.Sleep.
func (n *NoSleep) Sleep(ctx context.Context, d time.Duration) error {
	n.mu.Lock()
	n.Waits = append(n.Waits, d)
	n.mu.Unlock()
	return ctx.Err()
}
