package canonical

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/ingest/ingesttest"
	"github.com/closedloop/closedloop/models"
)

// The README's example lines are what users copy: each table's JSONL and
// CSV example must decode with its collector, to the same row.
func TestReadmeExamples(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := regexp.MustCompile("(?m)^### \\S+ \\(`--source (\\w+)`\\)$")
	text := string(b)
	idx := section.FindAllStringSubmatchIndex(text, -1)
	if len(idx) != len(tableCollectors) {
		t.Fatalf("README documents %d tables, want %d", len(idx), len(tableCollectors))
	}
	for i, m := range idx {
		source := text[m[2]:m[3]]
		end := len(text)
		if i+1 < len(idx) {
			end = idx[i+1][0]
		}
		body := text[m[1]:end]
		t.Run(source, func(t *testing.T) {
			jsonLine, csvText := codeBlock(t, body, "json"), codeBlock(t, body, "csv")
			c := collector(t, source)
			var fromJSON []models.Record
			if err := c.Decode(ingesttest.Env(t), ingest.Doc{Raw: []byte(jsonLine)}, func(r models.Record) {
				r.Base().Source = source
				fromJSON = append(fromJSON, r)
			}); err != nil {
				t.Fatalf("JSON example: %v", err)
			}
			path := filepath.Join(t.TempDir(), source+".csv")
			if err := os.WriteFile(path, []byte(csvText), 0o644); err != nil {
				t.Fatal(err)
			}
			res := ingesttest.DecodeFile(t, c, path)
			if len(res.Rejects) > 0 || len(res.Records) != 1 {
				t.Fatalf("CSV example: %d records, rejects %v", len(res.Records), res.Rejects)
			}
			j, cs := withoutRef(ingesttest.Rows(fromJSON)), withoutRef(ingesttest.Rows(res.Records))
			if !reflect.DeepEqual(j, cs) {
				t.Errorf("JSON and CSV examples differ:\njson: %v\ncsv:  %v", j, cs)
			}
		})
	}
}

// codeBlock returns the body of the first ```lang block in s.
func codeBlock(t *testing.T, s, lang string) string {
	t.Helper()
	start := strings.Index(s, "```"+lang+"\n")
	if start < 0 {
		t.Fatalf("no %s example", lang)
	}
	rest := s[start+len(lang)+4:]
	end := strings.Index(rest, "```")
	if end < 0 {
		t.Fatalf("unterminated %s example", lang)
	}
	return rest[:end]
}
