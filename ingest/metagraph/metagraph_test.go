package metagraph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/closedloop/closedloop/ingest/pull"
	"github.com/closedloop/closedloop/ingest/pull/pulltest"
	"github.com/closedloop/closedloop/models"
)

const (
	testToken = pulltest.MetaToken
	waba      = pulltest.MetaWABA
)

// testNow puts the published analytics day (2025-02-14) inside Meta's
// 90-day window and the first run's 30-day backfill.
var testNow = pulltest.MetaNow

func newReplay(t *testing.T, mode string) (*pulltest.Meta, *pulltest.Meta) {
	rp := pulltest.NewMeta(t, "../..", mode)
	return rp, rp
}

func newCollector(t *testing.T, url string, sleep *pulltest.NoSleep, backfill int) *Collector {
	t.Helper()
	c, err := New(Config{Name: "waba", BaseURL: url, WABAID: waba, Token: testToken, Analytics: true, Currency: "USD",
		BackfillDays: backfill, HTTP: pull.ClientConfig{Sleep: sleep.Sleep, Jitter: func() float64 { return 0 }}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func runOnce(t *testing.T, ctx context.Context, st pull.StateStore, c pull.Collector) pull.Result {
	t.Helper()
	return pull.RunOne(ctx, pull.Options{Store: st, Env: pulltest.Env(testNow), Now: func() time.Time { return testNow }}, c)
}

func TestTemplatesAcrossVerbatimPagesAndAnalytics(t *testing.T) {
	rp, srv := newReplay(t, "verbatim")
	st := pulltest.New()
	res := runOnce(t, context.Background(), st, newCollector(t, srv.URL, &pulltest.NoSleep{}, 0))
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	want := []string{
		"/v23.0/" + waba + "/message_templates",
		"/v23.0/" + waba + "/message_templates after=MQZDZD",
		"/v23.0/" + waba + "/template_analytics",
	}
	if got := rp.Log(); !reflect.DeepEqual(got, want) {
		t.Errorf("requests %v, want %v", got, want)
	}
	events := st.Dump(models.TableTemplateEvents, 7)
	if len(events) != 7 {
		t.Fatalf("template_events: %d, want one per template (7):\n%s", len(events), strings.Join(events, "\n"))
	}
	all := strings.Join(events, "\n")
	for _, s := range []string{"|welcome_template3|rejected|2025-02-20T09:30:00Z|meta:first_seen|meta_graph|", "|hello_world|approved|"} {
		if !strings.Contains(all, s) {
			t.Errorf("template_events lack %q:\n%s", s, all)
		}
	}
	// welcome_template3 is on both pages (MARKETING on retTemplate2,
	// UTILITY on retTemplate1): a listing that shifted while it was paged.
	// Its first occurrence counts; every template's status and category
	// are recorded once, on first sight.
	changes := strings.Join(st.Dump(TableTemplateChanges, 10), "\n")
	if n := st.Count(TableTemplateChanges); n != 7*2 || !strings.Contains(changes, "|1214624639427985|welcome_template3|en_US|category|<nil>|MARKETING|") {
		t.Errorf("template_changes (%d):\n%s", n, changes)
	}
	metrics := st.Dump(TableTemplateMetrics)
	if len(metrics) != 1 || metrics[0] != "1044106240855852|<nil>|2025-02-14T00:00:00Z|100|95|80|50|5.25|USD|2025-02-20T09:30:00Z|" {
		t.Errorf("template_metrics_daily = %v", metrics)
	}
	if st.State("waba")[keyAnalyticsThrough] != "2025-02-20" {
		t.Errorf("state = %v", st.State("waba"))
	}

	// Second run: nothing changed, analytics re-read and replaced in place.
	res = runOnce(t, context.Background(), st, newCollector(t, srv.URL, &pulltest.NoSleep{}, 0))
	if res.Err != nil || st.Count(models.TableTemplateEvents) != 7 || st.Count(TableTemplateChanges) != 14 || st.Count(TableTemplateMetrics) != 1 {
		t.Fatalf("second run: %v, counts %v", res.Err, st.Counts())
	}
	// Meta pauses hello_world for its quality.
	rp.Patch["1772832833109192"] = map[string]any{"status": "PAUSED", "quality_score": map[string]any{"score": "RED", "date": 1739900000}}
	if res := runOnce(t, context.Background(), st, newCollector(t, srv.URL, &pulltest.NoSleep{}, 0)); res.Err != nil {
		t.Fatal(res.Err)
	}
	all = strings.Join(st.Dump(models.TableTemplateEvents, 7), "\n")
	changes = strings.Join(st.Dump(TableTemplateChanges, 10), "\n")
	if !strings.Contains(all, "|hello_world|paused|2025-02-20T09:30:00Z|meta|") ||
		!strings.Contains(changes, "|hello_world|en_US|quality_score|<nil>|RED|") ||
		!strings.Contains(changes, "|hello_world|en_US|status|APPROVED|PAUSED|") {
		t.Errorf("pause not recorded:\n%s\n%s", all, changes)
	}
}

func TestThrottledBy400ThenSuccess(t *testing.T) {
	rp, srv := newReplay(t, "verbatim")
	n := 0
	rp.Fail = func(r *http.Request) (int, string) {
		if n++; n <= 2 {
			return http.StatusBadRequest, `{"error":{"message":"(#80008) There have been too many calls to this WhatsApp Business account.","type":"OAuthException","code":80008,"fbtrace_id":"x"}}`
		}
		return 0, ""
	}
	sleep := &pulltest.NoSleep{}
	st := pulltest.New()
	if res := runOnce(t, context.Background(), st, newCollector(t, srv.URL, sleep, 0)); res.Err != nil {
		t.Fatal(res.Err)
	}
	if want := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond}; !reflect.DeepEqual(sleep.Waits, want) {
		t.Errorf("waits = %v, want %v", sleep.Waits, want)
	}
	if st.Count(models.TableTemplateEvents) != 7 {
		t.Errorf("counts %v", st.Counts())
	}
}

func TestUnauthorizedIsPermanentAndRedacted(t *testing.T) {
	_, srv := newReplay(t, "verbatim")
	c, err := New(Config{Name: "waba", BaseURL: srv.URL, WABAID: waba, Token: "EAAG-wrong-token-987654321",
		HTTP: pull.ClientConfig{Sleep: (&pulltest.NoSleep{}).Sleep}})
	if err != nil {
		t.Fatal(err)
	}
	st := pulltest.New()
	res := runOnce(t, context.Background(), st, c)
	var pe *pull.Error
	if !errors.As(res.Err, &pe) || pe.Status != 401 || pe.Attempts != 1 {
		t.Fatalf("want a 401 after one attempt, got %v", res.Err)
	}
	msg := res.Err.Error()
	for _, s := range []string{"collector waba", "GET /v23.0/" + waba + "/message_templates", "HTTP 401", "(code 190)"} {
		if !strings.Contains(msg, s) {
			t.Errorf("error %q lacks %q", msg, s)
		}
	}
	if strings.Contains(msg, "wrong-token") || len(st.State("waba")) != 0 {
		t.Errorf("leak or state change: %s %v", msg, st.State("waba"))
	}
}

func TestKilledPullResumesWithExactlyTheRowsOfAnUninterruptedOne(t *testing.T) {
	tables := func(st *pulltest.Store) map[models.Table][]string {
		return map[models.Table][]string{
			models.TableTemplateEvents: st.Dump(models.TableTemplateEvents, 7),
			TableTemplateChanges:       st.Dump(TableTemplateChanges, 10),
			TableTemplateMetrics:       st.Dump(TableTemplateMetrics),
		}
	}
	_, srv := newReplay(t, "split")
	whole := pulltest.New()
	if res := runOnce(t, context.Background(), whole, newCollector(t, srv.URL, &pulltest.NoSleep{}, 0)); res.Err != nil {
		t.Fatal(res.Err)
	}
	want := tables(whole)
	if len(want[models.TableTemplateEvents]) != 7 || len(want[TableTemplateMetrics]) != 1 {
		t.Fatalf("uninterrupted pull: %v", whole.Counts())
	}
	// Commits: list pages 1, 2, 3, the analytics rows, the through-day.
	for _, failAfter := range []int{1, 2, 3, 4} {
		t.Run(fmt.Sprintf("store fails after %d commit(s)", failAfter), func(t *testing.T) {
			st := pulltest.New()
			st.FailAfter = failAfter
			res := runOnce(t, context.Background(), st, newCollector(t, srv.URL, &pulltest.NoSleep{}, 0))
			if !errors.Is(res.Err, pulltest.ErrCrash) {
				t.Fatalf("want the injected crash, got %v", res.Err)
			}
			partial := st.Count(models.TableTemplateEvents)
			st.FailAfter = 0
			if res := runOnce(t, context.Background(), st, newCollector(t, srv.URL, &pulltest.NoSleep{}, 0)); res.Err != nil {
				t.Fatal(res.Err)
			}
			if got := tables(st); !reflect.DeepEqual(got, want) {
				t.Errorf("resumed rows differ:\n%v\nwant\n%v", got, want)
			}
			t.Logf("interrupted: %d template_events; resumed: %v; uninterrupted: %v", partial, st.Counts(), whole.Counts())
		})
	}
}

func TestAnalyticsLookbackIsClamped(t *testing.T) {
	rp, srv := newReplay(t, "verbatim")
	st := pulltest.New()
	res := runOnce(t, context.Background(), st, newCollector(t, srv.URL, &pulltest.NoSleep{}, 400))
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "clamped to 2024-11-22") || !strings.Contains(res.Notes[0], "last 90 days") {
		t.Errorf("notes = %v", res.Notes)
	}
	for _, r := range rp.Requests() {
		if strings.Contains(r, "template_analytics") && !strings.Contains(r, "start="+strconv.FormatInt(time.Date(2024, 11, 22, 0, 0, 0, 0, time.UTC).Unix(), 10)) {
			t.Errorf("analytics request not clamped: %s", r)
		}
	}
}
