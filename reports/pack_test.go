package reports

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/closedloop/closedloop/config"
	"github.com/closedloop/closedloop/gen"
	"github.com/closedloop/closedloop/ingest"
	_ "github.com/closedloop/closedloop/ingest/all"
	"github.com/closedloop/closedloop/pii"
	"github.com/closedloop/closedloop/store"
	_ "github.com/closedloop/closedloop/store/duckdb"
	"github.com/closedloop/closedloop/transforms"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// The test store: a small deterministic simulated operation (fixed seed,
// fixed end, fixed ingest time and pseudonymisation key), 12 weeks ending
// Monday 2026-03-02, reported for week 2026-W09.
const (
	testWeek = "2026-W09"
	testZone = "Europe/London"
)

var (
	testDB  string
	testErr error
)

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "closedloop-reports-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testDB, testErr = buildStore(dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func buildStore(dir string) (string, error) {
	ctx := context.Background()
	in := filepath.Join(dir, "inputs")
	end := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	if _, err := gen.Generate(ctx, gen.Options{Out: in, Cases: 700, Seed: 11, Weeks: 12, End: end}); err != nil {
		return "", fmt.Errorf("generating: %w", err)
	}
	db := filepath.Join(dir, "test.duckdb")
	st, err := store.Open(ctx, db, store.Options{})
	if err != nil {
		return "", err
	}
	defer st.Close()
	ps, err := pii.New([]byte("reports-test-key-0123456789abcdef"), false)
	if err != nil {
		return "", err
	}
	_, err = ingest.Run(ctx, ingest.Options{Source: "auto", Loader: st,
		Env: &ingest.Env{Pseudo: ps, Now: time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)}}, []string{in})
	if err != nil {
		return "", fmt.Errorf("ingesting: %w", err)
	}
	return db, nil
}

