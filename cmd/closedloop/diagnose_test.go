package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// diagnose and the scale gate of compare on a small simulated operation.
func TestDiagnoseAndScaleGate(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	db := filepath.Join(dir, "cl.duckdb")
	if out, code := run(t, "gen", "--out", in, "--cases", "1500", "--seed", "3", "--weeks", "8", "--end", "2026-03-02"); code != exitOK {
		t.Fatalf("gen: exit %d\n%s", code, out)
	}
	t.Setenv("CLOSEDLOOP_PII_KEY", "diagnose-test-key-0123456789abcdef")
	if out, code := run(t, "ingest", "--db", db, in); code != exitOK && code != exitRejected {
		t.Fatalf("ingest: exit %d\n%s", code, out)
	}

	out, code := run(t, "diagnose", "--db", db, "--days", "28")
	if code != exitOK {
		t.Fatalf("diagnose: exit %d\n%s", code, out)
	}
	for _, want := range []string{"RANK", "promise_to_pay", "reasons:", " 1. ", "of contacts", "paths cover 80%", "writes back to core_banking"} {
		if !strings.Contains(out, want) {
			t.Errorf("diagnose table lacks %q:\n%s", want, out)
		}
	}
	out, code = run(t, "diagnose", "--db", db, "--format", "json")
	if code != exitOK {
		t.Fatalf("diagnose json: exit %d\n%s", code, out)
	}
	var res struct {
		Days       int `json:"days"`
		Cases      int `json:"cases"`
		Candidates []struct {
			Rank    int    `json:"rank"`
			Kind    string `json:"kind"`
			Name    string `json:"name"`
			Verdict string `json:"verdict"`
			Reason  string `json:"reason"`
		} `json:"candidates"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("diagnose json: %v\n%s", err, out)
	}
	if res.Days != 30 || res.Cases == 0 || len(res.Candidates) < 8 {
		t.Fatalf("diagnose json: %d days, %d cases, %d candidates", res.Days, res.Cases, len(res.Candidates))
	}
	for i, c := range res.Candidates {
		if c.Rank != i+1 || !strings.HasPrefix(c.Reason, c.Name+": "+c.Verdict+" — ") {
			t.Errorf("candidate %d: %+v", i, c)
		}
	}

	out, code = run(t, "compare", "--db", db, "--pilot", "workflow=promise_to_pay", "--baseline", "workflow=address_update",
		"--from", "2025-01-01", "--to", "2100-01-01")
	if code != exitOK {
		t.Fatalf("compare: exit %d\n%s", code, out)
	}
	for _, want := range []string{"Time to resolution (lower is better)", "scale gate: ready when significantly better on at least 3 of 5",
		"Completion (higher is better): pilot", "Mann–Whitney U p", "  verdict: "} {
		if !strings.Contains(out, want) {
			t.Errorf("compare lacks %q:\n%s", want, out)
		}
	}
	// The gate's threshold comes from the configuration.
	cfg := filepath.Join(dir, "cl.yaml")
	if err := os.WriteFile(cfg, []byte("diagnose:\n  scale_gate_min_wins: 5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code = run(t, "--config", cfg, "compare", "--db", db, "--pilot", "workflow=promise_to_pay", "--baseline", "workflow=address_update",
		"--from", "2025-01-01", "--to", "2100-01-01", "--format", "json")
	if code != exitOK {
		t.Fatalf("compare json: exit %d\n%s", code, out)
	}
	var c struct {
		Gate struct {
			MinWins   int      `json:"min_wins"`
			Verdict   string   `json:"verdict"`
			Reasoning []string `json:"reasoning"`
		} `json:"scale_gate"`
	}
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatal(err)
	}
	if c.Gate.MinWins != 5 || c.Gate.Verdict == "" || len(c.Gate.Reasoning) != 6 {
		t.Errorf("gate %+v", c.Gate)
	}

	for _, args := range [][]string{
		{"diagnose", "--db", db, "--format", "xml"},
		{"diagnose", "--db", db, "--days", "-3"},
		{"diagnose"},
	} {
		if out, code := run(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, out)
		}
	}
}
