package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/closedloop/closedloop/store"
)

// run executes the CLI in-process and returns stdout and the exit code main
// would use.
func run(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	code := exitOK
	var ee *exitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.code
	case isUsage(err):
		code = exitUsage
		out.WriteString(err.Error())
	default:
		code = exitFailure
		out.WriteString(err.Error())
	}
	return out.String(), code
}

func counts(t *testing.T, db string) map[string]int {
	t.Helper()
	st, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	out := map[string]int{}
	for _, tb := range []string{"messages", "message_statuses", "case_events", "rejects"} {
		var n int
		if err := st.DB().QueryRow("SELECT count(*) FROM " + tb).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[tb] = n
	}
	return out
}

// realPayloads lists the published Meta and Chatwoot payloads that must
// ingest as they are (the malformed one and the annotated .jsonc are
// exercised separately).
func realPayloads(t *testing.T) []string {
	var files []string
	for _, pat := range []string{
		"../../testdata/real/whatsapp_cloud/*/*.json",
		"../../testdata/real/chatwoot/docs_2022-03_samples/*.json",
	} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 30 {
		t.Fatalf("found only %d real payloads", len(files))
	}
	return files
}

func TestIngestRealPayloadsIsIdempotent(t *testing.T) {
	t.Setenv("CLOSEDLOOP_PII_KEY", "test-key-0123456789abcdef")
	db := filepath.Join(t.TempDir(), "s.duckdb")
	files := realPayloads(t)
	out, code := run(t, append([]string{"ingest", "--db", db}, files...)...)
	if code != exitOK {
		t.Fatalf("ingest exit %d, want 0:\n%s", code, out)
	}
	if !strings.Contains(out, "ingested ") || !strings.Contains(out, "rejected 0") {
		t.Fatalf("summary line missing or rejects: %s", out)
	}
	first := counts(t, db)
	if first["messages"] == 0 || first["message_statuses"] == 0 || first["case_events"] == 0 {
		t.Fatalf("expected messages, statuses and case events from the fixtures, got %v", first)
	}
	out, code = run(t, append([]string{"ingest", "--db", db}, files...)...)
	if code != exitOK || !strings.Contains(out, "ingested 0,") {
		t.Fatalf("second ingest: exit %d, %s", code, out)
	}
	if second := counts(t, db); !equalCounts(first, second) {
		t.Fatalf("second ingest changed counts: %v -> %v", first, second)
	}
}

func equalCounts(a, b map[string]int) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return len(a) == len(b)
}

func TestIngestKeepsGoodLinesAndRejectsBadOnes(t *testing.T) {
	t.Setenv("CLOSEDLOOP_PII_KEY", "test-key-0123456789abcdef")
	dir := t.TempDir()
	db := filepath.Join(dir, "s.duckdb")
	in := filepath.Join(dir, "cases.jsonl")
	lines := strings.Join([]string{
		`{"case_id":"c1","customer_id":"447700900001","event":"opened","ts":"2026-03-02T09:00:00Z","queue":"support"}`,
		`{"case_id":"c1","customer_id":"447700900001","event":"resolved","ts":"2026-03-02T10:00:00Z"`,
		`{"case_id":"c2","customer_id":"447700900002","event":"closed","ts":"2026-03-02T09:00:00Z"}`,
		`{"case_id":"c2","customer_id":"447700900002","event":"opened","ts":"2026-03-02T09:05:00Z"}`,
	}, "\n") + "\n"
	if err := os.WriteFile(in, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := run(t, "ingest", "--db", db, in)
	if code != exitRejected {
		t.Fatalf("exit %d, want 3:\n%s", code, out)
	}
	if !strings.Contains(out, "ingested 2, rejected 2") {
		t.Fatalf("summary: %s", out)
	}
	st, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rows, err := st.DB().Query(`SELECT source_ref, reason FROM rejects ORDER BY source_ref`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var ref, reason string
		if err := rows.Scan(&ref, &reason); err != nil {
			t.Fatal(err)
		}
		got = append(got, ref+" "+reason)
	}
	if len(got) != 2 || !strings.HasSuffix(strings.Fields(got[0])[0], "cases.jsonl:2") ||
		!strings.Contains(got[0], "JSON") || !strings.Contains(got[1], `"closed"`) {
		t.Fatalf("rejects = %q", got)
	}
}

func TestMalformedRealPayloadIsRejectedWithParseError(t *testing.T) {
	t.Setenv("CLOSEDLOOP_PII_KEY", "test-key-0123456789abcdef")
	db := filepath.Join(t.TempDir(), "s.duckdb")
	out, code := run(t, "ingest", "--db", db, "../../testdata/real/whatsapp_cloud/bindambc_java/malformed/textMessageStatusRead.json")
	if code != exitRejected || !strings.Contains(out, "rejected 1") {
		t.Fatalf("exit %d: %s", code, out)
	}
}

func TestKPIJSONOnRealPayloads(t *testing.T) {
	t.Setenv("CLOSEDLOOP_PII_KEY", "test-key-0123456789abcdef")
	db := filepath.Join(t.TempDir(), "s.duckdb")
	if out, code := run(t, append([]string{"ingest", "--db", db}, realPayloads(t)...)...); code != exitOK {
		t.Fatalf("ingest: %s", out)
	}
	out, code := run(t, "kpi", "--db", db, "--from", "2017-01-01", "--to", "2030-01-01", "--format", "json")
	if code != exitOK {
		t.Fatalf("kpi exit %d: %s", code, out)
	}
	var doc struct {
		KPIs []struct {
			KPI         string   `json:"kpi"`
			Value       *float64 `json:"value"`
			Numerator   int64    `json:"numerator"`
			Denominator *int64   `json:"denominator"`
			Version     int      `json:"version"`
		} `json:"kpis"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("kpi json: %v\n%s", err, out)
	}
	seen := map[string]bool{}
	for _, k := range doc.KPIs {
		seen[k.KPI] = true
		if k.Version < 1 {
			t.Errorf("%s has no version", k.KPI)
		}
		if k.Denominator != nil && *k.Denominator == 0 && k.Value != nil {
			t.Errorf("%s: denominator 0 must give a null value, got %v", k.KPI, *k.Value)
		}
	}
	for _, want := range []string{"bot_resolution_rate", "agent_handover_rate", "template_delivery_success", "completion_rate", "writeback_success", "manual_wrap_up_rate"} {
		if !seen[want] {
			t.Errorf("kpi json lacks %s", want)
		}
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	for _, args := range [][]string{
		{"kpi", "--db", "x.duckdb", "--from", "2026-13-01", "--to", "2026-03-09"},
		{"ingest", "--db", "x.duckdb", "--source", "nope", "x"},
		{"frobnicate"},
	} {
		if out, code := run(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, out)
		}
	}
}
