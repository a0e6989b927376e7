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
