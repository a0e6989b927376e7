package reports

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/closedloop/closedloop/diagnose"
)

// The SQL layer of the diagnosis against the test store: every case of the
// window is read once, with events that agree with case_facts, and the
// pack carries the diagnosis, the demand map and its charts.
func TestDiagnosisOnTheTestStore(t *testing.T) {
	st := openTestStore(t)
	opt := testOptions(t, st)
	p, err := Build(context.Background(), st, opt)
	if err != nil {
		t.Fatal(err)
	}
	_, to, _ := ParseWeek(testWeek, opt.Loc)
	from := to.AddDate(0, 0, -30)
	cases, err := diagnose.Load(context.Background(), st, from, to, opt.AsOf)
	if err != nil {
		t.Fatal(err)
	}
	var want, completed int
	if err := st.DB().QueryRow(`SELECT count(*), count(completed_at) FROM case_facts WHERE opened_at >= $1 AND opened_at < $2`,
		from.UTC(), to.UTC()).Scan(&want, &completed); err != nil {
		t.Fatal(err)
	}
	if len(cases) != want || want == 0 {
		t.Fatalf("loaded %d cases, case_facts has %d", len(cases), want)
	}
	seen := map[string]bool{}
	done := 0
	for _, c := range cases {
		if seen[c.ID] {
			t.Fatalf("case %s read twice", c.ID)
		}
		seen[c.ID] = true
		if c.Completed {
			done++
			if !strings.Contains(c.Path(), "completed") {
				t.Errorf("%s completed but its path is %s", c.ID, c.Path())
			}
		}
		if len(c.Events) == 0 || c.Trigger == "" {
			t.Errorf("%s: events %v, trigger %q", c.ID, c.Events, c.Trigger)
		}
		if len(c.Events) > 0 && c.Events[0] == "opened" && !strings.HasPrefix(c.Trigger, "opened") {
			t.Errorf("%s: trigger %q does not start with its first event", c.ID, c.Trigger)
		}
	}
	if done != completed {
		t.Errorf("%d completed cases loaded, case_facts has %d", done, completed)
	}
	d := p.Diagnosis
	if d == nil || d.Cases != want || len(d.Candidates) == 0 || d.Days != 30 {
		t.Fatalf("pack diagnosis: %+v", d)
	}
	if c := d.Candidates[0]; c.Name != "promise_to_pay" || c.Verdict != diagnose.VerdictReady ||
		!strings.HasPrefix(c.Reason, "promise_to_pay: ready — ") {
		t.Errorf("first candidate %+v", c)
	}

	// The demand map covers the trend weeks, and its cells add up.
	dm := p.Demand
	var n int64
	if err := st.DB().QueryRow(`SELECT count(*) FROM case_facts WHERE opened_at >= $1 AND opened_at < $2`,
		mustWeekStart(t, p.Weeks[0], opt.Loc).UTC(), to.UTC()).Scan(&n); err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, row := range dm.Heatmap {
		for _, v := range row {
			sum += v
		}
	}
	if dm.Cases != n || sum != n || len(dm.Weeks) != 12 || dm.Weeks[11] != testWeek || len(dm.Trend) != DemandTopCategories {
		t.Errorf("demand: %d cases, cells %d, want %d; weeks %v; %d trend series", dm.Cases, sum, n, dm.Weeks, len(dm.Trend))
	}
	for _, s := range dm.ByCategory {
		if s.Heatmap != nil {
			t.Errorf("the pack keeps per-category maps (%s)", s.Key)
		}
	}
	if len(echartsJS) > 0 {
		html, err := p.HTML()
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`id="chart-demand-heatmap"`, `id="chart-demand-trend"`, `<section id="diagnosis">`,
			"Where to automate next", "Scale gate: ", `"type":"heatmap"`, `"data":["00","01","02",`, `"data":["Mon","Tue","Wed","Thu","Fri","Sat","Sun"]`} {
			if !bytes.Contains(html, []byte(want)) {
				t.Errorf("the pack has no %s", want)
			}
		}
	}
}

func mustWeekStart(t *testing.T, week string, loc *time.Location) time.Time {
	t.Helper()
	from, _, err := ParseWeek(week, loc)
	if err != nil {
		t.Fatal(err)
	}
	return from
}
