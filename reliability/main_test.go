package reliability_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/closedloop/closedloop/models"
	"github.com/closedloop/closedloop/store"
	_ "github.com/closedloop/closedloop/store/duckdb"
)

// piiKey is the pseudonymisation key every run uses (runs must agree for
// their event ids and pseudonyms to match).
const piiKey = "reliability-test-key-0123456789abcdef"

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	tmpRoot   string
)

func TestMain(m *testing.M) {
	flag.Parse()
	var err error
	tmpRoot, err = os.MkdirTemp("", "closedloop-reliability-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(tmpRoot)
	os.Exit(code)
}

// binary builds cmd/closedloop once per test binary.
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: builds and runs the closedloop binary (skipped with -short)")
	}
	buildOnce.Do(func() {
		binPath = filepath.Join(tmpRoot, "closedloop")
		began := time.Now()
		out, err := exec.Command("go", "build", "-o", binPath, "../cmd/closedloop").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
		fmt.Fprintf(os.Stderr, "reliability: built closedloop in %s\n", time.Since(began).Round(time.Second))
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// result is one finished CLI run.
type result struct {
	stdout, stderr string
	code           int // -1 when killed by a signal
	dur            time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("exit %d after %s\nstdout: %s\nstderr: %s", r.code, r.dur.Round(time.Millisecond), r.stdout, r.stderr)
}

// command prepares a CLI run in its own working directory (so that no
// closedloop.yaml nearby is picked up) with the test's key.
func command(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "CLOSEDLOOP_PII_KEY="+piiKey)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	return cmd, &out, &errb
}

// cli runs the binary to completion.
func cli(t *testing.T, args ...string) result {
	t.Helper()
	cmd, out, errb := command(t, args...)
	began := time.Now()
	err := cmd.Run()
	return finish(t, err, out, errb, time.Since(began))
}

func finish(t *testing.T, err error, out, errb *bytes.Buffer, dur time.Duration) result {
	t.Helper()
	r := result{stdout: out.String(), stderr: errb.String(), dur: dur}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("running closedloop: %v", err)
	}
	return r
}

// okIngest fails the test unless an ingest run completed (exit 0, or 3
// when some input was rejected).
func okIngest(t *testing.T, r result) {
	t.Helper()
	if r.code != 0 && r.code != 3 {
		t.Fatalf("ingest failed: %s", r)
	}
}

// tableStat is what "the same store" means for one raw table.
type tableStat struct {
	Rows     int64
	Distinct int64  // distinct event_ids (== Rows: nothing duplicated)
	IDSum    string // sum of hash(event_id)
	Content  string // sum of hash(every column but ingested_at)
}

// rawTables lists the tables compared between stores.
var rawTables = append(append([]models.Table(nil), models.EventTables...), models.TableRejects)

// storeStats opens db (a copy is fine) and reads every raw table. Rows the
// closedloop process writes about itself (audit_events from source
// closedloop: one per completed run) legitimately differ between stores
// and are left out.
func storeStats(t *testing.T, db string) map[models.Table]tableStat {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, db, store.Options{})
	if err != nil {
		t.Fatalf("opening %s: %v", db, err)
	}
	defer st.Close()
	out := map[models.Table]tableStat{}
	for _, tb := range rawTables {
		var cols []string
		for _, c := range models.Columns[tb] {
			if c != "ingested_at" {
				cols = append(cols, c)
			}
		}
		where := ""
		if tb == models.TableAuditEvents {
			where = " WHERE source <> 'closedloop'"
		}
		var s tableStat
		q := fmt.Sprintf(`SELECT count(*), count(DISTINCT event_id), coalesce(sum(hash(event_id)), 0)::VARCHAR,
			coalesce(sum(hash(%s)), 0)::VARCHAR FROM %s%s`, strings.Join(cols, ", "), tb, where)
		if err := st.DB().QueryRowContext(ctx, q).Scan(&s.Rows, &s.Distinct, &s.IDSum, &s.Content); err != nil {
			t.Fatalf("reading %s of %s: %v", tb, db, err)
		}
		if s.Rows != s.Distinct {
			t.Errorf("%s: %d rows but %d distinct event_ids: events duplicated", tb, s.Rows, s.Distinct)
		}
		out[tb] = s
	}
	return out
}

// sameStore reports the differences between two stores' tables.
func sameStore(t *testing.T, got, want map[models.Table]tableStat) {
	t.Helper()
	for _, tb := range rawTables {
		if got[tb] != want[tb] {
			t.Errorf("%s differs from a clean run: got %+v, want %+v", tb, got[tb], want[tb])
		}
	}
}

func totalRows(s map[models.Table]tableStat) int64 {
	var n int64
	for _, v := range s {
		n += v.Rows
	}
	return n
}

// copyStore copies a DuckDB file and its WAL (when present) to dir, so
// that a crashed store can be inspected without replaying its WAL in place.
func copyStore(t *testing.T, db, dir string) string {
	t.Helper()
	dst := filepath.Join(dir, filepath.Base(db))
	for _, suffix := range []string{"", ".wal"} {
		in, err := os.Open(db + suffix)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(dst + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, in); err != nil {
			t.Fatal(err)
		}
		in.Close()
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// checkpoints sums docs_done over the store's ingest checkpoints.
func checkpoints(t *testing.T, db string) (docs int64, completed int) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, db, store.Options{})
	if err != nil {
		t.Fatalf("opening %s: %v", db, err)
	}
	defer st.Close()
	if err := st.DB().QueryRowContext(ctx, `SELECT coalesce(sum(docs_done), 0), count(completed_at) FROM ingest_files`).Scan(&docs, &completed); err != nil {
		t.Fatal(err)
	}
	return docs, completed
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