func openTestStore(t *testing.T) store.Store {
	t.Helper()
	if testErr != nil {
		t.Fatalf("building the test store: %v", testErr)
	}
	st, err := store.Open(context.Background(), testDB, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func testOptions(t *testing.T, st store.Store) Options {
	t.Helper()
	loc, err := time.LoadLocation(testZone)
	if err != nil {
		t.Fatal(err)
	}
	asof, err := transforms.NewestEvent(context.Background(), st.DB())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse([]byte(gen.DemoConfigYAML()))
	if err != nil {
		t.Fatal(err)
	}
	return Options{Week: testWeek, Loc: loc, AsOf: asof,
		Pilot: "workflow=promise_to_pay", Baseline: "workflow=address_update", Config: cfg}
}

func buildPack(t *testing.T) *Pack {
	t.Helper()
	st := openTestStore(t)
	p, err := Build(context.Background(), st, testOptions(t, st))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// needCharts fails with instructions when the echarts asset is missing.
func needCharts(t *testing.T) {
	t.Helper()
	if len(echartsJS) == 0 {
		t.Fatal(ErrNoCharts)
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./reports -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs from the golden file at line %d:\n got: %s\nwant: %s\n(if the change is intended: go test ./reports -update)", name, i+1, g, w)
			}
		}
	}
}

var packDataRe = regexp.MustCompile(`(?s)<script type="application/json" id="pack-data">(.*?)</script>`)

func TestGoldenFiguresCSV(t *testing.T) {
	p := buildPack(t)
	csv := p.FiguresCSV()
	if !bytes.HasPrefix(csv, []byte("week,kpi,group,value,numerator,denominator,version,immature\n")) {
		t.Fatalf("figures.csv header: %q", csv[:80])
	}
	golden(t, "figures.golden.csv", csv)
}

func TestGoldenPackData(t *testing.T) {
	needCharts(t)
	p := buildPack(t)
	html, err := p.HTML()
	if err != nil {
		t.Fatal(err)
	}
	m := packDataRe.FindSubmatch(html)
	if m == nil {
		t.Fatal("no pack-data block in the HTML")
	}
	golden(t, "pack-data.golden.json", append(m[1], '\n'))

	// Sanity of what the golden holds, so a regenerated golden cannot
	// silently hold an empty pack.
	if p.Status != StatusPublished {
		t.Errorf("status %q, want published", p.Status)
	}
	if len(p.Weeks) != 12 || p.Weeks[11] != testWeek {
		t.Errorf("trend weeks %v", p.Weeks)
	}
	if len(p.Headline) < 15 || len(p.Queues) == 0 || len(p.Workflows) == 0 || len(p.Writeback) == 0 {
		t.Errorf("pack sections empty: %d headline, %d queues, %d workflows, %d writeback systems",
			len(p.Headline), len(p.Queues), len(p.Workflows), len(p.Writeback))
	}
	if p.Pilot == nil || len(p.Pilot.Metrics) != 5 {
		t.Errorf("pilot comparison missing: %+v", p.Pilot)
	}
	for _, g := range p.Quality.Gates {
		if !g.OK {
			t.Errorf("gate %s failed: %s", g.Name, g.Detail)
		}
	}
}

// Every figure of the week links to a drill-down block that exists.
func TestEveryFigureLinksToItsDrilldown(t *testing.T) {
	needCharts(t)
	p := buildPack(t)
	html, err := p.HTML()
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range p.Headline {
		if !bytes.Contains(html, []byte(`href="#`+drillID(h.KPI)+`"`)) {
			t.Errorf("%s has no link to its drill-down", h.KPI)
		}
		if !bytes.Contains(html, []byte(`id="`+drillID(h.KPI)+`"`)) {
			t.Errorf("%s has no drill-down block", h.KPI)
		}
	}
	csvs := p.DrilldownCSVs()
	for _, h := range p.Headline {
		c, ok := csvs[h.KPI]
		if !ok {
			t.Errorf("no drilldown/%s.csv", h.KPI)
			continue
		}
		if h.Numerator > 0 && !bytes.Contains(c, []byte(",all,")) {
			t.Errorf("drilldown/%s.csv has no overall rows", h.KPI)
		}
	}
}

// The pack must open offline: nothing in it may load from the network.
func TestPackHasNoNetworkReferences(t *testing.T) {
	needCharts(t)
	html, err := buildPack(t).HTML()
	if err != nil {
		t.Fatal(err)
	}
	lower := bytes.ToLower(html)
	for _, bad := range []string{`src="http`, `src='http`, `href="http`, `href='http`, `url(http`, `url("http`,
		`url('http`, `//cdn`, `<link`, `@import`, `<script src`, `go-echarts.github.io`, `src="//`, `href="//`} {
		if i := bytes.Index(lower, []byte(bad)); i >= 0 {
			lo, hi := max(0, i-80), min(len(html), i+80)
			t.Errorf("the pack references the network (%q): …%s…", bad, html[lo:hi])
		}
	}
	// Every script is inline.
	for _, m := range regexp.MustCompile(`<script[^>]*>`).FindAll(html, -1) {
		if bytes.Contains(m, []byte("src")) {
			t.Errorf("external script: %s", m)
		}
	}
}

// The same store and week give a byte-identical pack.
func TestPackIsReproducible(t *testing.T) {
	needCharts(t)
	var outs [2]string
	for i := range outs {
		outs[i] = t.TempDir()
		if _, err := Write(outs[i], buildPack(t)); err != nil {
			t.Fatal(err)
		}
	}
	var files []string
	err := filepath.Walk(outs[0], func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			rel, _ := filepath.Rel(outs[0], path)
			files = append(files, rel)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("only %v written", files)
	}
	for _, f := range files {
		a, _ := os.ReadFile(filepath.Join(outs[0], f))
		b, err := os.ReadFile(filepath.Join(outs[1], f))
		if err != nil {
			t.Fatalf("%s missing in the second render: %v", f, err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two renders of the same week", f)
		}
	}
	html, _ := os.ReadFile(filepath.Join(outs[0], "pack.html"))
	// The only time in the pack is the stated as-of.
	if bytes.Contains(html, []byte(time.Now().UTC().Format("2006-01-02T15"))) {
		t.Error("the pack contains the current time")
	}
}

func TestGatesRefuseUnlessForced(t *testing.T) {
	st := openTestStore(t)
	opt := testOptions(t, st)
	// An as-of in the middle of the reported week leaves events after it.
	from, _, _ := ParseWeek(testWeek, opt.Loc)
	opt.AsOf = from.Add(72 * time.Hour)
	opt.Pilot, opt.Baseline = "", ""
	_, err := Build(context.Background(), st, opt)
	ge, ok := err.(*GateError)
	if !ok {
		t.Fatalf("want a GateError, got %v", err)
	}
	if len(ge.Failed) == 0 || ge.Failed[0].Name != GateFutureEvents || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("gate error: %v", err)
	}
	opt.Force = true
	p, err := Build(context.Background(), st, opt)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != StatusForced {
		t.Fatalf("status %q, want %q", p.Status, StatusForced)
	}
	if len(echartsJS) > 0 {
		html, err := p.HTML()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(html, []byte("PUBLISHED WITH FAILING GATES")) {
			t.Error("a forced pack does not say so")
		}
	}
	opt.Force = false
	opt.WarnOnly = []string{GateFutureEvents}
	if p, err = Build(context.Background(), st, opt); err != nil || p.Status != StatusWarnings {
		t.Fatalf("warn-only gate: status %v, err %v", p, err)
	}
}

func TestParseWeek(t *testing.T) {
	loc, _ := time.LoadLocation("Europe/Berlin")
	from, to, err := ParseWeek("2026-W13", loc)
	if err != nil {
		t.Fatal(err)
	}
	// The week of the spring DST change is 167 hours long.
	if from.Format("2006-01-02 15:04 MST") != "2026-03-23 00:00 CET" || to.Sub(from) != 167*time.Hour {
		t.Errorf("2026-W13 = [%s, %s)", from, to)
	}
	if f, _, err := ParseWeek("2026-W01", time.UTC); err != nil || f.Format(time.DateOnly) != "2025-12-29" {
		t.Errorf("2026-W01 starts %s (%v), want 2025-12-29", f, err)
	}
	for _, bad := range []string{"2026-9", "2026-W00", "2026-W54", "2025-W53", "2026W09", " 2026-W09"} {
		if _, _, err := ParseWeek(bad, time.UTC); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, _, err := ParseWeek("2026-W53", time.UTC); err != nil {
		t.Errorf("2026 has 53 ISO weeks: %v", err)
	}
}

func TestParseSelector(t *testing.T) {
	s, err := ParseSelector(" workflow=promise_to_pay , since=2026-10-01")
	if err != nil || s.String() != "workflow=promise_to_pay,after=2026-10-01" {
		t.Fatalf("%v %v", s, err)
	}
	for _, bad := range []string{"", "workflow", "workflow=", "=x", "team=a", "before=2026-13-01", "before=01/10/2026",
		"queue=a,queue=b", "after=2026-10-01,since=2026-10-02", "after=2026-10-02,before=2026-10-01", "queue=a\x00b"} {
		if _, err := ParseSelector(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	// Values are parameters, never SQL.
	s, _ = ParseSelector("queue=x' OR '1'='1")
	cond, args := s.where(3, time.UTC)
	if cond != "queue = $3" || len(args) != 1 || args[0] != "x' OR '1'='1" {
		t.Fatalf("where: %s %v", cond, args)
	}
}

func TestCompareSmallCohortSaysSo(t *testing.T) {
	st := openTestStore(t)
	opt := testOptions(t, st)
	if _, err := transforms.Ensure(context.Background(), st, transforms.AlwaysOpen{Target: 15 * time.Minute}, opt.AsOf); err != nil {
		t.Fatal(err)
	}
	from, to, _ := ParseWeek(testWeek, opt.Loc)
	ps, _ := ParseSelector("workflow=kyc_refresh")
	bs, _ := ParseSelector("workflow=promise_to_pay")
	c, err := Compare(context.Background(), st, ps, bs, from, to, opt.AsOf, opt.Loc)
	if err != nil {
		t.Fatal(err)
	}
	m := c.Metrics[0]
	if m.Metric != "completion" || m.Pilot.N >= 30 || m.Verdict != VerdictTooSmall || !strings.Contains(m.TooSmall, "fewer than 30") {
		t.Fatalf("a week of kyc_refresh should be too small to decide: %+v", m)
	}
	if m.Diff != nil && *m.Diff != 0 && (m.Needed == nil || *m.Needed < 30) {
		t.Errorf("needed sample missing: %+v", m)
	}
	if !strings.HasPrefix(c.Scale, "not") {
		t.Errorf("scale verdict %q", c.Scale)
	}
}

// The funnel, channel, cost and governance sections hold what the test
// store holds (the goldens pin the figures; this keeps a regenerated
// golden from silently losing a section).
func TestChannelsAndGovernanceSections(t *testing.T) {
	needCharts(t)
	p := buildPack(t)
	byWf := map[string]transforms.FunnelResult{}
	for _, f := range p.Funnels {
		byWf[f.Workflow] = f
	}
	ptp, ok := byWf["promise_to_pay"]
	if !ok || ptp.Steps[0].Cases == 0 || ptp.Cost.Total <= 0 || ptp.Cost.PerCompleted == nil {
		t.Fatalf("promise_to_pay funnel: %+v", ptp)
	}
	if len(p.SequenceRows()) < 2 {
		t.Errorf("channel sequences %+v", p.SequenceRows())
	}
	g := p.Governance
	if g == nil || len(g.Weeks) != 12 || len(g.RiskLog) == 0 || len(g.Templates) == 0 || len(g.Pickup) == 0 {
		t.Fatalf("governance: %+v", g)
	}
	total := map[string]int64{}
	for _, f := range g.Findings {
		if !f.Configured {
			t.Errorf("%s is not configured with the demo configuration", f.Finding)
		}
		for _, w := range f.Weekly {
			total[f.Finding] += w.Count
		}
	}
	for _, name := range []string{transforms.FindingPersonalNumber, transforms.FindingUntrackedConversation,
		transforms.FindingHandoverNoReason, transforms.FindingPickupOverTarget, transforms.FindingUnreadableDocument} {
		if total[name] == 0 {
			t.Errorf("no %s in twelve weeks of the test store (%v)", name, total)
		}
	}
	html, err := p.HTML()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`id="channels"`, `id="chart-funnel-promise-to-pay"`, `id="chart-channel-sequences"`, `id="chart-cost"`,
		`id="chart-trend-findings"`, `id="gov-risk"`, `id="gov-pickup"`, `id="gov-templates"`, "drilldown/finding_personal_number.csv"} {
		if !bytes.Contains(html, []byte(want)) {
			t.Errorf("the pack lacks %s", want)
		}
	}
	csvs := p.DrilldownCSVs()
	if !bytes.HasPrefix(csvs["finding_untracked_conversation"], []byte("week,finding,ts,case_id,unit,key,detail\n")) {
		t.Errorf("finding CSV: %q", csvs["finding_untracked_conversation"])
	}
}
