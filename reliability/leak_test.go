package reliability_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/closedloop/closedloop/gen"
	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/models"
	"github.com/closedloop/closedloop/pii"
	"github.com/closedloop/closedloop/store"
)

// customerKeys are the input fields that hold a customer's number: Meta
// from, wa_id, recipient_id; Chatwoot phone_number (and the WhatsApp
// inbox's contact_inbox.source_id, the same number); canonical customer_id
// (and Twilio's From, To, WaId form fields, below).
var customerKeys = map[string]bool{"from": true, "wa_id": true, "recipient_id": true, "phone_number": true, "customer_id": true}

// businessKeys hold the company's own numbers, which may be stored.
var businessKeys = map[string]bool{"display_phone_number": true, "phone_number_id": true}

// rawKeyRE finds customer numbers in documents that are not valid JSON
// (they end up in rejects, with a copy of the input).
var rawKeyRE = regexp.MustCompile(`"(from|wa_id|recipient_id|phone_number|customer_id|source_id)"\s*:\s*"?([^",}\]]*)`)

// identifiers collects every customer number in the inputs, as written and
// in normalised digit form; numbers too short to be phone numbers (under 7
// digits) or that are pseudonyms already are left out.
type identifiers struct {
	set      map[string]bool
	lens     map[int]bool
	sorted   []int // lens, ascending
	business map[string]bool
}

func (ids *identifiers) add(v string) {
	v = strings.TrimSpace(v)
	if v == "" || pii.IsPseudonym(v) {
		return
	}
	n := pii.Normalise(v)
	if len(n) < 7 || strings.Trim(n, "0123456789") != "" {
		return
	}
	for _, s := range []string{v, n} {
		ids.set[s] = true
		ids.lens[len(s)] = true
	}
}

func (ids *identifiers) walk(v any, key, parent string) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			ids.walk(c, k, key)
		}
	case []any:
		for _, c := range x {
			ids.walk(c, key, parent)
		}
	case string, json.Number:
		s := fmt.Sprint(x)
		switch {
		case businessKeys[key]:
			ids.business[pii.Normalise(s)] = true
		case customerKeys[key], key == "source_id" && parent == "contact_inbox":
			ids.add(s)
		}
	}
}

func (ids *identifiers) raw(b []byte) {
	for _, m := range rawKeyRE.FindAllSubmatch(b, -1) {
		ids.add(string(m[2]))
	}
}

func collectIdentifiers(t *testing.T, paths []string) *identifiers {
	t.Helper()
	ids := &identifiers{set: map[string]bool{}, lens: map[int]bool{}, business: map[string]bool{}}
	files, err := ingest.ListFiles(paths)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		err := ingest.ReadFile(f, func(d ingest.Doc) error {
			if d.Format == ingest.FormatForm {
				// Twilio: the customer is From on an inbound message and To
				// on a status callback; the other side is the business.
				if q, err := url.ParseQuery(string(d.Raw)); err == nil {
					cust, biz := "From", "To"
					if q.Get("MessageStatus") != "" {
						cust, biz = "To", "From"
					}
					ids.add(strings.TrimPrefix(q.Get(cust), "whatsapp:"))
					ids.add(q.Get("WaId"))
					ids.business[pii.Normalise(strings.TrimPrefix(q.Get(biz), "whatsapp:"))] = true
				}
				return nil
			}
			dec := json.NewDecoder(bytes.NewReader(d.Raw))
			dec.UseNumber()
			var v any
			if dec.Decode(&v) == nil {
				ids.walk(v, "", "")
			}
			ids.raw(d.Raw)
			return nil
		}, func(re *ingest.ReadError) { ids.raw(re.Raw) })
		if err != nil {
			t.Fatal(err)
		}
	}
	// A business number is the company's (stored as business_number),
	// whichever way it was written.
	for id := range ids.set {
		if ids.business[pii.Normalise(id)] {
			delete(ids.set, id)
		}
	}
	return ids
}

// phoneChars may appear inside a written phone number.
func phoneChar(c byte) bool {
	return c >= '0' && c <= '9' || c == '+' || c == ' ' || c == '-' || c == '(' || c == ')' || c == '.'
}

// find returns the identifiers that occur in data: every run of phone
// characters is searched for every identifier length.
func (ids *identifiers) find(data []byte) map[string]int {
	if len(ids.sorted) != len(ids.lens) {
		ids.sorted = ids.sorted[:0]
		for l := range ids.lens {
			ids.sorted = append(ids.sorted, l)
		}
		sort.Ints(ids.sorted)
	}
	found := map[string]int{}
	for i := 0; i < len(data); {
		if !phoneChar(data[i]) {
			i++
			continue
		}
		j := i
		for j < len(data) && phoneChar(data[j]) {
			j++
		}
		if j-i >= 7 {
			run := data[i:j]
			for a := 0; a < len(run); a++ {
				if run[a] != '+' && (run[a] < '0' || run[a] > '9') {
					continue // every identifier starts with a digit or +
				}
				for _, l := range ids.sorted {
					if a+l > len(run) {
						break
					}
					if ids.set[string(run[a:a+l])] {
						found[string(run[a:a+l])]++
					}
				}
			}
		}
		i = j
	}
	return found
}

