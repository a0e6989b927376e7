package reliability_test

import (
	"context"
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
		began := time.Now()
		if err := a.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(gap)
		if err := b.Start(); err != nil {
			t.Fatal(err)
		}
		rb := finish(t, b.Wait(), bout, berr, time.Since(began))
		kpiStart := time.Now()
		if err := k.Start(); err != nil {
			t.Fatal(err)
		}
		rk := finish(t, k.Wait(), kout, kerr, time.Since(kpiStart))
		ra := finish(t, a.Wait(), aout, aerr, time.Since(began))

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
