package reliability_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/closedloop/closedloop/gen"
)

// killCases sizes the crash test's input (CLOSEDLOOP_KILL_CASES overrides:
// 20 000 cases are about 470 000 lines).
func killCases() int {
	if n, err := strconv.Atoi(os.Getenv("CLOSEDLOOP_KILL_CASES")); err == nil && n > 0 {
		return n
	}
	return 20_000
}

// TestIngestKillIntegration kills `closedloop ingest` with SIGKILL at 20
// random points spread over a clean run's duration, re-running it after
// each kill, and checks that the store ends equal to a clean run's: same
// rows per table, same event ids, same content. After every kill the store
// (a copy, with its WAL) must open, every table must read and no event_id
// may be stored twice; the checkpoints must only move forward.
func TestIngestKillIntegration(t *testing.T) {
	binary(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "inputs")
	res, err := gen.Generate(context.Background(), gen.Options{Out: in, Cases: killCases(), Seed: 5, Weeks: 12,
		End: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	lines := 0
	for _, f := range res.Files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines += bytes.Count(b, []byte("\n"))
	}

	clean := filepath.Join(dir, "clean.duckdb")
	first := cli(t, "ingest", "--db", clean, in)
	okIngest(t, first)
	want := storeStats(t, clean)
	T := first.dur
	t.Logf("clean run: %d cases, %d lines, %d rows in %s: %s", res.Cases, lines, totalRows(want), T.Round(time.Millisecond), strings.TrimSpace(first.stdout))

	// Kill points: 20 instants spread uniformly over the clean run's
	// duration; run i is killed after the gap since point i-1 (plus the
	// time a run takes to start and open the store), so that the kills fall
	// across the whole ingest as it resumes. The killed runs commit every
	// 10 000 records (the clean one every 50 000, the default), so that
	// each short run gets a checkpoint or two in.
	empty := filepath.Join(dir, "empty")
	if err := os.MkdirAll(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	startup := cli(t, "ingest", "--db", filepath.Join(dir, "probe.duckdb"), empty).dur
	rng := rand.New(rand.NewPCG(20260302, 12))
	points := make([]time.Duration, 20)
	for i := range points {
		points[i] = time.Duration(rng.Int64N(int64(T)))
	}
	sort.Slice(points, func(i, j int) bool { return points[i] < points[j] })

	db := filepath.Join(dir, "killed.duckdb")
	snap := filepath.Join(dir, "snap")
	kills, finished := 0, 0
	var lastDocs int64
	prev := time.Duration(0)
	for i, p := range points {
		delay := p - prev + startup
		prev = p
		cmd, out, errb := command(t, "ingest", "--db", db, in)
		cmd.Env = append(cmd.Env, "CLOSEDLOOP_INGEST_BATCH_RECORDS=10000")
		began := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		timer := time.AfterFunc(delay, func() { _ = cmd.Process.Signal(syscall.SIGKILL) })
		err := cmd.Wait()
		timer.Stop()
		r := finish(t, err, out, errb, time.Since(began))
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			kills++
		} else {
			okIngest(t, r) // it finished before its kill: it must have succeeded
			finished++
		}

		// The crashed store, as the next run will find it, opens and reads.
		if err := os.RemoveAll(snap); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(snap, 0o755); err != nil {
			t.Fatal(err)
		}
		cp := copyStore(t, db, snap)
		if _, err := os.Stat(cp); err != nil {
			t.Logf("kill %2d after %6s: no store file yet", i+1, delay.Round(time.Millisecond))
			continue
		}
		stats := storeStats(t, cp) // fails on duplicates or unreadable tables
		docs, done := checkpoints(t, cp)
		if docs < lastDocs {
			t.Errorf("kill %d: checkpoints went back from %d to %d documents", i+1, lastDocs, docs)
		}
		lastDocs = docs
		t.Logf("kill %2d after %6s: %7d rows, checkpoints at %6d documents, %d files complete", i+1,
			delay.Round(time.Millisecond), totalRows(stats), docs, done)
	}

	final := cli(t, "ingest", "--db", db, in)
	okIngest(t, final)
	t.Logf("final run: %s", strings.TrimSpace(final.stdout))
	sameStore(t, storeStats(t, db), want)

	again := cli(t, "ingest", "--db", db, in)
	okIngest(t, again)
	if !strings.Contains(again.stdout, "ingested 0,") || !strings.Contains(again.stdout, "unchanged files skipped: "+strconv.Itoa(len(res.Files))) {
		t.Errorf("re-running over completed files: %s", again.stdout)
	}
	t.Logf("FIGURES kill: %d SIGKILLs survived (%d runs finished before their kill; start-up %s), %d lines, %d rows equal to the clean run",
		kills, finished, startup.Round(time.Millisecond), lines, totalRows(want))
	if kills < 15 {
		t.Errorf("only %d of 20 runs were killed while running", kills)
	}
}
