package transforms_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/closedloop/closedloop/gen"
	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/ingest/ingesttest"
	"github.com/closedloop/closedloop/transforms"
)

// TestComputeWeeksSQLEqualsGo checks that the trend weeks aggregated in
// DuckDB equal the figures aggregated in Go from every unit row: for 12
// weeks, overall and by queue, every KPI, at a cutoff inside the weeks
// (later weeks empty, open cases) and at the newest event. Weeks before the
// last carry no drill-down; the last week's figures equal in full.
func TestComputeWeeksSQLEqualsGo(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates and ingests a few thousand cases")
	}
	ctx := context.Background()
	end := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	if _, err := gen.Generate(ctx, gen.Options{Out: dir, Cases: 1500, Seed: 7, Weeks: 13, End: end}); err != nil {
		t.Fatal(err)
	}
	st := openDuck(t)
	if _, err := ingest.Run(ctx, ingest.Options{Source: "auto", Env: ingesttest.Env(t), Loader: st}, []string{dir}); err != nil {
		t.Fatal(err)
	}
	newest, err := transforms.NewestEvent(ctx, st.DB())
	if err != nil {
		t.Fatal(err)
	}
	// Weeks start at midnight in Berlin, an hour before midnight UTC.
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	to := time.Date(2026, 3, 2, 0, 0, 0, 0, loc)
	var starts []time.Time
	for i := 12; i >= 1; i-- {
		starts = append(starts, to.AddDate(0, 0, -7*i))
	}
	seen := map[string]bool{}
	for _, cutoff := range []time.Time{end.AddDate(0, 0, -17).Add(13*time.Hour + 7*time.Minute), newest} {
		if _, err := transforms.Ensure(ctx, st, transforms.AlwaysOpen{Target: 15 * time.Minute}, cutoff); err != nil {
			t.Fatal(err)
		}
		for _, by := range []string{"", "queue"} {
			req := transforms.Request{To: to, Cutoff: cutoff, Loc: loc, By: by}
			got, err := transforms.ComputeWeeks(ctx, st, req, starts)
			if err != nil {
				t.Fatal(err)
			}
			want, err := transforms.ComputeWeeksInGo(ctx, st, req, starts)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(starts) || len(want) != len(starts) {
				t.Fatalf("by %q: %d and %d weeks, want %d", by, len(got), len(want), len(starts))
			}
			for i := range starts {
				if i < len(starts)-1 {
					for j := range want[i] {
						f := &want[i][j]
						f.NumeratorCases, f.DenominatorCases, f.NumeratorUnits, f.DenominatorUnits = nil, nil, nil, nil
					}
				}
				if !reflect.DeepEqual(got[i], want[i]) {
					g, _ := json.MarshalIndent(got[i], "", " ")
					w, _ := json.MarshalIndent(want[i], "", " ")
					t.Fatalf("cutoff %s, by %q, week %d: SQL figures\n%s\nGo figures\n%s", cutoff, by, i, g, w)
				}
				for _, f := range got[i] {
					if f.Denominator != nil && *f.Denominator > 0 {
						seen["counted"] = true
					}
					if f.Kind == transforms.KindPercentile && f.Value != nil {
						seen["percentile"] = true
					}
					if len(f.Breakdown) > 0 {
						seen["breakdown"] = true
					}
					if f.Immature {
						seen["immature"] = true
					}
					if f.Group == "(none)" {
						seen["no queue"] = true
					}
					if i == len(starts)-1 && len(f.DenominatorCases) > 0 {
						seen["drill-down"] = true
					}
				}
			}
			if by == "" {
				for i := range got {
					if len(got[i]) < 19 {
						t.Errorf("week %d: %d figures overall, want one or two per KPI", i, len(got[i]))
					}
				}
			}
		}
	}
	for _, k := range []string{"counted", "percentile", "breakdown", "immature", "drill-down"} {
		if !seen[k] {
			t.Errorf("no figure %s: the comparison is too weak", k)
		}
	}
	t.Logf("seen: %v", seen)
}
