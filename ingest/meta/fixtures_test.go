package meta

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/closedloop/closedloop/ingest/ingesttest"
	"github.com/closedloop/closedloop/pii"
)

// fixtures is the copy of the published Meta payloads (testdata/real/SOURCES.md).
const fixtures = "../../testdata/real/whatsapp_cloud"

// fixtureFiles lists every Meta fixture, in name order.
func fixtureFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(fixtures, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 20 {
		t.Fatalf("found %d fixtures under %s, expected the whole copied set", len(files), fixtures)
	}
	return files
}

// goldenName turns "pywa/status_sent.json" into "pywa__status_sent".
func goldenName(t *testing.T, path string) string {
	rel, err := filepath.Rel(fixtures, path)
	if err != nil {
		t.Fatal(err)
	}
	rel = strings.TrimSuffix(filepath.ToSlash(rel), filepath.Ext(rel))
	return strings.ReplaceAll(rel, "/", "__")
}

// TestFixturesGolden decodes every published fixture, once with the
// collector named and once through auto-detection, and compares the rows
// with a golden file (reviewed by hand when written).
func TestFixturesGolden(t *testing.T) {
	for _, path := range fixtureFiles(t) {
		t.Run(goldenName(t, path), func(t *testing.T) {
			res := ingesttest.DecodeFile(t, Collector{}, path)
			got := map[string]any{
				"records": ingesttest.Rows(res.Records),
				"rejects": res.Rejects,
				"skipped": res.Skipped,
			}
			ingesttest.Golden(t, goldenName(t, path), got)

			auto := ingesttest.DecodeFile(t, nil, path)
			a, _ := json.Marshal(ingesttest.Rows(auto.Records))
			b, _ := json.Marshal(ingesttest.Rows(res.Records))
			if string(a) != string(b) || len(auto.Rejects) != len(res.Rejects) {
				t.Errorf("auto-detection decodes differently:\n auto: %s %v\n meta: %s %v", a, auto.Rejects, b, res.Rejects)
			}
		})
	}
}

func TestMalformedFixtureRejectedWithParseError(t *testing.T) {
	res := ingesttest.DecodeFile(t, Collector{}, fixtures+"/bindambc_java/malformed/textMessageStatusRead.json")
	if len(res.Records) != 0 || len(res.Rejects) != 1 {
		t.Fatalf("want 1 reject and no records, got %d records, rejects %q", len(res.Records), res.Rejects)
	}
	if r := res.Rejects[0]; !strings.Contains(r, "invalid JSON") || !strings.Contains(r, "invalid character") {
		t.Errorf("reject reason does not name the JSON parse error: %q", r)
	}
}

// The netflie fixture carries two changes whose messages share the id
// wamid.ID: both are decoded, and the store's event_id dedupe keeps one.
func TestNetflieTwoChangesSameEventID(t *testing.T) {
	res := ingesttest.DecodeFile(t, Collector{}, fixtures+"/multi/netflie_one_entry_two_changes_text.json")
	rows := ingesttest.Rows(res.Records)
	if len(rows) != 2 {
		t.Fatalf("want 2 message records, got %d: %v (rejects %v)", len(rows), rows, res.Rejects)
	}
	for _, r := range rows {
		if r["_table"] != "messages" || r["message_id"] != "wamid.ID" {
			t.Errorf("unexpected row %v", r)
		}
	}
	if rows[0]["event_id"] != rows[1]["event_id"] {
		t.Errorf("event_ids differ: %v vs %v", rows[0]["event_id"], rows[1]["event_id"])
	}
	if rows[0]["ts"] == rows[1]["ts"] {
		t.Errorf("the two changes have different timestamps, rows say %v", rows[0]["ts"])
	}
}

// customerNumbers collects the values of the keys that hold a customer's
// number (from, wa_id, recipient_id) anywhere in a fixture.
func customerNumbers(t *testing.T, path string) []string {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil // the malformed fixture yields no records anyway
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if s, ok := e.(string); ok && (k == "from" || k == "wa_id" || k == "recipient_id") {
					out = append(out, s)
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

// TestNoRawNumbers scans every value of every record: no customer number
// of the fixture may appear, and customer_id is always a pseudonym.
// business_number is the business's phone_number_id (not personal data);
// in one masked fixture it equals the masked customer number, so it is
// checked against metadata instead.
func TestNoRawNumbers(t *testing.T) {
	for _, path := range fixtureFiles(t) {
		numbers := customerNumbers(t, path)
		res := ingesttest.DecodeFile(t, Collector{}, path)
		for _, row := range ingesttest.Rows(res.Records) {
			if c, ok := row["customer_id"].(string); !ok || !pii.IsPseudonym(c) {
				t.Errorf("%s: customer_id %v is not a pseudonym", path, row["customer_id"])
			}
			for col, v := range row {
				s, ok := v.(string)
				if !ok || col == "business_number" || col == "source_ref" {
					continue
				}
				for _, n := range numbers {
					if strings.Contains(s, n) {
						t.Errorf("%s: column %s holds raw customer number %q", path, col, n)
					}
				}
			}
		}
	}
}
