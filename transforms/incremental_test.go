package transforms_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/closedloop/closedloop/gen"
	"github.com/closedloop/closedloop/ingest"
	_ "github.com/closedloop/closedloop/ingest/all"
	"github.com/closedloop/closedloop/ingest/ingesttest"
	"github.com/closedloop/closedloop/models"
	"github.com/closedloop/closedloop/store"
	"github.com/closedloop/closedloop/store/duckdb"
	"github.com/closedloop/closedloop/transforms"
)

// officeHours is a calendar open 08:00–18:00 UTC on weekdays with a
// 30-minute target, so that business time, unanswered waits and breaches
// all depend on the cutoff.
type officeHours struct{}

func (officeHours) BusinessTime(_ string, from, to time.Time) time.Duration {
	var d time.Duration
	for day := from.UTC().Truncate(24 * time.Hour); day.Before(to); day = day.Add(24 * time.Hour) {
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		a, b := day.Add(8*time.Hour), day.Add(18*time.Hour)
		if from.After(a) {
			a = from
		}
		if to.Before(b) {
			b = to
		}
		if b.After(a) {
			d += b.Sub(a)
		}
	}
	return d
}

func (officeHours) SLATarget(string) time.Duration { return 30 * time.Minute }

// TestIncrementalEqualsFull simulates three weeks of operations, ingests
// all but the last days, builds the facts, then ingests the remaining days
// one at a time with an incremental update after each, and checks that
// every fact table (row for row) and every KPI figure (with its case lists)
// equal a full rebuild. Records are split by their own event time, so one
// webhook's events may arrive on different days.
func TestIncrementalEqualsFull(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates and ingests a few thousand cases")
	}
	for _, cal := range []struct {
		name string
		cal  transforms.Calendars
	}{{"always_open", transforms.AlwaysOpen{Target: 15 * time.Minute}}, {"office_hours", officeHours{}}} {
		t.Run(cal.name, func(t *testing.T) { incrementalEqualsFull(t, cal.cal) })
	}
}

func incrementalEqualsFull(t *testing.T, cal transforms.Calendars) {
	ctx := context.Background()
	dir := t.TempDir()
	end := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC) // a Wednesday: the last days are weekdays
	if _, err := gen.Generate(ctx, gen.Options{Out: filepath.Join(dir, "in"), Cases: 1500, Weeks: 3, Seed: 42, End: end}); err != nil {
		t.Fatal(err)
	}
	var c ingest.KeepLoader
	if _, err := ingest.Run(ctx, ingest.Options{Env: ingesttest.Env(t), Loader: &c}, []string{filepath.Join(dir, "in")}); err != nil {
		t.Fatal(err)
	}
	const days = 3
	parts := make([][]models.Record, days+1)
	for _, r := range c.Records {
		i := 0
		if ts, _ := models.EventTime(r); !ts.IsZero() {
			for d := days; d >= 1; d-- {
				if !ts.Before(end.AddDate(0, 0, d-days-1)) {
					i = d
					break
				}
			}
		}
		parts[i] = append(parts[i], r)
	}
	st, err := duckdb.Open(ctx, filepath.Join(dir, "s.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i, p := range parts {
		// Each day is its own ingest run, stamped when it ran.
		for _, r := range p {
			r.Base().IngestedAt = end.Add(time.Duration(i) * time.Hour)
		}
		if _, err := st.Load(ctx, p); err != nil {
			t.Fatal(err)
		}
		cutoff, err := transforms.NewestEvent(ctx, st.DB())
		if err != nil {
			t.Fatal(err)
		}
		s, err := transforms.Update(ctx, st, cal, cutoff, false)
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		if i > 0 && !s.Incremental {
			t.Fatalf("part %d: the update was not incremental", i)
		}
		if i == 0 {
			continue
		}
		t.Logf("day %d: %d records, %d cases recomputed, %s", i, len(p), s.Cases, s.Duration.Round(time.Millisecond))
		incFacts := factTables(t, st.DB())
		incKPIs := allKPIs(t, st, cutoff)
		if _, err := transforms.Run(ctx, st, cal, cutoff); err != nil {
			t.Fatal(err)
		}
		fullFacts := factTables(t, st.DB())
		if len(fullFacts) < 10 {
			t.Fatalf("only %d fact tables", len(fullFacts))
		}
		for name, want := range fullFacts {
			got := incFacts[name]
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("day %d: %s differs after the incremental update (%d rows, full rebuild %d):\n%s", i, name, len(got), len(want), firstDiff(got, want))
			}
		}
		if fullKPIs := allKPIs(t, st, cutoff); incKPIs != fullKPIs {
			t.Errorf("day %d: KPI figures differ after the incremental update", i)
		}
		// The next day updates the facts of this incremental run's
		// successor: rebuild the state it would have had.
		if _, err := transforms.Update(ctx, st, cal, cutoff, false); err != nil {
			t.Fatal(err)
		}
	}
}

// factTables returns every fact table's rows, each rendered and sorted.
func factTables(t *testing.T, db *sql.DB) map[string][]string {
	t.Helper()
	rows, err := db.Query(`SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'
		AND (table_name LIKE 'fact\_%' ESCAPE '\' OR table_name = 'case_facts') ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	rows.Close()
	out := map[string][]string{}
	for _, n := range names {
		rs, err := db.Query("SELECT * FROM " + n)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rs.Columns()
		var lines []string
		for rs.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rs.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, fmt.Sprint(vals...))
		}
		rs.Close()
		sort.Strings(lines)
		out[n] = lines
	}
	return out
}

func allKPIs(t *testing.T, st store.Store, cutoff time.Time) string {
	t.Helper()
	var out []string
	for _, by := range []string{"", "queue", "week"} {
		figs, err := transforms.Compute(context.Background(), st, transforms.Request{
			From: cutoff.AddDate(0, 0, -30), To: cutoff.Add(time.Millisecond), Cutoff: cutoff, By: by})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(figs)
		out = append(out, string(b))
	}
	return strings.Join(out, "\n")
}

func firstDiff(got, want []string) string {
	g, w := map[string]bool{}, map[string]bool{}
	for _, s := range got {
		g[s] = true
	}
	for _, s := range want {
		w[s] = true
	}
	var b strings.Builder
	n := 0
	for _, s := range want {
		if !g[s] && n < 5 {
			fmt.Fprintf(&b, "  missing: %s\n", s)
			n++
		}
	}
	n = 0
	for _, s := range got {
		if !w[s] && n < 5 {
			fmt.Fprintf(&b, "  extra:   %s\n", s)
			n++
		}
	}
	return b.String()
}
