package ingesttest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/models"
)

// CheckDecode holds a collector's invariants on one document, for fuzz
// targets: Detect and Decode do not panic; every record has a known table,
// an event_id and one value per column, its strings valid UTF-8 when the
// document is; an error has a message (a skip, its kind); and decoding is
// deterministic (same records, same error).
func CheckDecode(t *testing.T, c ingest.Collector, env *ingest.Env, doc ingest.Doc) {
	t.Helper()
	c.Detect(doc)
	recs, err := decodeOnce(c, env, doc)
	for _, r := range recs {
		cols, ok := models.Columns[r.Table()]
		if !ok {
			t.Fatalf("record for unknown table %q", r.Table())
		}
		if r.Base().EventID == "" {
			t.Fatalf("%s record without event_id", r.Table())
		}
		vals := r.Values()
		if len(vals) != len(cols) {
			t.Fatalf("%s record has %d values for %d columns", r.Table(), len(vals), len(cols))
		}
		if err == nil && utf8.Valid(doc.Raw) {
			for i, v := range vals {
				// Percent-encoded form values may decode to anything: the
				// pipeline's check must then reject the document.
				if s, ok := v.(string); ok && !utf8.ValidString(s) && ingest.CheckDecoded(doc, recs, env.Now) == "" {
					t.Fatalf("%s.%s is not valid UTF-8 and the pipeline would store it: %q", r.Table(), cols[i], s)
				}
			}
		}
	}
	if err != nil {
		if err.Error() == "" {
			t.Fatal("error without a message")
		}
		if errors.Is(err, ingest.ErrSkip) && ingest.SkipKind(err) == "" {
			t.Fatalf("skip without a kind: %v", err)
		}
	}
	again, err2 := decodeOnce(c, env, doc)
	if fmt.Sprint(err) != fmt.Sprint(err2) || len(again) != len(recs) {
		t.Fatalf("decoding twice differs: %v / %v, %d / %d records", err, err2, len(recs), len(again))
	}
	for i := range recs {
		if recs[i].Base().EventID != again[i].Base().EventID {
			t.Fatalf("event_id differs between two decodes: %s / %s", recs[i].Base().EventID, again[i].Base().EventID)
		}
	}
}

func decodeOnce(c ingest.Collector, env *ingest.Env, doc ingest.Doc) ([]models.Record, error) {
	var recs []models.Record
	err := c.Decode(env, doc, func(r models.Record) { recs = append(recs, r) })
	return recs, err
}

// SeedFiles returns the contents of the regular files under dirs whose
// names end with one of exts (all files when exts is empty), in walk order.
// JSON Lines files give one seed per line.
func SeedFiles(t testing.TB, dirs []string, exts ...string) [][]byte {
	t.Helper()
	var out [][]byte
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			if len(exts) > 0 && !hasExt(p, exts) {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if strings.HasSuffix(p, ".jsonl") {
				for _, line := range strings.Split(string(b), "\n") {
					if strings.TrimSpace(line) != "" {
						out = append(out, []byte(line))
					}
				}
				return nil
			}
			out = append(out, b)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no seeds under %v", dirs)
	}
	return out
}

func hasExt(p string, exts []string) bool {
	for _, e := range exts {
		if strings.HasSuffix(p, e) {
			return true
		}
	}
	return false
}
