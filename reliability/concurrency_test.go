package reliability_test

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/closedloop/closedloop/gen"
	"github.com/closedloop/closedloop/store"
)

// TestConcurrentIngests starts two ingests of the same input into one
// DuckDB file from two processes, a little apart and at once: one of them
// must complete and the other fail at once with the store-locked message
// (DuckDB allows one writing process per file), and the store must end
// equal to a clean run's. A query (kpi) during an ingest fails just as
// clearly.
func TestConcurrentIngests(t *testing.T) {
	binary(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "inputs")
	if _, err := gen.Generate(context.Background(), gen.Options{Out: in, Cases: 3000, Seed: 9, Weeks: 8,
		End: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	clean := filepath.Join(dir, "clean.duckdb")
	okIngest(t, cli(t, "ingest", "--db", clean, in))
	want := storeStats(t, clean)

	locked := store.ErrLocked.Error()
	for _, gap := range []time.Duration{0, 300 * time.Millisecond} {
		db := filepath.Join(dir, "both-"+gap.String()+".duckdb")
		a, aout, aerr := command(t, "ingest", "--db", db, in)
		b, bout, berr := command(t, "ingest", "--db", db, in)
		k, kout, kerr := command(t, "kpi", "--db", db, "--from", "2026-01-01", "--to", "2026-03-01")
		// Each process is waited for on its own, so that its duration is its own.
		run := func(c *exec.Cmd, out, errb *bytes.Buffer) <-chan result {
			ch := make(chan result, 1)
			began := time.Now()
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			go func() {
				err := c.Wait()
				ch <- result{stdout: out.String(), stderr: errb.String(), code: exitCode(err), dur: time.Since(began)}
			}()
			return ch
		}
		ca := run(a, aout, aerr)
		time.Sleep(gap)
		cb := run(b, bout, berr)
		time.Sleep(time.Second)
		ck := run(k, kout, kerr)
		ra, rb, rk := <-ca, <-cb, <-ck
		for _, r := range []result{ra, rb, rk} {
			if r.code < 0 {
				t.Fatalf("a process did not run: %s", r)
			}
		}
		winner, loser := ra, rb
		if ra.code == 1 {
			winner, loser = rb, ra
		}
		okIngest(t, winner)
		if loser.code != 1 || !strings.Contains(loser.stderr+loser.stdout, locked) {
			t.Errorf("gap %s: the second writer did not fail with %q:\n%s", gap, locked, loser)
		}
		if loser.dur > 10*time.Second {
			t.Errorf("gap %s: the refused writer took %s to give up", gap, loser.dur)
		}
		// The query ran while the winner was writing, or after it finished.
		if rk.code != 0 && !strings.Contains(rk.stderr+rk.stdout, locked) {
			t.Errorf("gap %s: kpi during an ingest failed without the locked message:\n%s", gap, rk)
		}
		sameStore(t, storeStats(t, db), want)
		t.Logf("gap %s: winner exit %d in %s; refused writer exit %d in %s: %s; kpi meanwhile exit %d",
			gap, winner.code, winner.dur.Round(time.Millisecond), loser.code, loser.dur.Round(time.Millisecond),
			strings.TrimSpace(loser.stderr), rk.code)
	}
}

// exitCode is a finished process's exit code (-1 when it could not run).
func exitCode(err error) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	return -1
}
