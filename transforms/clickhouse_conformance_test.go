package transforms_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/tools/txtar"

	"github.com/closedloop/closedloop/config"
	"github.com/closedloop/closedloop/gen"
	"github.com/closedloop/closedloop/ingest"
	_ "github.com/closedloop/closedloop/ingest/all"
	"github.com/closedloop/closedloop/ingest/ingesttest"
	"github.com/closedloop/closedloop/models"
	"github.com/closedloop/closedloop/store"
	"github.com/closedloop/closedloop/store/clickhouse"
	"github.com/closedloop/closedloop/store/clickhouse/chtest"
	"github.com/closedloop/closedloop/store/duckdb"
	"github.com/closedloop/closedloop/transforms"
)

// The conformance tests run the same events through DuckDB and ClickHouse
// and require every KPI figure to be identical: numerator, denominator,
// value, immaturity, breakdown, and the case and unit ids behind it.

// TestClickHouseConformanceIntegration covers every scenario under
// testdata/ and a generated demo data set.
func TestClickHouseConformanceIntegration(t *testing.T) {
	srv := chtest.Start(t)
	start := time.Now()
	t.Run("scenarios", func(t *testing.T) { conformScenarios(t, srv) })
	t.Run("demo", func(t *testing.T) {
		ch := openCH(t, srv.DSN("conform_demo"))
		conformDemo(t, ch, 2000)
	})
	t.Logf("conformance on ClickHouse took %s", time.Since(start).Round(100*time.Millisecond))
}

// TestClickHouseClusterIntegration starts two servers as a 2-shard cluster,
// ingests a generated data set through the Distributed tables and requires
// the KPIs DuckDB computes.
func TestClickHouseClusterIntegration(t *testing.T) {
	srvs := chtest.StartCluster(t, "closedloop_test", 2)
	start := time.Now()
	ch := openCH(t, srvs[0].DSN("conform_cluster", "cluster=closedloop_test"))
	conformDemo(t, ch, 600)
	// Both shards hold part of the data, and a case never spans shards.
	ctx := context.Background()
	db := ch.DB()
	other := "remote('" + srvs[1].Addr() + "', conform_cluster, case_events_local)"
	var n1, n2, shared uint64
	if err := db.QueryRowContext(ctx, `SELECT count() FROM case_events_local`).Scan(&n1); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, `SELECT count() FROM `+other).Scan(&n2); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, `SELECT count() FROM (SELECT DISTINCT case_id FROM case_events_local)
		ALL INNER JOIN (SELECT DISTINCT case_id FROM `+other+`) USING case_id`).Scan(&shared); err != nil {
		t.Fatal(err)
	}
	counts, err := ch.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("case events: shard 1 %d, shard 2 %d, total %d; cases on both shards: %d", n1, n2, counts[models.TableCaseEvents], shared)
	if n1 == 0 || n2 == 0 || int(n1+n2) != counts[models.TableCaseEvents] || shared != 0 {
		t.Errorf("case events are not sharded by case")
	}
	t.Logf("2-shard conformance took %s", time.Since(start).Round(100*time.Millisecond))
}

func openCH(t *testing.T, dsn string) *clickhouse.Store {
	t.Helper()
	st, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatalf("opening %s: %v", dsn, err)
	}
	t.Cleanup(func() { st.Close() })
	return st.(*clickhouse.Store)
}

func openDuck(t *testing.T) *duckdb.Store {
	t.Helper()
	st, err := duckdb.Open(context.Background(), filepath.Join(t.TempDir(), "conform.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// conformScenarios loads each scenario into both engines and compares all
// KPIs over the scenario's period and cutoff.
func conformScenarios(t *testing.T, srv *chtest.Server) {
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skip("no scenarios under testdata/")
	}
	sort.Strings(files)
	var mu sync.Mutex
	total := 0
	t.Cleanup(func() { t.Logf("%d scenarios, %d figures identical on both engines", len(files), total) })
	for i, file := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.ToSlash(file), "testdata/"), ".txtar")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			sections := map[string][]byte{}
			for _, f := range ar.Files {
				sections[f.Name] = f.Data
			}
			sc, err := parseScenario(sections["scenario.yaml"])
			if err != nil {
				t.Fatalf("scenario.yaml: %v", err)
			}
			cal, err := calendarsFor(sc.Config)
			if errors.Is(err, errNoCalendarPackage) {
				t.Skip(err)
			}
			if err != nil {
				t.Fatal(err)
			}
			recs := decodeEvents(t, file, sections["events.jsonl"])
			recs = append(recs, decodeStatuses(t, file, sections["statuses.jsonl"])...)
			duck := openDuck(t)
			ch := openCH(t, srv.DSN(fmt.Sprintf("conform_s%03d", i)))
			both := []store.Store{duck, ch}
			for _, st := range both {
				if len(recs) > 0 {
					if _, err := st.Load(ctx, recs); err != nil {
						t.Fatalf("%s: loading: %v", st.Dialect(), err)
					}
				}
				if _, err := transforms.Run(ctx, st, cal, sc.cutoff); err != nil {
					t.Fatalf("%s: building facts: %v", st.Dialect(), err)
				}
			}
			n := 0
			// category and workflow come from the same join as queue; the
			// demo compares every dimension, week included.
			for _, by := range []string{"", "queue"} {
				n += compareEngines(t, duck, ch, transforms.Request{From: sc.from, To: sc.to, Cutoff: sc.cutoff, Loc: time.UTC, By: by})
			}
			mu.Lock()
			total += n
			mu.Unlock()
		})
	}
}

