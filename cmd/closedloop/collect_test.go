package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/closedloop/closedloop/config"
	"github.com/closedloop/closedloop/ingest/pull/pulltest"
	"github.com/closedloop/closedloop/store"
)

// collectConfig writes a configuration with the three kinds of pull
// collector pointed at the replay servers and a drop folder.
func collectConfig(t *testing.T, cw *pulltest.Chatwoot, meta *pulltest.Meta, drop string) string {
	t.Helper()
	text := fmt.Sprintf(`collectors:
  chatwoot_api:
    support_desk:
      base_url: %s
      account_id: "1"
  meta_graph:
    main_waba:
      base_url: %s
      api_version: v23.0
      waba_id: %q
      currency: USD
  drop_folders:
    exports:
      paths: [%s]
      settle: 50ms
`, cw.URL, meta.URL, pulltest.MetaWABA, drop)
	path := filepath.Join(t.TempDir(), "closedloop.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func collectEnv(t *testing.T) {
	t.Setenv("CLOSEDLOOP_PII_KEY", "test-key-0123456789abcdef")
	t.Setenv(config.DefaultChatwootAPITokenEnv, pulltest.ChatwootToken)
	t.Setenv(config.DefaultMetaAccessTokenEnv, pulltest.MetaToken)
	old := collectNow
	collectNow = func() time.Time { return pulltest.MetaNow }
	t.Cleanup(func() { collectNow = old })
}

func dropFolder(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	b, err := os.ReadFile("../../testdata/real/chatwoot/docs_2022-03_samples/message_created.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "chatwoot-export.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCollectAgainstReplayServers(t *testing.T) {
	collectEnv(t)
	cw := pulltest.NewChatwoot(t, "../..")
	meta := pulltest.NewMeta(t, "../..", "split")
	cfg := collectConfig(t, cw, meta, dropFolder(t))
	db := filepath.Join(t.TempDir(), "s.duckdb")

	out, code := run(t, "collect", "--config", cfg, "--db", db)
	t.Logf("closedloop collect:\n%s", out)
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, want := range []string{
		"exports (drop_folder): ok", "messages +1", "took 1 file(s)",
		"main_waba (meta_graph): ok", "template_changes +14, template_events +7, template_metrics_daily +1",
		"support_desk (chatwoot_api): ok", "case_events +2, messages +24",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	out, code = run(t, "collect", "--config", cfg, "--db", db)
	t.Logf("second closedloop collect:\n%s", out)
	// Analytics days are re-read and replaced (Meta revises recent days).
	if code != exitOK || strings.Count(out, "nothing new") != 2 || !strings.Contains(out, "main_waba (meta_graph): ok in 0s, template_metrics_daily +1") {
		t.Errorf("second run: exit %d\n%s", code, out)
	}
	out, _ = run(t, "collect", "--config", cfg, "--db", db, "--collector", "support_desk")
	if strings.Contains(out, "main_waba") || !strings.Contains(out, "support_desk") {
		t.Errorf("--collector: %s", out)
	}

	out, _ = run(t, "status", "--config", cfg, "--db", db)
	t.Logf("closedloop status:\n%s", out)
	for _, want := range []string{"COLLECTOR", "support_desk  chatwoot_api  2025-02-20T09:30:00Z  2025-02-20T09:30:00Z", "main_waba", "exports"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q", want)
		}
	}

	// A revoked token: a clear error, exit 1, and the status says so.
	t.Setenv(config.DefaultChatwootAPITokenEnv, "revoked-token-000000")
	out, code = run(t, "collect", "--config", cfg, "--db", db, "--collector", "support_desk")
	t.Logf("collect with a revoked token:\n%s", out)
	if code != exitFailure || !strings.Contains(out, "collector support_desk: GET /api/v1/accounts/1/conversations: HTTP 401 Unauthorized (1 attempt)") ||
		strings.Contains(out, "revoked-token") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	out, code = run(t, "status", "--config", cfg, "--db", db)
	if code != exitFailure || !strings.Contains(out, "FAILED: collector support_desk: GET /api/v1/accounts/1/conversations: HTTP 401") {
		t.Errorf("status after the failure: exit %d\n%s", code, out)
	}

	// The tables are documented by `schema`.
	out, _ = run(t, "schema", "--db", db)
	for _, want := range []string{"collector_state", "collector_freshness", "template_metrics_daily", "collector_taken_files"} {
		if !strings.Contains(out, want+"  — ") && !strings.Contains(out, want+"\t— ") && !strings.Contains(out, want+" ") {
			t.Errorf("schema lacks %s", want)
		}
	}
}

func TestCollectUsage(t *testing.T) {
	collectEnv(t)
	db := filepath.Join(t.TempDir(), "s.duckdb")
	if out, code := run(t, "collect", "--db", db); code != exitUsage || !strings.Contains(out, "no pull collectors configured") {
		t.Errorf("no collectors: exit %d %s", code, out)
	}
	cw := pulltest.NewChatwoot(t, "../..")
	meta := pulltest.NewMeta(t, "../..", "verbatim")
	cfg := collectConfig(t, cw, meta, t.TempDir())
	if out, code := run(t, "collect", "--config", cfg, "--db", db, "--collector", "nope"); code != exitUsage || !strings.Contains(out, `unknown --collector "nope" (configured: exports, main_waba, support_desk)`) {
		t.Errorf("unknown collector: exit %d %s", code, out)
	}
	t.Setenv(config.DefaultMetaAccessTokenEnv, "")
	out, code := run(t, "collect", "--config", cfg, "--db", db)
	if code != exitFailure || !strings.Contains(out, "collectors.meta_graph.main_waba: no token: $CLOSEDLOOP_META_ACCESS_TOKEN is not set") ||
		!strings.Contains(out, "support_desk (chatwoot_api): ok") {
		t.Errorf("missing token fails that collector only: exit %d\n%s", code, out)
	}
}

// dumpDB renders the tables the pull collectors write, without ingest
// times, sorted.
func dumpDB(t *testing.T, db string) map[string][]string {
	t.Helper()
	st, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	out := map[string][]string{}
	for tb, q := range map[string]string{
		"case_events":            "SELECT * EXCLUDE (ingested_at) FROM case_events",
		"messages":               "SELECT * EXCLUDE (ingested_at) FROM messages",
		"template_events":        "SELECT * EXCLUDE (ingested_at) FROM template_events",
		"template_changes":       "SELECT * EXCLUDE (ingested_at) FROM template_changes",
		"template_metrics_daily": "SELECT * FROM template_metrics_daily",
		"rejects":                "SELECT * EXCLUDE (ingested_at) FROM rejects",
		"collector_state":        "SELECT collector, key, value FROM collector_state",
	} {
		rows, err := st.DB().Query(q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			out[tb] = append(out[tb], fmt.Sprint(vals...))
		}
		rows.Close()
		sort.Strings(out[tb])
	}
	return out
}

// TestCollectKilledAndResumedEqualsUninterrupted runs the collectors into
// one DuckDB store without interruption, and into another killed in the
// middle (Chatwoot after its first list page, Meta after its second
// template page), then resumed: the tables must hold exactly the same rows.
func TestCollectKilledAndResumedEqualsUninterrupted(t *testing.T) {
	collectEnv(t)
	ctx := context.Background()
	cw := pulltest.NewChatwoot(t, "../..")
	meta := pulltest.NewMeta(t, "../..", "split")
	cfgPath := collectConfig(t, cw, meta, dropFolder(t))
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	collect := func(ctx context.Context, db, only string) string {
		st, err := store.Open(context.Background(), db, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		var out strings.Builder
		if _, err := runCollect(ctx, cfg, st, db, only, &out); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	whole := filepath.Join(dir, "whole.duckdb")
	collect(ctx, whole, "")
	want := dumpDB(t, whole)

	killed := filepath.Join(dir, "killed.duckdb")
	// The kill: the context is cancelled when Chatwoot's list page 2 and
	// Meta's template page 3 are requested.
	kctx, cancel := context.WithCancel(ctx)
	cw.OnRequest = func(r *http.Request) {
		if r.URL.Query().Get("page") == "2" {
			cancel()
		}
	}
	out := collect(kctx, killed, "support_desk")
	kctx, cancel = context.WithCancel(ctx)
	meta.OnRequest = func(r *http.Request) {
		if r.URL.Query().Get("after") == "p3" {
			cancel()
		}
	}
	out += collect(kctx, killed, "main_waba")
	cancel()
	t.Logf("interrupted runs:\n%s", out)
	if strings.Count(out, "FAILED") != 2 || !strings.Contains(out, "context canceled") {
		t.Fatalf("both runs should have been killed:\n%s", out)
	}
	partial := dumpDB(t, killed)
	cw.OnRequest, meta.OnRequest = nil, nil
	out = collect(ctx, killed, "")
	t.Logf("resumed run:\n%s", out)
	got := dumpDB(t, killed)
	for tb := range want {
		if tb == "collector_state" {
			continue // holds last_success_at, which differs by design
		}
		if !reflect.DeepEqual(got[tb], want[tb]) {
			t.Errorf("%s differs after kill and resume:\n%s\nwant\n%s", tb, strings.Join(got[tb], "\n"), strings.Join(want[tb], "\n"))
		}
		t.Logf("%-22s interrupted %3d  resumed %3d  uninterrupted %3d", tb, len(partial[tb]), len(got[tb]), len(want[tb]))
	}
	if len(partial["messages"]) == 0 || len(partial["messages"]) == len(want["messages"]) ||
		len(partial["template_events"]) == 0 || len(partial["template_events"]) == len(want["template_events"]) {
		t.Errorf("the kills should have left part of the rows: %d messages, %d template events", len(partial["messages"]), len(partial["template_events"]))
	}
}

// noStateStore is a store without LoadWithState (as ClickHouse is today).
type noStateStore struct{ store.Store }

func (noStateStore) Dialect() string { return "clickhouse" }

func TestCollectNeedsTheDuckDBStore(t *testing.T) {
	collectEnv(t)
	_, err := runCollect(context.Background(), config.Default(), noStateStore{}, "clickhouse://user:pw@host:9000/db", "", &strings.Builder{})
	if err == nil || !strings.Contains(err.Error(), "pull collectors need the DuckDB store for now") {
		t.Errorf("err = %v", err)
	}
}
