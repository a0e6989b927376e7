package serve

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

func TestKPIPage(t *testing.T) {
	ts := newTestServer(t, generatedStore(t))
	r := ts.do(t, "GET", "/kpi/agent_handover_rate?week=2026-W09", viewerToken, nil, nil)
	b := readBody(t, r)
	if r.StatusCode != 200 {
		t.Fatalf("drill-down: %d %s", r.StatusCode, b)
	}
	links := regexp.MustCompile(`class="case-link" href="/case/[^"]+"`).FindAllString(b, -1)
	num := regexp.MustCompile(`data-numerator="(\d+)"`).FindStringSubmatch(b)
	if len(links) == 0 || num == nil || num[1] == "0" {
		t.Errorf("drill-down lists %d case links, numerator %v", len(links), num)
	}
	// The percentile KPIs are reachable under their p50/p90 names.
	if r := ts.do(t, "GET", "/kpi/first_response_time_p90?week=2026-W08", viewerToken, nil, nil); r.StatusCode != 200 {
		t.Errorf("p90 drill-down: %d", r.StatusCode)
	}
	if r := ts.do(t, "GET", "/kpi/no_such_kpi", viewerToken, nil, nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("unknown KPI: %d, want 404", r.StatusCode)
	}
	if r := ts.do(t, "GET", "/kpi/agent_handover_rate?week=2026-13", viewerToken, nil, nil); r.StatusCode != http.StatusBadRequest {
		t.Errorf("bad week: %d, want 400", r.StatusCode)
	}
	r = ts.do(t, "GET", "/?week=2026-W05", viewerToken, nil, nil)
	if b := readBody(t, r); r.StatusCode != 200 || !strings.Contains(b, `id="week">2026-W05<`) {
		t.Errorf("dashboard of an earlier week: %d", r.StatusCode)
	}
}

func TestRunJobMetrics(t *testing.T) {
	ts := newTestServer(t, "")
	if _, err := ts.RunJob(context.Background(), "transform", func(context.Context) (string, error) {
		// The job holds the write lock: the store is ours.
		if ts.writeMu.TryLock() {
			t.Error("the job runs without the write lock")
		}
		return "ok", nil
	}); err != nil {
		t.Fatal(err)
	}
	ts.RunJob(context.Background(), "weekly_pack", func(context.Context) (string, error) { return "", errors.New("boom") })
	if got := counterValue(t, ts.metrics.jobRuns.WithLabelValues("transform", "success")); got != 1 {
		t.Errorf("transform successes %v", got)
	}
	if got := counterValue(t, ts.metrics.jobRuns.WithLabelValues("weekly_pack", "failure")); got != 1 {
		t.Errorf("weekly_pack failures %v", got)
	}
	var m dto.Metric
	if err := ts.metrics.jobLastOK.WithLabelValues("transform").Write(&m); err != nil || m.GetGauge().GetValue() == 0 {
		t.Errorf("last success of transform not set: %v", err)
	}
	body := readBody(t, ts.do(t, "GET", "/metrics", "", nil, nil))
	for _, want := range []string{`closedloop_job_duration_seconds_count{job="transform"} 1`, `closedloop_job_last_success_timestamp_seconds{job="transform"}`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestDashboardWorkflowsAndGovernance(t *testing.T) {
	// A register that holds none of the simulated numbers: the finding of
	// unregistered numbers is computed only when the configuration reaches
	// the pack.
	ts := newTestServer(t, generatedStore(t), func(o *Options) { o.Config.RegisteredNumbers = []string{"15550000000"} })
	r := ts.do(t, "GET", "/?week=2026-W09", viewerToken, nil, nil)
	b := readBody(t, r)
	if r.StatusCode != 200 {
		t.Fatalf("dashboard: %d %s", r.StatusCode, b)
	}
	for _, want := range []string{`<h2 id="workflows">`, `<table id="funnel">`, `<table id="cost">`, `<table id="sequences">`,
		`<h2 id="governance">`, `<table id="governance-findings">`, `<table id="risk-log">`, "Triggered", "Completed"} {
		if !strings.Contains(b, want) {
			t.Errorf("dashboard lacks %s", want)
		}
	}
	// The funnel has a column per workflow, and the first step counts cases.
	workflows := regexp.MustCompile(`data-workflow="([^"]+)"`).FindAllStringSubmatch(b, -1)
	if len(workflows) == 0 {
		t.Fatal("the funnel names no workflow")
	}
	triggered := regexp.MustCompile(`<td>Triggered</td><td class="num">(\d+) `).FindStringSubmatch(b)
	if triggered == nil || triggered[1] == "0" {
		t.Errorf("funnel of %s: triggered %v, want a count above 0", workflows[0][1], triggered)
	}
	row := regexp.MustCompile(`(?s)<tr data-finding="personal_number">.*?</tr>`).FindString(b)
	if row == "" || strings.Contains(row, "no register configured") || !strings.Contains(row, "<b>") {
		t.Errorf("unregistered numbers with a register configured: %q", row)
	}
	if n := len(regexp.MustCompile(`<tr data-finding="`).FindAllString(b, -1)); n < 5 {
		t.Errorf("%d governance findings listed, want the pack's (5 or more)", n)
	}
	// The sections come once, after the week's governance findings and
	// before the data quality and live ingest sections, which still show.
	order := []string{`<h2>Governance findings</h2>`, `<h2 id="workflows">`, `<h2 id="governance">`, `<h2 id="data-quality">`, `id="live"`}
	for i, mark := range order {
		if n := strings.Count(b, mark); n != 1 {
			t.Errorf("%s appears %d times, want once", mark, n)
		}
		if i > 0 && strings.Index(b, order[i-1]) > strings.Index(b, mark) {
			t.Errorf("%s comes before %s, want after", mark, order[i-1])
		}
	}
}