// teeLoader writes every batch to both stores and requires the same
// number of new rows per table from each.
type teeLoader struct {
	a, b store.Store
}

func (l teeLoader) Load(ctx context.Context, recs []models.Record) (map[models.Table]int, error) {
	x, err := l.a.Load(ctx, recs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.a.Dialect(), err)
	}
	y, err := l.b.Load(ctx, recs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.b.Dialect(), err)
	}
	for t := range x {
		if x[t] != y[t] {
			return nil, fmt.Errorf("%s gained %d rows, %s %d", l.a.Dialect(), x[t], l.b.Dialect(), y[t])
		}
	}
	for t := range y {
		if x[t] != y[t] {
			return nil, fmt.Errorf("%s: %s gained %d rows, %s %d", t, l.a.Dialect(), x[t], l.b.Dialect(), y[t])
		}
	}
	return x, nil
}

// conformDemo generates a demo data set, ingests it into DuckDB and ch with
// the real collectors (twice: the second run must add nothing) and compares
// the KPIs at two cutoffs, overall and by every dimension.
func conformDemo(t *testing.T, ch *clickhouse.Store, cases int) {
	ctx := context.Background()
	end := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	if _, err := gen.Generate(ctx, gen.Options{Out: dir, Cases: cases, Seed: 42, Weeks: 8, End: end}); err != nil {
		t.Fatal(err)
	}
	duck := openDuck(t)
	tee := teeLoader{duck, ch}
	for run := 1; run <= 2; run++ {
		began := time.Now()
		sum, err := ingest.Run(ctx, ingest.Options{Source: "auto", Env: ingesttest.Env(t), Loader: tee, BatchRecords: 20_000, Workers: 2}, []string{dir})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("ingest run %d (both engines): %s in %s", run, sum, time.Since(began).Round(time.Millisecond))
		if run == 2 && sum.TotalIngested() != 0 {
			t.Fatalf("re-ingesting added %d rows", sum.TotalIngested())
		}
	}
	dc, err := duck.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := ch.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(dc, cc) {
		t.Fatalf("row counts differ: duckdb %v, clickhouse %v", dc, cc)
	}
	newest, err := transforms.NewestEvent(ctx, duck.DB())
	if err != nil {
		t.Fatal(err)
	}
	chNewest, err := transforms.NewestEvent(ctx, ch.DB())
	if err != nil {
		t.Fatal(err)
	}
	if !newest.Equal(chNewest) {
		t.Fatalf("newest event: duckdb %s, clickhouse %s", newest, chNewest)
	}
	cal := transforms.AlwaysOpen{Target: config.DefaultSLATarget}
	total := 0
	// An earlier cutoff first (open cases, pending waits), then the newest
	// event, which the figures logged below are as of.
	for _, cutoff := range []time.Time{end.AddDate(0, 0, -17).Add(13*time.Hour + 7*time.Minute), newest} {
		for _, st := range []store.Store{duck, ch} {
			began := time.Now()
			if _, err := transforms.Ensure(ctx, st, cal, cutoff); err != nil {
				t.Fatalf("%s: building facts as of %s: %v", st.Dialect(), cutoff, err)
			}
			t.Logf("%s: facts as of %s built in %s", st.Dialect(), cutoff.Format(time.RFC3339), time.Since(began).Round(time.Millisecond))
		}
		for _, req := range []transforms.Request{
			{From: end.AddDate(0, 0, -7*8), To: end},
			{From: end.AddDate(0, 0, -7), To: end},
		} {
			req.Cutoff = cutoff
			req.Loc = time.UTC
			for _, by := range append([]string{""}, transforms.Dimensions...) {
				req.By = by
				total += compareEngines(t, duck, ch, req)
			}
		}
		// The facts are not rebuilt when nothing changed.
		rebuilt, err := transforms.Ensure(ctx, ch, cal, cutoff)
		if err != nil || rebuilt {
			t.Fatalf("second Ensure on clickhouse rebuilt=%v err=%v, want no rebuild", rebuilt, err)
		}
	}
	t.Logf("%d figures identical on both engines", total)
	for _, from := range []time.Time{end.AddDate(0, 0, -7), end.AddDate(0, 0, -7*8)} {
		req := transforms.Request{From: from, To: end, Cutoff: newest, Loc: time.UTC}
		want, err := transforms.Compute(ctx, duck, req)
		if err != nil {
			t.Fatal(err)
		}
		got, err := transforms.Compute(ctx, ch, req)
		if err != nil {
			t.Fatal(err)
		}
		lines := []string{fmt.Sprintf("  %-26s %-28s %s", "KPI", "duckdb", "clickhouse")}
		for i := range want {
			if i < len(got) {
				lines = append(lines, fmt.Sprintf("  %-26s %-28s %s", want[i].KPI, fmtFigure(want[i]), fmtFigure(got[i])))
			}
		}
		t.Logf("[%s, %s) as of %s:\n%s", from.Format("2006-01-02"), end.Format("2006-01-02"), newest.Format(time.RFC3339), strings.Join(lines, "\n"))
	}
}

