package reports

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// chromiumPath finds Debian's chromium (installed by scripts/test).
func chromiumPath(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if p, ok := FindChromium(); ok {
		return p
	}
	t.Skip("Chromium is not installed: skipping the browser test (scripts/test installs Debian's chromium; or apt-get install chromium)")
	return ""
}

// TestPackRendersInChromium opens the pack from file:// in headless
// Chromium with the network cut off, checks that every chart container
// holds a rendered chart, that the console stayed free of errors and that
// no request left the file, and saves a screenshot.
func TestPackRendersInChromium(t *testing.T) {
	needCharts(t)
	chromium := chromiumPath(t)
	dir := t.TempDir()
	p := buildPack(t)
	files, err := Write(dir, p)
	if err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(dir, files.HTML)
	wantCharts := len(p.chartSet())

	profile := t.TempDir()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// No name resolves: even a forgotten URL cannot reach a network.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND"),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1100, 1400),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()

	// Start the browser, then cut the network before loading the pack.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting %s: %v", chromium, err)
	}
	if _, err := chromedp.Call(bctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{
		Offline: true, DownloadThroughput: -1, UploadThroughput: -1}); err != nil {
		t.Fatalf("taking the browser offline: %v", err)
	}
	if _, err := chromedp.Call(bctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
		MatchedNetworkConditions: []*network.Conditions{{Offline: true, DownloadThroughput: -1, UploadThroughput: -1}}}); err != nil {
		t.Fatalf("taking the browser offline: %v", err)
	}
	// Collect console messages and requests while the page runs.
	var mu sync.Mutex
	var messages []chromedp.ConsoleMessage
	var requested []string
	console := chromedp.Console(bctx)
	requests := chromedp.Events(bctx, network.RequestWillBeSent)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			mu.Lock()
			messages = append(messages, m)
			mu.Unlock()
		}
	}()
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

	if err := chromedp.Do(bctx, chromedp.Navigate("file://"+filepath.ToSlash(page))); err != nil {
		t.Fatalf("opening the pack: %v", err)
	}
	ready, err := chromedp.Run(bctx, chromedp.Poll[string](`document.documentElement.getAttribute("data-charts-ready")`,
		chromedp.WithPollingTimeout(60*time.Second)))
	if err != nil {
		t.Fatalf("the charts never finished initialising: %v", err)
	}
	if ready != fmt.Sprint(wantCharts) {
		t.Errorf("%s charts initialised, want %d", ready, wantCharts)
	}
	type report struct {
		Containers int      `json:"containers"`
		Missing    []string `json:"missing"`
	}
	r, err := chromedp.Run(bctx, chromedp.Evaluate[report](`(function () {
		var els = document.querySelectorAll("[data-chart]"), missing = [];
		for (var i = 0; i < els.length; i++) {
			var el = els[i], g = el.querySelector("svg, canvas");
			if (!g || g.getBoundingClientRect().width < 50 || g.getBoundingClientRect().height < 50) { missing.push(el.id); }
		}
		return { containers: els.length, missing: missing };
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if r.Containers != wantCharts {
		t.Errorf("%d chart containers, want %d", r.Containers, wantCharts)
	}
	if len(r.Missing) > 0 {
		t.Errorf("charts not rendered (no svg or canvas): %s", strings.Join(r.Missing, ", "))
	}
	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.ArtifactDir(), "pack.png")
	if err := os.WriteFile(out, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", out)
	if d := os.Getenv("CLOSEDLOOP_SCREENSHOT_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(d, "pack-"+p.Week+".png")
		if err := os.WriteFile(out, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", out)
	}

	// A probe message marks the end of the page's messages.
	if err := chromedp.Do(bctx, chromedp.Evaluate[chromedp.Void](`console.log("closedloop-probe-end")`)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		seen := false
		for _, m := range messages {
			seen = seen || strings.Contains(m.Text, "closedloop-probe-end")
		}
		mu.Unlock()
		if seen {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the console probe never arrived: console messages are not being read")
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, m := range messages {
		if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
			t.Errorf("console %s: %s", m.Type, m.Text)
		}
	}
	for _, u := range requested {
		if !strings.HasPrefix(u, "file://") && !strings.HasPrefix(u, "data:") {
			t.Errorf("the pack requested %s", u)
		}
	}
	t.Logf("%d console messages, %d requests (all local)", len(messages), len(requested))
}
