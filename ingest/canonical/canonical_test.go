package canonical

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/ingest/ingesttest"
	"github.com/closedloop/closedloop/models"
)

// tableFiles pairs each per-table collector with its sample files.
var tableFiles = []struct {
	source string
	table  models.Table
	lines  int
}{
	{"cases", models.TableCaseEvents, 11},
	{"messages", models.TableMessages, 7},
	{"writebacks", models.TableWritebacks, 4},
	{"consent", models.TableConsentEvents, 4},
	{"templates", models.TableTemplateEvents, 5},
	{"audit", models.TableAuditEvents, 3},
	{"actions", models.TableActions, 6},
}

func collector(t testing.TB, name string) ingest.Collector {
	t.Helper()
	c, ok := ingest.Lookup(name)
	if !ok {
		t.Fatalf("collector %q is not registered", name)
	}
	return c
}

// golden renders a decode result the way every golden of this package does.
func golden(t *testing.T, name string, res ingesttest.Result) {
	t.Helper()
	rejects := res.Rejects
	if rejects == nil {
		rejects = []string{}
	}
	ingesttest.Golden(t, name, map[string]any{"rows": ingesttest.Rows(res.Records), "rejects": rejects})
}

// withoutRef drops the columns that legitimately differ between two files
// holding the same events.
func withoutRef(rows []map[string]any) []map[string]any {
	for _, r := range rows {
		delete(r, "source_ref")
		delete(r, "source")
	}
	return rows
}

func TestTableFiles(t *testing.T) {
	for _, tf := range tableFiles {
		for _, ext := range []string{"jsonl", "csv"} {
			name := tf.source + "." + ext
			t.Run(name, func(t *testing.T) {
				res := ingesttest.DecodeFile(t, collector(t, tf.source), filepath.Join("testdata", name))
				if len(res.Rejects) > 0 {
					t.Fatalf("unexpected rejects:\n%s", strings.Join(res.Rejects, "\n"))
				}
				if len(res.Records) != tf.lines {
					t.Fatalf("got %d records, want %d", len(res.Records), tf.lines)
				}
				for _, r := range res.Records {
					if r.Table() != tf.table {
						t.Errorf("%s: table %s, want %s", r.Base().SourceRef, r.Table(), tf.table)
					}
				}
				golden(t, name, res)
			})
		}
	}
}

// The JSONL and CSV samples hold the same events spelled differently (Unix
// seconds, other phone formats, upper-case enums, "1" for true): the rows,
// event_id included, must be identical; and the "canonical" collector must
// recognise every line's table and produce the same rows as the forced one.
func TestJSONLAndCSVGiveSameEventIDs(t *testing.T) {
	for _, tf := range tableFiles {
		t.Run(tf.source, func(t *testing.T) {
			c := collector(t, tf.source)
			jsonl := ingesttest.DecodeFile(t, c, filepath.Join("testdata", tf.source+".jsonl"))
			csv := ingesttest.DecodeFile(t, c, filepath.Join("testdata", tf.source+".csv"))
			auto := ingesttest.DecodeFile(t, Auto, filepath.Join("testdata", tf.source+".csv"))
			j, cs, a := withoutRef(ingesttest.Rows(jsonl.Records)), withoutRef(ingesttest.Rows(csv.Records)), withoutRef(ingesttest.Rows(auto.Records))
			if len(j) != tf.lines || len(cs) != tf.lines {
				t.Fatalf("got %d JSONL and %d CSV rows, want %d", len(j), len(cs), tf.lines)
			}
			for i := range j {
				if !reflect.DeepEqual(j[i], cs[i]) {
					t.Errorf("row %d differs between JSONL and CSV:\njsonl: %v\ncsv:   %v", i+1, j[i], cs[i])
				}
				if !reflect.DeepEqual(cs[i], a[i]) {
					t.Errorf("row %d differs between --source %s and canonical:\nforced: %v\nauto:   %v", i+1, tf.source, cs[i], a[i])
				}
			}
		})
	}
}

func TestMixedGoodAndBadLines(t *testing.T) {
	res := ingesttest.DecodeFile(t, collector(t, "cases"), filepath.Join("testdata", "mixed_bad.jsonl"))
	var kept []string
	for _, r := range res.Records {
		kept = append(kept, r.Base().SourceRef)
	}
	wantKept := []string{"testdata/mixed_bad.jsonl:1", "testdata/mixed_bad.jsonl:8", "testdata/mixed_bad.jsonl:11"}
	if !reflect.DeepEqual(kept, wantKept) {
		t.Errorf("kept %v, want %v", kept, wantKept)
	}
	want := []string{
		`testdata/mixed_bad.jsonl:2: invalid JSON: `,
		`testdata/mixed_bad.jsonl:3: case_events: field "event": "closed" is not one of opened, handover, completed, resolved, reopened`,
		`testdata/mixed_bad.jsonl:4: case_events: missing required field "case_id"`,
		`testdata/mixed_bad.jsonl:5: case_events: field "ts": timestamp "2026-13-01" is neither RFC 3339 with an offset nor Unix seconds`,
		`testdata/mixed_bad.jsonl:7: case_events: field "ts": timestamp 1772697600000 looks like milliseconds, expected Unix seconds`,
		`testdata/mixed_bad.jsonl:9: case_events: field "case_id": is an array, expected a string; ` +
			`field "event": "Closed" is not one of opened, handover, completed, resolved, reopened; ` +
			`field "ts": timestamp "2026-03-05T09:00:00" is neither RFC 3339 with an offset nor Unix seconds; ` +
			`field "queue": is an object, expected a string`,
		`testdata/mixed_bad.jsonl:10: JSON array is not an object of canonical fields`,
	}
	if len(res.Rejects) != len(want) {
		t.Fatalf("got %d rejects, want %d:\n%s", len(res.Rejects), len(want), strings.Join(res.Rejects, "\n"))
	}
	for i, w := range want {
		got := res.Rejects[i]
		if strings.HasSuffix(w, ": ") && strings.HasPrefix(got, w) || got == w {
			continue
		}
		t.Errorf("reject %d:\n got: %s\nwant: %s", i+1, got, w)
	}
	golden(t, "mixed_bad.jsonl", res)
}

