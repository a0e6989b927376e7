package pull

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

type waits struct{ d []time.Duration }

func (w *waits) sleep(ctx context.Context, d time.Duration) error {
	w.d = append(w.d, d)
	return ctx.Err()
}

func client(t *testing.T, url string, w *waits, mod func(*ClientConfig)) *Client {
	t.Helper()
	cfg := ClientConfig{Collector: "c1", BaseURL: url, Header: http.Header{"Authorization": {"Bearer s3cr3t-token-value"}},
		Sleep: w.sleep, Jitter: func() float64 { return 1 }, Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }}
	if mod != nil {
		mod(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRetryAfterHTTPDateAndBackoffCap(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 1:
			w.Header().Set("Retry-After", "Thu, 01 Jan 2026 00:00:03 GMT")
			w.WriteHeader(http.StatusTooManyRequests)
		case 2, 3, 4:
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			fmt.Fprint(w, `{"ok":true}`)
		}
	}))
	defer srv.Close()
	w := &waits{}
	c := client(t, srv.URL, w, func(c *ClientConfig) { c.MaxBackoff = 1500 * time.Millisecond })
	var v struct{ OK bool }
	if err := c.GetJSON(context.Background(), "/x", nil, &v); err != nil || !v.OK {
		t.Fatal(err)
	}
	// 3s from the HTTP date; then 0.5s·2^(n-1) capped at 1.5s (jitter 1 = the full wait).
	want := []time.Duration{3 * time.Second, time.Second, 1500 * time.Millisecond, 1500 * time.Millisecond}
	if fmt.Sprint(w.d) != fmt.Sprint(want) {
		t.Errorf("waits %v, want %v", w.d, want)
	}
}

func TestRetriesRunOutAndTooLongRetryAfterGivesUp(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `boom token=s3cr3t-token-value (s3cr3t-token-value)`)
	}))
	defer srv.Close()
	w := &waits{}
	c := client(t, srv.URL, w, func(c *ClientConfig) { c.MaxRetries = 2 })
	err := c.GetJSON(context.Background(), "/api/x", nil, &struct{}{})
	var pe *Error
	if !errors.As(err, &pe) || pe.Attempts != 3 || pe.Status != 500 || pe.Permanent {
		t.Fatalf("got %v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "collector c1: GET /api/x: HTTP 500 Internal Server Error (3 attempts): boom token=[REDACTED] ([REDACTED])") {
		t.Errorf("message: %s", msg)
	}
	w.d = nil
	err = c.GetJSON(context.Background(), "/slow", nil, &struct{}{})
	if !errors.As(err, &pe) || pe.RetryAfter != time.Hour || len(w.d) != 0 {
		t.Fatalf("a Retry-After beyond the limit must end the run at once: %v, waits %v", err, w.d)
	}
}

func TestTransportErrorsAreRetriedAndRedacted(t *testing.T) {
	w := &waits{}
	c := client(t, "http://127.0.0.1:1", w, func(c *ClientConfig) { c.MaxRetries = 1; c.Timeout = time.Second })
	err := c.GetJSON(context.Background(), "/p", map[string][]string{"access_token": {"qs-secret-123"}}, &struct{}{})
	if err == nil || len(w.d) != 1 {
		t.Fatalf("want a failure after one retry: %v %v", err, w.d)
	}
	if strings.Contains(err.Error(), "qs-secret-123") || !strings.Contains(err.Error(), "collector c1: GET /p (2 attempts)") {
		t.Errorf("error: %v", err)
	}
}

func TestRateLimit(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{}`) }))
	defer srv.Close()
	c := client(t, srv.URL, &waits{}, func(c *ClientConfig) { c.RateLimit = 50 })
	start := time.Now()
	for i := 0; i < 6; i++ {
		if err := c.GetJSON(context.Background(), "/", nil, &struct{}{}); err != nil {
			t.Fatal(err)
		}
	}
	// 50 requests/s, burst 1: six requests take at least 5 intervals of 20ms.
	if d := time.Since(start); d < 90*time.Millisecond {
		t.Errorf("6 requests in %s: the rate limit is not applied", d)
	}
}

func TestRedact(t *testing.T) {
	cases := map[string]string{
		"GET /x?access_token=EAAB123&limit=2":             "GET /x?access_token=[REDACTED]&limit=2",
		`{"api_access_token":"abc","x":1}`:                `{"api_access_token":"[REDACTED]","x":1}`,
		"Authorization: Bearer EAAB.x-y":                  "Authorization: [REDACTED]",
		"sent bearer abc.def to the server":               "sent bearer [REDACTED] to the server",
		"api_access_token: xyz789":                        "api_access_token: [REDACTED]",
		"the configured secret mysecretvalue leaked here": "the configured secret [REDACTED] leaked here",
	}
	for in, want := range cases {
		if got := Redact(in, "mysecretvalue"); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRedirectToAnotherHostIsRefused(t *testing.T) {
	var got atomic.Value
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Get("Authorization"))
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+"/steal", http.StatusFound)
	}))
	defer srv.Close()
	c := client(t, srv.URL, &waits{}, func(c *ClientConfig) { c.MaxRetries = -1 })
	if err := c.GetJSON(context.Background(), "/", nil, &struct{}{}); err == nil {
		t.Fatal("want an error")
	}
	if v, _ := got.Load().(string); v != "" {
		t.Errorf("the token followed a redirect to another host: %q", v)
	}
}

func TestPaginateStopsOnARepeatedCursor(t *testing.T) {
	var got []string
	err := Paginate(context.Background(), "collector c: GET /p", func(cursor string) (string, error) {
		got = append(got, cursor)
		if cursor == "" {
			return "a", nil
		}
		return "a", nil // a server that repeats itself
	})
	if err == nil || !strings.Contains(err.Error(), `collector c: GET /p: pagination repeats cursor "a"`) || len(got) != 2 {
		t.Errorf("err %v after %v", err, got)
	}
	got = nil
	err = Paginate(context.Background(), "x", func(cursor string) (string, error) {
		got = append(got, cursor)
		return map[string]string{"": "p2", "p2": "p3"}[cursor], nil
	})
	if err != nil || strings.Join(got, ",") != ",p2,p3" {
		t.Errorf("pages %v, err %v", got, err)
	}
}
