package pulltest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The real API responses (testdata/real/SOURCES.md, "WhatsApp Business
// Management API"), relative to the repository root.
const (
	metaFixtures = "testdata/real/meta_graph/"
	// MetaToken is the bearer token the replay accepts; MetaWABA its account.
	MetaToken = "EAAG-secret-token-0123456789"
	MetaWABA  = "102290129340398"
)

// MetaNow puts the published analytics day (2025-02-14) inside Meta's
// 90-day window and a 30-day backfill.
var MetaNow = time.Date(2025, 2, 20, 9, 30, 0, 0, time.UTC)

// Meta is an httptest Graph API serving the published pages.
//
// mode "verbatim": the published pages as they are, chained by their own
// cursors: retTemplate2 (paging.next, cursors.after MQZDZD) first, then
// retTemplate1 (no next: the last page). mode "split": the 7 templates of
// retTemplate1 served as pages of 3, 2 and 2 (the data[] elements
// verbatim, the paging rewritten to chain them), so each template appears
// once. template_analytics serves the published example with cost and clicks.
type Meta struct {
	// URL is the server's base URL.
	URL      string
	mode     string
	root     string
	mu       sync.Mutex
	pages    map[string]map[string]any // after cursor ("" first) → body
	requests []string
	// Fail injects a failure (status 0: none).
	Fail func(r *http.Request) (int, string)
	// OnRequest runs before the response (tests cancel contexts from it).
	OnRequest func(r *http.Request)
	// Patch edits templates by id before serving (status changes).
	Patch map[string]map[string]any
}

func load(t testing.TB, root, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, metaFixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// NewMeta starts the replay in mode "verbatim" or "split"; root is the
// repository root.
func NewMeta(t testing.TB, root, mode string) *Meta {
	t.Helper()
	rp := &Meta{mode: mode, root: root, pages: map[string]map[string]any{}, Patch: map[string]map[string]any{}}
	switch mode {
	case "verbatim":
		p2 := load(t, root, "templates_list/bindambc_retTemplate2.json")
		rp.pages[""] = p2
		after := p2["paging"].(map[string]any)["cursors"].(map[string]any)["after"].(string)
		rp.pages[after] = load(t, root, "templates_list/bindambc_retTemplate1.json")
	case "split":
		data := load(t, root, "templates_list/bindambc_retTemplate1.json")["data"].([]any)
		cuts := [][2]int{{0, 3}, {3, 5}, {5, 7}}
		for i, c := range cuts {
			paging := map[string]any{"cursors": map[string]any{"before": "b" + strconv.Itoa(i), "after": "p" + strconv.Itoa(i+2)}}
			if i < len(cuts)-1 {
				paging["next"] = "https://graph.facebook.com/v23.0/" + MetaWABA + "/message_templates?after=p" + strconv.Itoa(i+2)
			}
			key := ""
			if i > 0 {
				key = "p" + strconv.Itoa(i+1)
			}
			rp.pages[key] = map[string]any{"data": data[c[0]:c[1]], "paging": paging}
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(rp.serve))
	t.Cleanup(srv.Close)
	rp.URL = srv.URL
	return rp
}

func (rp *Meta) serve(w http.ResponseWriter, r *http.Request) {
	rp.mu.Lock()
	rp.requests = append(rp.requests, r.URL.Path+"?"+r.URL.RawQuery)
	fail, hook := rp.Fail, rp.OnRequest
	rp.mu.Unlock()
	if hook != nil {
		hook(r)
	}
	if fail != nil {
		if status, body := fail(r); status != 0 {
			w.WriteHeader(status)
			fmt.Fprint(w, body)
			return
		}
	}
	if r.Header.Get("Authorization") != "Bearer "+MetaToken {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":{"message":"Invalid OAuth access token - Cannot parse access token","type":"OAuthException","code":190,"fbtrace_id":"AbC"}}`)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/v23.0/" + MetaWABA + "/message_templates":
		rp.mu.Lock()
		page, ok := rp.pages[r.URL.Query().Get("after")]
		var body []byte
		if ok {
			body, _ = json.Marshal(page)
			var v map[string]any
			json.Unmarshal(body, &v)
			for _, d := range v["data"].([]any) {
				for k, val := range rp.Patch[d.(map[string]any)["id"].(string)] {
					d.(map[string]any)[k] = val
				}
			}
			body, _ = json.Marshal(v)
		}
		rp.mu.Unlock()
		if !ok {
			http.Error(w, `{"error":{"message":"bad cursor","code":100}}`, http.StatusBadRequest)
			return
		}
		w.Write(body)
	case "/v23.0/" + MetaWABA + "/template_analytics":
		q := r.URL.Query()
		start, _ := strconv.ParseInt(q.Get("start"), 10, 64)
		if q.Get("granularity") != "DAILY" || !strings.HasPrefix(q.Get("template_ids"), "[") || start < MetaNow.AddDate(0, 0, -91).Unix() {
			http.Error(w, `{"error":{"message":"(#100) Invalid parameter","code":100}}`, http.StatusBadRequest)
			return
		}
		b, _ := os.ReadFile(filepath.Join(rp.root, metaFixtures, "analytics/template_group_analytics_with_cost_and_clicks.json"))
		w.Write(b)
	default:
		http.NotFound(w, r)
	}
}

// Log returns the path of every request, with its after cursor.
func (rp *Meta) Log() []string {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	out := make([]string, len(rp.requests))
	for i, r := range rp.requests {
		out[i], _, _ = strings.Cut(r, "?")
		if after := strings.Split(r, "after="); len(after) > 1 {
			out[i] += " after=" + strings.Split(after[1], "&")[0]
		}
	}
	return out
}

// Requests returns every request's path and query.
func (rp *Meta) Requests() []string {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return append([]string(nil), rp.requests...)
}