func TestCSVWithBOMAndCRLF(t *testing.T) {
	res := ingesttest.DecodeFile(t, collector(t, "consent"), filepath.Join("testdata", "bom_crlf.csv"))
	if len(res.Rejects) > 0 {
		t.Fatalf("unexpected rejects:\n%s", strings.Join(res.Rejects, "\n"))
	}
	if len(res.Records) != 3 {
		t.Fatalf("got %d records, want 3", len(res.Records))
	}
	for _, r := range res.Records {
		c := r.(*models.ConsentEvent)
		if strings.ContainsAny(c.ConsentSource+c.CustomerID+c.Status, "\r\ufeff") {
			t.Errorf("%s: BOM or CR leaked into values: %+v", c.SourceRef, c)
		}
		if !strings.HasPrefix(c.CustomerID, "c_") {
			t.Errorf("%s: customer id %q was not pseudonymised", c.SourceRef, c.CustomerID)
		}
	}
	golden(t, "bom_crlf.csv", res)
}

func TestGzipJSONL(t *testing.T) {
	c := collector(t, "cases")
	gz := ingesttest.DecodeFile(t, c, filepath.Join("testdata", "cases.jsonl.gz"))
	plain := ingesttest.DecodeFile(t, c, filepath.Join("testdata", "cases.jsonl"))
	if len(gz.Rejects) > 0 || len(gz.Records) != len(plain.Records) {
		t.Fatalf("gzip: %d records, %d rejects; plain: %d records", len(gz.Records), len(gz.Rejects), len(plain.Records))
	}
	g, p := ingesttest.Rows(gz.Records), ingesttest.Rows(plain.Records)
	for i := range g {
		if want := strings.Replace(p[i]["source_ref"].(string), ".jsonl:", ".jsonl.gz:", 1); g[i]["source_ref"] != want {
			t.Errorf("row %d: source_ref %v, want %v", i+1, g[i]["source_ref"], want)
		}
	}
	if !reflect.DeepEqual(withoutRef(g), withoutRef(p)) {
		t.Error("gzip and plain JSONL decode differently")
	}
}

func TestAutoDetection(t *testing.T) {
	res := ingesttest.DecodeFile(t, nil, filepath.Join("testdata", "auto.jsonl"))
	var tables []string
	for _, r := range res.Records {
		if r.Base().Source != "canonical" {
			t.Errorf("%s: decoded by %q, want canonical", r.Base().SourceRef, r.Base().Source)
		}
		tables = append(tables, fmt.Sprintf("%s:%s", strings.TrimPrefix(r.Base().SourceRef, "testdata/auto.jsonl:"), r.Table()))
	}
	wantTables := []string{"1:case_events", "2:messages", "3:writebacks", "4:consent_events", "5:template_events",
		"6:audit_events", "7:actions", "8:case_events", "9:messages", "13:writebacks"}
	if !reflect.DeepEqual(tables, wantTables) {
		t.Errorf("tables %v,\nwant %v", tables, wantTables)
	}
	// A Meta webhook, a Chatwoot webhook, a SendGrid event and an unrelated
	// object are left for other collectors.
	wantRejects := []string{"testdata/auto.jsonl:10: unrecognised", "testdata/auto.jsonl:11: unrecognised",
		"testdata/auto.jsonl:12: unrecognised", "testdata/auto.jsonl:14: unrecognised"}
	if !reflect.DeepEqual(res.Rejects, wantRejects) {
		t.Errorf("rejects %v,\nwant %v", res.Rejects, wantRejects)
	}
	golden(t, "auto.jsonl", res)
}

// A CSV whose header names every canonical column: empty cells are absent,
// so each row is still recognised by the fields it fills.
func TestAutoDetectionWideCSV(t *testing.T) {
	res := ingesttest.DecodeFile(t, nil, filepath.Join("testdata", "auto_wide.csv"))
	if len(res.Rejects) > 0 {
		t.Fatalf("unexpected rejects:\n%s", strings.Join(res.Rejects, "\n"))
	}
	var got []models.Table
	for _, r := range res.Records {
		got = append(got, r.Table())
	}
	want := []models.Table{models.TableCaseEvents, models.TableMessages, models.TableWritebacks,
		models.TableConsentEvents, models.TableTemplateEvents, models.TableAuditEvents, models.TableActions}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tables %v, want %v", got, want)
	}
	golden(t, "auto_wide.csv", res)
}