// compareEngines computes req on both stores and reports every difference;
// it returns the number of figures compared.
func compareEngines(t *testing.T, duck, ch store.Store, req transforms.Request) int {
	t.Helper()
	ctx := context.Background()
	want, err := transforms.Compute(ctx, duck, req)
	if err != nil {
		t.Fatalf("duckdb: %v", err)
	}
	got, err := transforms.Compute(ctx, ch, req)
	if err != nil {
		t.Fatalf("clickhouse: %v", err)
	}
	key := func(f transforms.Figure) string { return f.KPI + "|" + f.Group }
	gm := map[string]transforms.Figure{}
	for _, f := range got {
		gm[key(f)] = f
	}
	if len(got) != len(want) {
		t.Errorf("by %q: duckdb gave %d figures, clickhouse %d", req.By, len(want), len(got))
	}
	for _, w := range want {
		g, ok := gm[key(w)]
		if !ok {
			t.Errorf("by %q: %s group %q: missing on clickhouse", req.By, w.KPI, w.Group)
			continue
		}
		for _, d := range figureDiffs(w, g) {
			t.Errorf("by %q [%s, %s) as of %s: %s group %q: %s", req.By, req.From.Format("2006-01-02"), req.To.Format("2006-01-02"),
				req.Cutoff.Format(time.RFC3339), w.KPI, w.Group, d)
		}
	}
	return len(want)
}

func figureDiffs(w, g transforms.Figure) []string {
	var out []string
	diff := func(field string, a, b any) {
		if !reflect.DeepEqual(a, b) {
			out = append(out, fmt.Sprintf("%s: duckdb %v, clickhouse %v", field, short(a), short(b)))
		}
	}
	diff("version", w.Version, g.Version)
	diff("kind", w.Kind, g.Kind)
	diff("numerator", w.Numerator, g.Numerator)
	diff("denominator", deref(w.Denominator), deref(g.Denominator))
	switch {
	case (w.Value == nil) != (g.Value == nil):
		diff("value", derefF(w.Value), derefF(g.Value))
	case w.Value != nil && *w.Value != *g.Value && !(math.IsNaN(*w.Value) && math.IsNaN(*g.Value)):
		diff("value", *w.Value, *g.Value)
	}
	diff("immature", w.Immature, g.Immature)
	diff("unit", w.Unit, g.Unit)
	diff("definition", w.Definition, g.Definition)
	diff("breakdown", w.Breakdown, g.Breakdown)
	diff("numerator_cases", w.NumeratorCases, g.NumeratorCases)
	diff("denominator_cases", w.DenominatorCases, g.DenominatorCases)
	diff("numerator_units", w.NumeratorUnits, g.NumeratorUnits)
	diff("denominator_units", w.DenominatorUnits, g.DenominatorUnits)
	return out
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

func derefF(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// short keeps long id lists readable in failure messages.
func short(v any) string {
	if s, ok := v.([]string); ok && len(s) > 8 {
		return fmt.Sprintf("%d ids %v …", len(s), s[:8])
	}
	return fmt.Sprint(v)
}

func fmtFigure(f transforms.Figure) string {
	v := "-"
	if f.Value != nil {
		v = fmt.Sprintf("%.4f", *f.Value)
	}
	if f.Denominator == nil {
		return fmt.Sprintf("%s (%d)", v, f.Numerator)
	}
	return fmt.Sprintf("%s (%d/%d)", v, f.Numerator, *f.Denominator)
}
