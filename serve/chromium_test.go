package serve

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/closedloop/closedloop/reports"
	"github.com/closedloop/closedloop/transforms"
)

func chromiumPath(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if p, ok := reports.FindChromium(); ok {
		return p
	}
	t.Skip("Chromium is not installed: skipping the dashboard browser test (scripts/test installs Debian's chromium; or apt-get install chromium)")
	return ""
}

// saveScreenshot writes a PNG to the test's directory and, when set, to
// $CLOSEDLOOP_SCREENSHOT_DIR.
func saveScreenshot(t *testing.T, dir, name string, png []byte) {
	t.Helper()
	dirs := []string{dir}
	if d := os.Getenv("CLOSEDLOOP_SCREENSHOT_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", p)
	}
}

type tileData struct {
	KPI   string `json:"kpi"`
	Value string `json:"value"`
	Num   string `json:"num"`
	Den   string `json:"den"`
	Href  string `json:"href"`
	Text  string `json:"text"`
}

// TestDashboardInChromium logs in through the form in headless Chromium,
// opens the dashboard, checks every KPI tile against transforms.Compute for
// the same week and cutoff (what `closedloop kpi` prints), follows a
// drill-down to a case page, and saves screenshots.
func TestDashboardInChromium(t *testing.T) {
	chromium := chromiumPath(t)
	ts := newTestServer(t, generatedStore(t))
	shots := t.TempDir()

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromium),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1400))
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting %s: %v", chromium, err)
	}
	var mu sync.Mutex
	var requested []string
	var consoleErrors []string
	requests := chromedp.Events(bctx, network.RequestWillBeSent)
	console := chromedp.Console(bctx)
	go func() {
		for ev, err := range requests {
			if err != nil {
				return
			}
			mu.Lock()
			requested = append(requested, ev.Request.URL)
			mu.Unlock()
		}
	}()
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				mu.Lock()
				consoleErrors = append(consoleErrors, m.Text)
				mu.Unlock()
			}
		}
	}()

	// 1. Unauthenticated: the dashboard sends the browser to the login form.
	if err := chromedp.Do(bctx, chromedp.Navigate(ts.url+"/"), chromedp.WaitVisible(chromedp.ID("token"))); err != nil {
		t.Fatalf("opening the dashboard: %v", err)
	}
	loc, err := chromedp.Run(bctx, chromedp.Location())
	if err != nil || !strings.Contains(loc, "/login?next=") {
		t.Fatalf("not redirected to the login form: %q %v", loc, err)
	}
	// 2. Log in with the analyst token.
	if err := chromedp.Do(bctx,
		chromedp.SendKeys(chromedp.ID("token"), analystToken),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("tiles"))); err != nil {
		t.Fatalf("logging in: %v", err)
	}
	ready, err := chromedp.Run(bctx, chromedp.Poll[string](`document.documentElement.getAttribute("data-charts-ready")`,
		chromedp.WithPollingTimeout(60*time.Second)))
	if err != nil {
		t.Fatalf("the charts never initialised: %v", err)
	}
	if ready != "3" {
		t.Errorf("%s charts initialised, want 3", ready)
	}
	svgs, err := chromedp.Run(bctx, chromedp.Evaluate[int](`Array.from(document.querySelectorAll(".chart")).filter(function (el) {
		var g = el.querySelector("svg"); return g && g.getBoundingClientRect().width > 50 && g.getBoundingClientRect().height > 50; }).length`))
	if err != nil || svgs != 3 {
		t.Errorf("%d rendered charts (svg), want 3 (%v)", svgs, err)
	}
	tiles, err := chromedp.Run(bctx, chromedp.Evaluate[[]tileData](`Array.from(document.querySelectorAll("#tiles .tile")).map(function (e) {
		return {kpi: e.dataset.kpi, value: e.dataset.value, num: e.dataset.numerator, den: e.dataset.denominator,
			href: e.getAttribute("href"), text: e.querySelector(".value").textContent}; })`))
	if err != nil {
		t.Fatal(err)
	}
	week, err := chromedp.Run(bctx, chromedp.TextContent(chromedp.ID("week")))
	if err != nil {
		t.Fatal(err)
	}
	asofAttribute, err := chromedp.Run(bctx, chromedp.AttributeValue(chromedp.ID("asof"), "data-asof"))
	if err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	saveScreenshot(t, shots, "dashboard.png", png)

	// 3. The figures shown are transforms.Compute's for that week and cutoff.
	asof, err := time.Parse(time.RFC3339, asofAttribute.Value)
	if err != nil {
		t.Fatalf("as-of %q: %v", asofAttribute.Value, err)
	}
	// The cutoff is the newest event, as `closedloop kpi` takes by default.
	newest, err := transforms.NewestEvent(ctx, ts.st.DB())
	if err != nil || !newest.Equal(asof) {
		t.Errorf("dashboard as of %s, newest event %s (%v)", asof, newest, err)
	}
	if want := "2026-W09"; week != want {
		t.Errorf("dashboard week %s, want %s (the week of the newest event)", week, want)
	}
	from, to, err := reports.ParseWeek(week, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	var figs []transforms.Figure
	err = ts.WithWriteLock(func() error {
		var err error
		figs, err = transforms.Compute(ctx, ts.st, transforms.Request{From: from, To: to, Cutoff: asof, Loc: time.UTC})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	byKPI := map[string]transforms.Figure{}
	for _, f := range figs {
		if f.Group == "" {
			byKPI[f.KPI] = f
		}
	}
	if len(tiles) != len(byKPI) || len(tiles) < 10 {
		t.Errorf("%d tiles, want one per KPI (%d)", len(tiles), len(byKPI))
	}
	for _, tl := range tiles {
		f, ok := byKPI[tl.KPI]
		if !ok {
			t.Errorf("tile %s: no such figure", tl.KPI)
			continue
		}
		if tl.Num != strconv.FormatInt(f.Numerator, 10) {
			t.Errorf("%s: numerator shown %s, computed %d", tl.KPI, tl.Num, f.Numerator)
		}
		wantDen := ""
		if f.Denominator != nil {
			wantDen = strconv.FormatInt(*f.Denominator, 10)
		}
		if tl.Den != wantDen {
			t.Errorf("%s: denominator shown %q, computed %q", tl.KPI, tl.Den, wantDen)
		}
		switch {
		case f.Value == nil && tl.Value != "":
			t.Errorf("%s: value shown %s, computed none", tl.KPI, tl.Value)
		case f.Value != nil:
			v, err := strconv.ParseFloat(tl.Value, 64)
			if err != nil || math.Abs(v-*f.Value) > 1e-6*math.Max(1, math.Abs(*f.Value)) {
				t.Errorf("%s: value shown %q, computed %v", tl.KPI, tl.Value, *f.Value)
			}
		}
		if want := reports.Display(f.Kind, f.Value); strings.TrimSpace(tl.Text) != want {
			t.Errorf("%s: tile reads %q, want %q", tl.KPI, tl.Text, want)
		}
	}

	// 4. Drill down from a tile to the cases behind it.
	kpi := "agent_handover_rate"
	f := byKPI[kpi]
	if f.Numerator == 0 {
		t.Fatalf("%s has no cases this week; the fixture should have some", kpi)
	}
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.ID("tile-"+kpi)), chromedp.WaitVisible(chromedp.ID("kpi-title"))); err != nil {
		t.Fatalf("following the drill-down: %v", err)
	}
	listed, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#num-cases a.case-link")).map(function (a) { return a.textContent; })`))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(listed, f.NumeratorCases) {
		t.Errorf("drill-down lists %d cases, Compute has %d (%v vs %v)", len(listed), len(f.NumeratorCases), first(listed), first(f.NumeratorCases))
	}
	shown, err := chromedp.Run(bctx, chromedp.AttributeValue(chromedp.ID("kpi-figure"), "data-numerator"))
	if err != nil || shown.Value != strconv.FormatInt(f.Numerator, 10) {
		t.Errorf("drill-down numerator %q, computed %d (%v)", shown.Value, f.Numerator, err)
	}

	// 5. On to the first case's page.
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS("#num-cases a.case-link")), chromedp.WaitVisible(chromedp.ID("timeline"))); err != nil {
		t.Fatalf("opening a case: %v", err)
	}
	caseAttr, err := chromedp.Run(bctx, chromedp.AttributeValue(chromedp.ID("case-title"), "data-case"))
	if err != nil {
		t.Fatal(err)
	}
	if caseAttr.Value != f.NumeratorCases[0] {
		t.Errorf("case page of %q, want %q", caseAttr.Value, f.NumeratorCases[0])
	}
	kinds, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#timeline tr[data-kind]")).map(function (r) { return r.dataset.kind; })`))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(kinds, "message") || !slices.Contains(kinds, "case") {
		t.Errorf("the timeline lacks messages or case events: %v", kinds)
	}
	png, err = chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	saveScreenshot(t, shots, "case.png", png)
	if n := count(t, ts.st, `SELECT count(*) FROM audit_events WHERE action = 'case.view' AND object_id = ? AND actor = 'token:tokens[1]' AND actor_role = 'analyst'`, caseAttr.Value); n != 1 {
		t.Errorf("%d case.view audit records for the visit, want 1", n)
	}

	// Everything came from the server itself: no CDN, no other host.
	mu.Lock()
	defer mu.Unlock()
	for _, u := range requested {
		if !strings.HasPrefix(u, ts.url+"/") && !strings.HasPrefix(u, "data:") {
			t.Errorf("the dashboard requested %s", u)
		}
	}
	for _, e := range consoleErrors {
		t.Errorf("console error: %s", e)
	}
	t.Logf("%d requests, all to %s", len(requested), ts.url)
}

func first(s []string) []string { return s[:min(3, len(s))] }
