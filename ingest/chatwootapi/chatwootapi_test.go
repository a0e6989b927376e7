package chatwootapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/closedloop/closedloop/ingest/pull"
	"github.com/closedloop/closedloop/ingest/pull/pulltest"
	"github.com/closedloop/closedloop/models"
)

var testNow = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

const testToken = pulltest.ChatwootToken

// newReplay serves the published Chatwoot responses (see pulltest.Chatwoot).
func newReplay(t *testing.T) (*pulltest.Chatwoot, *pulltest.Chatwoot) {
	rp := pulltest.NewChatwoot(t, "../..")
	return rp, rp
}

func newCollector(t *testing.T, url string, sleep *pulltest.NoSleep) *Collector {
	t.Helper()
	c, err := New(Config{Name: "desk", BaseURL: url, AccountID: "1", Token: testToken,
		HTTP: pull.ClientConfig{Sleep: sleep.Sleep, Jitter: func() float64 { return 0.5 }, MaxRetries: 3}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func runOnce(t *testing.T, ctx context.Context, st pull.StateStore, c pull.Collector) pull.Result {
	t.Helper()
	return pull.RunOne(ctx, pull.Options{Store: st, Env: pulltest.Env(testNow), Now: func() time.Time { return testNow }}, c)
}

// The rows of an uninterrupted first pull of the replayed account: both
// conversations are opened (first sight, status open), conversation 10's
// one message (an agent's "Ok") and 1016's 29 published messages less two
// private notes and four activity messages.
const (
	wantCaseEvents = 2
	wantMessages   = 1 + 29 - 2 - 4
)

func TestPullReplaysRealResponsesAcrossPages(t *testing.T) {
	rp, srv := newReplay(t)
	st := pulltest.New()
	res := runOnce(t, context.Background(), st, newCollector(t, srv.URL, &pulltest.NoSleep{}))
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if got := st.Count(models.TableCaseEvents); got != wantCaseEvents {
		t.Errorf("case_events = %d, want %d", got, wantCaseEvents)
	}
	if got := st.Count(models.TableMessages); got != wantMessages {
		t.Errorf("messages = %d, want %d", got, wantMessages)
	}
	if got := st.Count(models.TableRejects); got != 0 {
		t.Errorf("rejects = %d: %v", got, st.Dump(models.TableRejects))
	}
	want := []string{
		"/api/v1/accounts/1/conversations?assignee_type=all&page=1&status=all",
		"/api/v1/accounts/1/conversations/1016/messages?",
		"/api/v1/accounts/1/conversations/1016/messages?before=5304",
		"/api/v1/accounts/1/conversations/1016/messages?before=5295",
		"/api/v1/accounts/1/conversations?assignee_type=all&page=2&status=all",
		"/api/v1/accounts/1/conversations/10/messages?",
		"/api/v1/accounts/1/conversations/10/messages?before=85",
		"/api/v1/accounts/1/conversations?assignee_type=all&page=3&status=all",
	}
	if got := rp.Log(); !reflect.DeepEqual(got, want) {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The same mapping as the webhook collector: case ids, sender types,
	// kinds, and pseudonymous customers.
	rows := strings.Join(st.Dump(models.TableMessages), "\n")
	for _, s := range []string{"cw-msg:85|cw:10|", "cw-msg:5301|cw:1016|", "|outbound|agent|text|", "|inbound|customer|media|", "|outbound|system|interactive|"} {
		if !strings.Contains(rows, s) {
			t.Errorf("messages lack %q:\n%s", s, rows)
		}
	}
	if strings.Contains(rows, "anthony") || strings.Contains(rows, "5309") {
		t.Errorf("messages leak a contact or a private note:\n%s", rows)
	}
	state := st.State("desk")
	if state["cursor"] != "2024-11-27T12:32:42Z" || state["conv:1016"] != `{"status":"open","changed":"2024-11-27T12:32:42Z","last_msg":5328}` {
		t.Errorf("state = %v", state)
	}

	// A second run finds nothing new: the list stops at the first page
	// older than the cursor and no conversation's messages are fetched.
	rp.Reset()
	res = runOnce(t, context.Background(), st, newCollector(t, srv.URL, &pulltest.NoSleep{}))
	if res.Err != nil || res.Rows() != 0 {
		t.Fatalf("second run: %v, %d rows", res.Err, res.Rows())
	}
	if got := rp.Log(); len(got) != 2 || strings.Contains(strings.Join(got, " "), "messages") {
		t.Errorf("second run requests: %v", got)
	}
}

// TestStatusTransitionsAreInferredFromTheLastSeenStatus: the API gives
// the current status only; the collector compares it with the status
// remembered in collector_state and maps the transition like a webhook.
func TestStatusTransitionsAreInferredFromTheLastSeenStatus(t *testing.T) {
	rp, srv := newReplay(t)
	st := pulltest.New()
	c := newCollector(t, srv.URL, &pulltest.NoSleep{})
	if res := runOnce(t, context.Background(), st, c); res.Err != nil {
		t.Fatal(res.Err)
	}
	step := func(status string, ts int64, labels []any, want string) {
		t.Helper()
		rp.Mu.Lock()
		rp.Convs[1]["status"] = status
		rp.Convs[1]["timestamp"] = ts
		rp.Convs[1]["labels"] = labels
		// Chatwoot lists by last activity: the changed conversation first.
		rp.Convs[0], rp.Convs[1] = rp.Convs[1], rp.Convs[0]
		rp.Mu.Unlock()
		before := st.Dump(models.TableCaseEvents)
		if res := runOnce(t, context.Background(), st, c); res.Err != nil {
			t.Fatal(res.Err)
		}
		after := st.Dump(models.TableCaseEvents)
		if len(after) != len(before)+1 || !strings.Contains(strings.Join(after, "\n"), want) {
			t.Errorf("after %s: case_events\n%s\nwant one more containing %q", status, strings.Join(after, "\n"), want)
		}
		rp.Mu.Lock()
		rp.Convs[0], rp.Convs[1] = rp.Convs[1], rp.Convs[0]
		rp.Mu.Unlock()
	}
	step("resolved", 1767225600, []any{"refund", "billing"}, "|cw:10|c_")
	rows := strings.Join(st.Dump(models.TableCaseEvents), "\n")
	if !strings.Contains(rows, "|resolved|2026-01-01T00:00:00Z|inbox:6|<nil>|<nil>|<nil>|<nil>|billing,refund|chatwoot_api|") {
		t.Errorf("resolution with closure tag missing:\n%s", rows)
	}
	step("open", 1767229200, nil, "|reopened|2026-01-01T01:00:00Z|")
}

func TestRateLimitedThenSuccessHonoursRetryAfter(t *testing.T) {
	rp, srv := newReplay(t)
	rp.Fail = func(r *http.Request, n int) (int, map[string]string, string) {
		if n == 1 {
			return http.StatusTooManyRequests, map[string]string{"Retry-After": "7"}, `Retry later`
		}
		return 0, nil, ""
	}
	sleep := &pulltest.NoSleep{}
	st := pulltest.New()
	res := runOnce(t, context.Background(), st, newCollector(t, srv.URL, sleep))
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if !reflect.DeepEqual(sleep.Waits, []time.Duration{7 * time.Second}) {
		t.Errorf("waits = %v, want the 7s Retry-After", sleep.Waits)
	}
	if st.Count(models.TableMessages) != wantMessages || st.Count(models.TableCaseEvents) != wantCaseEvents {
		t.Errorf("counts = %v", st.Counts())
	}
}

func TestServerErrorsThenSuccessBackOff(t *testing.T) {
	rp, srv := newReplay(t)
	failures := 0
	rp.Fail = func(r *http.Request, n int) (int, map[string]string, string) {
		if strings.HasSuffix(r.URL.Path, "/1016/messages") && r.URL.Query().Get("before") == "5304" && failures < 2 {
			failures++
			return http.StatusBadGateway, nil, `<html>502 Bad Gateway</html>`
		}
		return 0, nil, ""
	}
	sleep := &pulltest.NoSleep{}
	st := pulltest.New()
	res := runOnce(t, context.Background(), st, newCollector(t, srv.URL, sleep))
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	// Two 502s, then success: exponential backoff with the (fixed) jitter
	// at half: 0.5s·(1/2+1/4) and 1s·(1/2+1/4).
	if want := []time.Duration{375 * time.Millisecond, 750 * time.Millisecond}; !reflect.DeepEqual(sleep.Waits, want) {
		t.Errorf("waits = %v, want %v", sleep.Waits, want)
	}
	if st.Count(models.TableMessages) != wantMessages {
		t.Errorf("messages = %d", st.Count(models.TableMessages))
	}
}

func TestPermanentUnauthorizedNamesCollectorPathStatusAndKeepsCursor(t *testing.T) {
	rp, srv := newReplay(t)
	st := pulltest.New()
	c := newCollector(t, srv.URL, &pulltest.NoSleep{})
	if res := runOnce(t, context.Background(), st, c); res.Err != nil {
		t.Fatal(res.Err)
	}
	stateBefore := st.State("desk")
	// The token is revoked; the server echoes it in its error body.
	rp.Fail = func(r *http.Request, n int) (int, map[string]string, string) {
		return http.StatusUnauthorized, nil, `{"error":"Invalid token ` + testToken + `"}`
	}
	rp.Reset()
	sleep := &pulltest.NoSleep{}
	res := runOnce(t, context.Background(), st, newCollector(t, srv.URL, sleep))
	var pe *pull.Error
	if !errors.As(res.Err, &pe) || pe.Status != 401 || !pe.Permanent {
		t.Fatalf("want a permanent 401 pull.Error, got %v", res.Err)
	}
	msg := res.Err.Error()
	for _, s := range []string{"collector desk", "GET /api/v1/accounts/1/conversations", "HTTP 401", "check the collector's token"} {
		if !strings.Contains(msg, s) {
			t.Errorf("error %q lacks %q", msg, s)
		}
	}
	if strings.Contains(msg, testToken) {
		t.Errorf("error leaks the token: %s", msg)
	}
	if len(rp.Log()) != 1 || len(sleep.Waits) != 0 {
		t.Errorf("a 401 must not be retried: %d requests, waits %v", len(rp.Log()), sleep.Waits)
	}
	stateAfter := st.State("desk")
	if !reflect.DeepEqual(stateAfter, stateBefore) {
		t.Errorf("state changed by a failed run:\n%v\n%v", stateBefore, stateAfter)
	}
	fr := strings.Join(st.Dump(pull.TableFreshness), "\n")
	if !strings.Contains(fr, "desk|chatwoot_api|2026-03-02T12:00:00Z|false|collector desk: GET /api/v1/accounts/1/conversations: HTTP 401") ||
		strings.Contains(fr, testToken) {
		t.Errorf("freshness row = %s", fr)
	}
}

// dumps renders every table the collector writes, without ingested_at.
func dumps(st *pulltest.Store) map[models.Table][]string {
	return map[models.Table][]string{
		models.TableCaseEvents: st.Dump(models.TableCaseEvents, 13),
		models.TableMessages:   st.Dump(models.TableMessages, 13),
		models.TableRejects:    st.Dump(models.TableRejects, 5),
	}
}

func TestKilledPullResumesWithExactlyTheRowsOfAnUninterruptedOne(t *testing.T) {
	_, srv := newReplay(t)
	whole := pulltest.New()
	if res := runOnce(t, context.Background(), whole, newCollector(t, srv.URL, &pulltest.NoSleep{})); res.Err != nil {
		t.Fatal(res.Err)
	}
	want := dumps(whole)

	// Commits: conversation 1016 (list page 1), conversation 10 (page 2),
	// then the cursor after page 3. The store fails at the second or the
	// third: after page 1, or after page 2.
	for _, failAfter := range []int{1, 2} {
		t.Run(fmt.Sprintf("store fails after %d commit(s)", failAfter), func(t *testing.T) {
			_, srv := newReplay(t)
			st := pulltest.New()
			st.FailAfter = failAfter
			res := runOnce(t, context.Background(), st, newCollector(t, srv.URL, &pulltest.NoSleep{}))
			if !errors.Is(res.Err, pulltest.ErrCrash) {
				t.Fatalf("want the injected crash, got %v", res.Err)
			}
			partialCases, partial := st.Count(models.TableCaseEvents), st.Count(models.TableMessages)
			if partial == 0 {
				t.Fatal("the crash should come after some rows were committed")
			}
			if _, ok := st.State("desk")["cursor"]; ok {
				t.Fatal("cursor advanced by an interrupted pass")
			}
			st.FailAfter = 0
			if res := runOnce(t, context.Background(), st, newCollector(t, srv.URL, &pulltest.NoSleep{})); res.Err != nil {
				t.Fatal(res.Err)
			}
			if got := dumps(st); !reflect.DeepEqual(got, want) {
				t.Errorf("resumed rows differ from an uninterrupted pull:\n%v\nwant\n%v", got, want)
			}
			t.Logf("interrupted: %d case_events, %d messages; resumed: %d case_events, %d messages; uninterrupted: %d, %d",
				partialCases, partial, st.Count(models.TableCaseEvents), st.Count(models.TableMessages),
				whole.Count(models.TableCaseEvents), whole.Count(models.TableMessages))
		})
	}

	t.Run("killed while paging a conversation's messages", func(t *testing.T) {
		rp, srv := newReplay(t)
		st := pulltest.New()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		// The kill comes while the third page of conversation 1016's
		// messages is requested, before anything of 1016 is committed.
		rp.OnRequest = func(r *http.Request) {
			if r.URL.Query().Get("before") == "5295" {
				cancel()
			}
		}
		res := runOnce(t, ctx, st, newCollector(t, srv.URL, &pulltest.NoSleep{}))
		if !errors.Is(res.Err, context.Canceled) {
			t.Fatalf("want a cancelled run, got %v", res.Err)
		}
		if st.Count(models.TableMessages) != 0 {
			t.Fatalf("a conversation is committed whole or not at all; got %d messages", st.Count(models.TableMessages))
		}
		rp.OnRequest = nil
		if res := runOnce(t, context.Background(), st, newCollector(t, srv.URL, &pulltest.NoSleep{})); res.Err != nil {
			t.Fatal(res.Err)
		}
		if got := dumps(st); !reflect.DeepEqual(got, want) {
			t.Errorf("resumed rows differ from an uninterrupted pull:\n%v\nwant\n%v", got, want)
		}
	})
}

func TestInboxFilterHasItsOwnCursor(t *testing.T) {
	rp, srv := newReplay(t)
	st := pulltest.New()
	c, err := New(Config{Name: "desk", BaseURL: srv.URL, AccountID: "1", Token: testToken, InboxIDs: []string{"6"},
		HTTP: pull.ClientConfig{Sleep: (&pulltest.NoSleep{}).Sleep}})
	if err != nil {
		t.Fatal(err)
	}
	if res := runOnce(t, context.Background(), st, c); res.Err != nil {
		t.Fatal(res.Err)
	}
	for _, r := range rp.Log() {
		if strings.Contains(r, "/conversations?") && !strings.Contains(r, "inbox_id=6") {
			t.Errorf("request without the inbox filter: %s", r)
		}
	}
	if st.Count(models.TableCaseEvents) != 1 || st.Count(models.TableMessages) != 1 {
		t.Errorf("inbox 6 holds conversation 10 only: %v", st.Counts())
	}
	if _, ok := st.State("desk")["cursor:inbox:6"]; !ok {
		t.Errorf("state = %v", st.State("desk"))
	}
}
