package reports

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/closedloop/closedloop/store"
	"github.com/closedloop/closedloop/transforms"
)

// TestGatesEqualThePacks checks that Gates, which reads only the gates'
// inputs, says what Build puts in the pack, and what the gates say on the
// pack's own figures (every KPI computed unit row by unit row, as Build
// did before the gates had their own inputs): ok, failing and warn-only.
func TestGatesEqualThePacks(t *testing.T) {
	ctx := context.Background()
	st := openTestStore(t)
	base := testOptions(t, st)
	base.Pilot, base.Baseline = "", ""
	from, _, err := ParseWeek(testWeek, base.Loc)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		change func(*Options)
		failed []string // gates not OK, "name" blocking or "name (warning)"
	}{
		{"published week", func(*Options) {}, nil},
		{"eight trend weeks", func(o *Options) { o.Weeks = 8 }, nil},
		// An as-of in the middle of the reported week leaves events after it.
		{"events after the as-of", func(o *Options) { o.AsOf = from.Add(72 * time.Hour) }, []string{GateFutureEvents}},
		{"expected source silent, warn-only", func(o *Options) {
			o.Sources = []string{"ghost"}
			o.WarnOnly = []string{GateSilentSource}
		}, []string{GateSilentSource + " (warning)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			opt := base
			c.change(&opt)
			got, err := Gates(ctx, st, opt)
			if err != nil {
				t.Fatal(err)
			}
			var failed []string
			for _, g := range got {
				switch {
				case g.OK:
				case g.Blocking:
					failed = append(failed, g.Name)
				default:
					failed = append(failed, g.Name+" (warning)")
				}
			}
			if !reflect.DeepEqual(failed, c.failed) {
				t.Errorf("failing gates %q, want %q: %+v", failed, c.failed, got)
			}

			forced := opt
			forced.Force = true
			p, err := Build(ctx, st, forced)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, p.Quality.Gates) {
				t.Errorf("Gates:\n%+v\nthe pack's gates:\n%+v", got, p.Quality.Gates)
			}

			in, ref := gateInputsAndReference(t, st, opt)
			if g := in.gates(opt.AsOf.UTC().Truncate(time.Millisecond), opt.WarnOnly); !reflect.DeepEqual(g, ref) {
				t.Errorf("gates on their own inputs:\n%+v\non the pack's figures:\n%+v", g, ref)
			}
		})
	}
}

// gateInputsAndReference gathers the gates' inputs, checks their rates
// against the same rates computed by transforms.ComputeWeeks and Compute,
// and returns the gates evaluated on those figures.
func gateInputsAndReference(t *testing.T, st store.Store, opt Options) (gateInputs, []Gate) {
	t.Helper()
	ctx := context.Background()
	pr, err := prepare(ctx, st, &opt)
	if err != nil {
		t.Fatal(err)
	}
	in, err := pr.gateInputs(opt)
	if err != nil {
		t.Fatal(err)
	}
	weeks, err := transforms.ComputeWeeks(ctx, st, transforms.Request{To: pr.to, Cutoff: pr.asof, Loc: opt.Loc}, pr.starts)
	if err != nil {
		t.Fatal(err)
	}
	req := transforms.Request{From: pr.from, To: pr.to, Cutoff: pr.asof, Loc: opt.Loc, By: "queue"}
	byQueue, err := transforms.Compute(ctx, st, req)
	if err != nil {
		t.Fatal(err)
	}
	req.By, req.Only = "workflow", workflowKPIs
	byWorkflow, err := transforms.Compute(ctx, st, req)
	if err != nil {
		t.Fatal(err)
	}
	all := append(append([]transforms.Figure{}, byQueue...), byWorkflow...)
	for _, w := range weeks {
		all = append(all, w...)
	}
	week := weeks[len(weeks)-1]
	for _, set := range []struct {
		name      string
		got, want []transforms.Figure
	}{{"all", in.all, all}, {"week", in.week, week}, {"by queue", in.byQueue, byQueue}} {
		if g, w := rateLines(set.got), rateLines(set.want); !reflect.DeepEqual(g, w) {
			t.Errorf("%s rates:\n%q\nwant\n%q", set.name, g, w)
		}
	}
	if len(rateLines(week)) < 10 {
		t.Fatalf("only %d rates in the reported week", len(rateLines(week)))
	}
	return in, gates(all, week, byQueue, in.fresh, in.future, pr.asof, opt.WarnOnly)
}

// rateLines prints the rate figures of a list, in order, as the gates
// read them.
func rateLines(figs []transforms.Figure) []string {
	var out []string
	for _, f := range figs {
		if f.Kind != transforms.KindRate {
			continue
		}
		v := "nil"
		if f.Value != nil {
			v = fmt.Sprint(*f.Value)
		}
		out = append(out, fmt.Sprintf("%s [%s] %d/%d = %s", f.KPI, f.Group, f.Numerator, deref(f.Denominator), v))
	}
	return out
}
