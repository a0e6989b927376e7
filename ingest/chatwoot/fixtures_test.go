package chatwoot

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/closedloop/closedloop/ingest/ingesttest"
	"github.com/closedloop/closedloop/pii"
)

// samples is the copy of the Chatwoot docs' webhook samples (testdata/real/SOURCES.md).
const samples = "../../testdata/real/chatwoot/docs_2022-03_samples"

func sampleFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(samples, "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 7 {
		t.Fatalf("found %d samples under %s, expected 7", len(files), samples)
	}
	return files
}

func goldenName(path string) string {
	base := filepath.Base(path)
	return "docs_2022-03_samples__" + strings.TrimSuffix(base, filepath.Ext(base))
}

// TestSamplesGolden decodes every published sample (named collector and
// auto-detection) and compares with a golden reviewed by hand.
func TestSamplesGolden(t *testing.T) {
	for _, path := range sampleFiles(t) {
		t.Run(goldenName(path), func(t *testing.T) {
			res := ingesttest.DecodeFile(t, Collector{}, path)
			ingesttest.Golden(t, goldenName(path), map[string]any{
				"records": ingesttest.Rows(res.Records),
				"rejects": res.Rejects,
				"skipped": res.Skipped,
			})
			auto := ingesttest.DecodeFile(t, nil, path)
			a, _ := json.Marshal(map[string]any{"r": ingesttest.Rows(auto.Records), "s": auto.Skipped, "j": auto.Rejects})
			b, _ := json.Marshal(map[string]any{"r": ingesttest.Rows(res.Records), "s": res.Skipped, "j": res.Rejects})
			if string(a) != string(b) {
				t.Errorf("auto-detection decodes differently:\n auto:     %s\n chatwoot: %s", a, b)
			}
		})
	}
}

func TestWebwidgetTriggeredIsSkippedNotRejected(t *testing.T) {
	res := ingesttest.DecodeFile(t, Collector{}, samples+"/webwidget_triggered.json")
	if len(res.Rejects) != 0 || len(res.Records) != 0 {
		t.Fatalf("want no records and no rejects, got %d records, rejects %v", len(res.Records), res.Rejects)
	}
	if res.Skipped["chatwoot webwidget_triggered"] != 1 {
		t.Errorf("skipped = %v, want chatwoot webwidget_triggered: 1", res.Skipped)
	}
}

// The annotated sample has // comments and a missing comma: the reader
// rejects it as invalid JSON before any collector sees it.
func TestAnnotatedSampleRejectedAsInvalidJSON(t *testing.T) {
	res := ingesttest.DecodeFile(t, Collector{}, samples+"/message_created_annotated_sample.jsonc")
	if len(res.Records) != 0 || len(res.Rejects) != 1 {
		t.Fatalf("want exactly one reject, got %d records, rejects %v", len(res.Records), res.Rejects)
	}
	if r := res.Rejects[0]; !strings.Contains(r, "invalid JSON") || !strings.Contains(r, "invalid character '/'") {
		t.Errorf("reject does not name the parse error: %q", r)
	}
}

// TestNoRawIdentifiers: customer ids are pseudonyms; no contact email,
// name or raw contact id reaches a record.
func TestNoRawIdentifiers(t *testing.T) {
	for _, path := range sampleFiles(t) {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		res := ingesttest.DecodeFile(t, Collector{}, path)
		for _, row := range ingesttest.Rows(res.Records) {
			if c, ok := row["customer_id"].(string); !ok || !pii.IsPseudonym(c) {
				t.Errorf("%s: customer_id %v is not a pseudonym", path, row["customer_id"])
			}
			for col, v := range row {
				s, _ := v.(string)
				for _, secret := range []string{"jane", "little-haze", "chatwoot-contact", "@"} {
					if s != "" && col != "source_ref" && strings.Contains(s, secret) {
						t.Errorf("%s: column %s = %q leaks %q (raw input has it: %v)", path, col, s, secret, strings.Contains(string(raw), secret))
					}
				}
			}
		}
	}
}
