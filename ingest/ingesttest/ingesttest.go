// Package ingesttest helps collector tests: decode a file with a collector
// and compare the records with a golden JSON file.
package ingesttest

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/models"
	"github.com/closedloop/closedloop/pii"
)

// Update rewrites golden files instead of comparing: go test ./... -update
var Update = flag.Bool("update", false, "rewrite golden files")

// FixedNow is the ingest time used by tests, so goldens are stable.
var FixedNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Env returns a test environment with a fixed key and time.
func Env(t testing.TB) *ingest.Env {
	p, err := pii.New([]byte("test-key-0123456789abcdef"), false)
	if err != nil {
		t.Fatal(err)
	}
	return &ingest.Env{Pseudo: p, Now: FixedNow}
}

// Result is what decoding one file produced.
type Result struct {
	Records []models.Record
	Rejects []string // "ref: reason"
	Skipped map[string]int
}

// DecodeFile reads path with ingest.ReadFile and decodes each document with
// collector c (or auto-detection when c is nil).
func DecodeFile(t testing.TB, c ingest.Collector, path string) Result {
	t.Helper()
	env := Env(t)
	res := Result{Skipped: map[string]int{}}
	err := ingest.ReadFile(path, func(d ingest.Doc) error {
		col := c
		if col == nil {
			var ok bool
			if col, ok = ingest.Detect(d); !ok {
				res.Rejects = append(res.Rejects, d.Ref+": unrecognised")
				return nil
			}
		}
		var got []models.Record
		err := col.Decode(env, d, func(r models.Record) {
			b := r.Base()
			b.Source = col.Name()
			if b.SourceRef == "" {
				b.SourceRef = d.Ref
			}
			b.IngestedAt = env.Now
			got = append(got, r)
		})
		switch {
		case err == nil:
			res.Records = append(res.Records, got...)
		case errorsIsSkip(err):
			res.Skipped[ingest.SkipKind(err)]++
		default:
			res.Rejects = append(res.Rejects, d.Ref+": "+err.Error())
		}
		return nil
	}, func(re *ingest.ReadError) {
		res.Rejects = append(res.Rejects, re.Ref+": "+re.Reason)
	})
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return res
}

// Golden compares v, rendered as indented JSON, with testdata/golden/<name>.json
// (relative to the test's package), rewriting it under -update.
func Golden(t testing.TB, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "golden", name+".json")
	if *Update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden %s (run with -update to create): %v", path, err)
	}
	if string(want) != string(got) {
		t.Errorf("%s differs from golden %s (run with -update if the change is intended)\n got: %s", name, path, got)
	}
}

// Rows renders records as table name + column map, the form goldens use.
func Rows(recs []models.Record) []map[string]any {
	out := make([]map[string]any, 0, len(recs))
	for _, r := range recs {
		cols := models.Columns[r.Table()]
		vals := r.Values()
		row := map[string]any{"_table": string(r.Table())}
		for i, c := range cols {
			if c == "ingested_at" {
				continue
			}
			if tm, ok := vals[i].(time.Time); ok {
				row[c] = tm.Format("2006-01-02T15:04:05.000Z07:00")
				continue
			}
			row[c] = vals[i]
		}
		out = append(out, row)
	}
	return out
}

func errorsIsSkip(err error) bool { return err != nil && isSkip(err) }