// TestNoCustomerNumbersLeak ingests every real fixture, the canonical
// test files, the bad-input corpus and a generated demo-like data set, runs
// the reading commands, then looks for every customer number of the inputs
// (as written and as digits) in the DuckDB file's bytes, in every text
// value of every table (DuckDB may compress strings on disk) and in
// everything the CLI printed.
func TestNoCustomerNumbersLeak(t *testing.T) {
	binary(t)
	dir := t.TempDir()
	demo := filepath.Join(dir, "demo")
	if _, err := gen.Generate(context.Background(), gen.Options{Out: demo, Cases: 1500, Seed: 1, Weeks: 12,
		End: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	inputs := []string{"../testdata/real", "../ingest/canonical/testdata", "../testdata/bad", demo}
	// The canonical goldens are outputs, not inputs.
	var paths []string
	for _, in := range inputs {
		err := filepath.WalkDir(in, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "golden" {
				return filepath.SkipDir
			}
			if d.Type().IsRegular() && !strings.HasSuffix(p, ".md") && !strings.HasSuffix(p, ".go") {
				abs, err := filepath.Abs(p) // the CLI runs in its own directory
				if err != nil {
					return err
				}
				paths = append(paths, abs)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	began := time.Now()
	ids := collectIdentifiers(t, paths)
	if len(ids.set) < 1000 {
		t.Fatalf("collected only %d customer numbers from the inputs", len(ids.set))
	}
	// The scanner finds them where they are: in the inputs.
	for _, f := range []string{filepath.Join(demo, "meta", "webhooks-0001.jsonl"), filepath.Join(demo, "chatwoot", "webhooks-0001.jsonl"),
		filepath.Join(demo, "workflow", "cases.jsonl")} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(ids.find(b)); n < 100 {
			t.Fatalf("the scanner finds only %d customer numbers in %s", n, f)
		}
	}

	t.Logf("collected the inputs' customer numbers: %s", time.Since(began).Round(time.Second))
	began = time.Now()
	db := filepath.Join(dir, "leak.duckdb")
	var logs []result
	r := cli(t, append([]string{"ingest", "--db", db}, paths...)...)
	okIngest(t, r)
	logs = append(logs, r, cli(t, append([]string{"ingest", "--db", db}, paths...)...))
	for _, args := range [][]string{
		{"status", "--db", db},
		{"kpi", "--db", db, "--from", "2017-01-01", "--to", "2030-01-01", "--format", "json"},
		{"kpi", "--db", db, "--from", "2017-01-01", "--to", "2030-01-01", "--explain", "agent_handover_rate"},
	} {
		r := cli(t, args...)
		// status exits 1 when it finds problems (stale sources, the test
		// files' audit chains); any other failure is the test's.
		if r.code != 0 && !(args[0] == "status" && r.code == 1) {
			t.Errorf("%v: %s", args, r)
		}
		logs = append(logs, r)
	}
	t.Logf("ingest and reading commands: %s", time.Since(began).Round(time.Second))
	began = time.Now()

	leaks := 0
	report := func(where string, found map[string]int) {
		for _, id := range sortedKeys(found) {
			leaks++
			if leaks <= 20 {
				t.Errorf("customer number %q found %d time(s) in %s", id, found[id], where)
			}
		}
	}
	for _, suffix := range []string{"", ".wal"} {
		b, err := os.ReadFile(db + suffix)
		if err != nil {
			continue
		}
		report(filepath.Base(db+suffix)+" (file bytes)", ids.find(b))
	}
	for i, l := range logs {
		report(fmt.Sprintf("CLI output %d", i+1), ids.find([]byte(l.stdout+"\x00"+l.stderr)))
	}

	// Every text value, as the engine returns it.
	ctx := context.Background()
	st, err := store.Open(ctx, db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rows, err := st.DB().QueryContext(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE data_type = 'VARCHAR' AND table_schema = 'main' ORDER BY table_name, column_name`)
	if err != nil {
		t.Fatal(err)
	}
	var cols [][2]string
	for rows.Next() {
		var tb, c string
		if err := rows.Scan(&tb, &c); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, [2]string{tb, c})
	}
	rows.Close()
	values, wamids, encoded := 0, 0, 0
	for _, tc := range cols {
		vr, err := st.DB().QueryContext(ctx, fmt.Sprintf(`SELECT %q FROM %q WHERE %q IS NOT NULL`, tc[1], tc[0], tc[1]))
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		for vr.Next() {
			var s string
			if err := vr.Scan(&s); err != nil {
				t.Fatal(err)
			}
			values++
			buf.WriteString(s)
			buf.WriteByte(0)
			if tc[1] == "message_id" && strings.HasPrefix(s, "wamid.") {
				wamids++
				if dec, err := base64.StdEncoding.DecodeString(s[len("wamid."):]); err == nil && len(ids.find(dec)) > 0 {
					encoded++
				}
			}
		}
		vr.Close()
		report(tc[0]+"."+tc[1], ids.find(buf.Bytes()))
	}
	var rejects int
	if err := st.DB().QueryRowContext(ctx, "SELECT count(*) FROM "+string(models.TableRejects)).Scan(&rejects); err != nil {
		t.Fatal(err)
	}
	if rejects < 50 {
		t.Errorf("only %d rejects: the reject copies were not exercised", rejects)
	}
	t.Logf("scanned the store and the logs: %s", time.Since(began).Round(time.Second))
	t.Logf("FIGURES leak: %d customer numbers from %d input files; scanned %d text values (%d rejects with their raw copy), %d CLI outputs, the file's bytes: %d leaks",
		len(ids.set), len(paths), values, rejects, len(logs), leaks)
	// Known, not fixed here: a real WhatsApp message id (wamid) is base64 of
	// a protobuf that holds the customer's number; message_id is the join key
	// between Meta, Chatwoot and canonical files, so it is stored as given.
	t.Logf("note: %d of %d stored wamids decode to a customer number of the inputs (message ids are kept as join keys)", encoded, wamids)
}
