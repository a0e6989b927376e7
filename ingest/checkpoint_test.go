package ingest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/closedloop/closedloop/gen"
	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/ingest/ingesttest"
	"github.com/closedloop/closedloop/models"
)

// ckLoader is an in-memory CheckpointLoader whose loads can be made to
// fail, as if the process died before the commit: a failed load changes
// nothing.
type ckLoader struct {
	*memLoader
	cps    map[string]ingest.FileCheckpoint
	loads  int
	failAt int // the load number that fails (0: none)
}

func newCkLoader() *ckLoader {
	return &ckLoader{memLoader: newMemLoader(), cps: map[string]ingest.FileCheckpoint{}}
}

var errCrash = errors.New("simulated crash")

func (l *ckLoader) FileCheckpoint(_ context.Context, path, source string) (ingest.FileCheckpoint, bool, error) {
	cp, ok := l.cps[path+"\x00"+source]
	return cp, ok, nil
}

func (l *ckLoader) LoadWithCheckpoint(ctx context.Context, recs []models.Record, file ingest.FileCheckpoint) (map[models.Table]int, error) {
	l.loads++
	if l.loads == l.failAt {
		return nil, errCrash
	}
	if prev, ok := l.cps[file.Path+"\x00"+file.Source]; ok && prev.SameFile(file) && file.DocsDone < prev.DocsDone {
		return nil, errors.New("checkpoint moved backwards")
	}
	added, err := l.Load(ctx, recs)
	if err == nil {
		l.cps[file.Path+"\x00"+file.Source] = file
	}
	return added, err
}

// ids lists "table event_id" of every stored record, sorted.
func (m *memLoader) ids() []string {
	var out []string
	for _, r := range m.recs {
		out = append(out, string(r.Table())+" "+r.Base().EventID)
	}
	sort.Strings(out)
	return out
}

func runInto(t *testing.T, l ingest.Loader, dir string) (ingest.Summary, error) {
	t.Helper()
	return ingest.Run(context.Background(), ingest.Options{Source: "auto", Env: ingesttest.Env(t), Loader: l,
		Workers: 2, BatchRecords: 700}, []string{dir})
}

// TestCheckpointResume interrupts ingest at every few loads and checks that
// re-running resumes after the last committed batch and ends with exactly
// the records of an uninterrupted run; a completed file is then skipped.
func TestCheckpointResume(t *testing.T) {
	dir := t.TempDir()
	if _, err := gen.Generate(context.Background(), gen.Options{Out: dir, Cases: 300, Seed: 3, Weeks: 4,
		End: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	clean := newMemLoader()
	want, err := runInto(t, clean, dir)
	if err != nil {
		t.Fatal(err)
	}
	if want.Rejected == 0 {
		t.Fatal("the generated input should hold some malformed lines")
	}

	l := newCkLoader()
	crashes, resumed := 0, 0
	for failAt := 3; ; {
		l.loads, l.failAt = 0, failAt
		sum, err := runInto(t, l, dir)
		resumed += sum.Resumed
		if err == nil {
			break
		}
		if !errors.Is(err, errCrash) {
			t.Fatal(err)
		}
		crashes++
	}
	if crashes < 3 || resumed == 0 {
		t.Fatalf("%d crashes, %d documents resumed: the test did not interrupt anything", crashes, resumed)
	}
	if got, w := l.ids(), clean.ids(); strings.Join(got, "\n") != strings.Join(w, "\n") {
		t.Fatalf("after %d crashes the store holds %d records, a clean run %d", crashes, len(got), len(w))
	}
	t.Logf("%d simulated crashes, %d documents not read again", crashes, resumed)

	l.failAt = 0
	sum, err := runInto(t, l, dir)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Unchanged != sum.Files || sum.TotalIngested() != 0 || !strings.Contains(sum.String(), "unchanged files skipped: ") {
		t.Fatalf("re-run over completed files: %s", sum)
	}

	// A changed file is read again from the start; deduplication keeps it at 0 new rows.
	f := filepath.Join(dir, "workflow", "cases.jsonl")
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err = runInto(t, l, dir)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Unchanged != sum.Files-1 || sum.TotalIngested() != 0 || sum.Documents == 0 {
		t.Fatalf("after touching one file: %s", sum)
	}
}

// TestLineNumbersAfterBlankPrefix: blank lines beyond the reader's buffer
// are skipped, and the documents after them keep their true line numbers.
func TestLineNumbersAfterBlankPrefix(t *testing.T) {
	var refs []string
	err := ingest.ReadFile(filepath.Join(badDir, "96_blank_lines_then_data.jsonl.gz"), func(d ingest.Doc) error {
		refs = append(refs, d.Ref[strings.LastIndex(d.Ref, ":")+1:])
		return nil
	}, func(*ingest.ReadError) {})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(refs, ","); got != "3145729,3145730,3145731" {
		t.Fatalf("line numbers %s", got)
	}
}

// TestDecompressionLimit: the absolute limit holds even when the ratio is sane.
func TestDecompressionLimit(t *testing.T) {
	defer func(n int64) { ingest.MaxDecompressedBytes = n }(ingest.MaxDecompressedBytes)
	ingest.MaxDecompressedBytes = 1 << 20
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	for i := 0; i < 40_000; i++ {
		w.Write([]byte(`{"case_id":"c` + strings.Repeat("x", i%50) + `","event":"opened","ts":"2026-03-02T09:00:00Z"}` + "\n"))
	}
	w.Close()
	docs, rejects := 0, []string{}
	err := ingest.ReadStream("big.jsonl.gz", &buf, func(ingest.Doc) error { docs++; return nil },
		func(re *ingest.ReadError) { rejects = append(rejects, re.Reason) })
	if err != nil {
		t.Fatal(err)
	}
	if len(rejects) != 1 || !strings.Contains(rejects[0], "beyond the 1 MiB limit") || docs == 0 || docs >= 40_000 {
		t.Fatalf("docs %d, rejects %q", docs, rejects)
	}
}

// TestRejectCopiesArePseudonymised: customer numbers in a rejected
// document are stored as pseudonyms, business numbers are kept.
func TestRejectCopiesArePseudonymised(t *testing.T) {
	mem := newMemLoader()
	env := ingesttest.Env(t)
	if _, err := ingest.Run(context.Background(), ingest.Options{Env: env, Loader: mem, Workers: 1},
		[]string{filepath.Join(badDir, "98_meta_phone_in_bad_doc.json"), filepath.Join(badDir, "63_csv_wrong_columns.csv"),
			filepath.Join(badDir, "57_meta_message_no_from.json")}); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range mem.recs {
		rj, ok := r.(*models.Reject)
		if !ok {
			continue
		}
		n++
		for _, raw := range []string{"447700900298", "+44 7700 900298", "447700900263", "447700900201"} {
			if strings.Contains(rj.Raw, raw) || strings.Contains(rj.Reason, raw) {
				t.Errorf("reject %s keeps %s: %s", rj.SourceRef, raw, rj.Raw)
			}
		}
		if strings.Contains(rj.SourceRef, "98_") && (!strings.Contains(rj.Raw, env.Pseudo.Customer("447700900298")) ||
			!strings.Contains(rj.Raw, `"display_phone_number":"15550001111"`)) {
			t.Errorf("reject copy lost its pseudonym or the business number: %s", rj.Raw)
		}
	}
	if n != 4 {
		t.Fatalf("%d rejects, want 4", n)
	}
}

// TestCheckDecoded is the check other decoders of documents (the webhook
// receiver) can apply: not UTF-8, in the future, or fine.
func TestCheckDecoded(t *testing.T) {
	now := time.Now()
	m := &models.Message{MessageID: "m1", TS: now.Add(time.Hour)}
	if r := ingest.CheckDecoded(ingest.Doc{Raw: []byte(`{"id":"m1"}`)}, []models.Record{m}, now); r != "" {
		t.Errorf("an event an hour ahead was refused: %s", r)
	}
	m.TS = now.Add(25 * time.Hour)
	if r := ingest.CheckDecoded(ingest.Doc{Raw: []byte(`{"id":"m1"}`)}, []models.Record{m}, now); !strings.Contains(r, "is in the future") {
		t.Errorf("an event 25 h ahead: %q", r)
	}
	if r := ingest.CheckDecoded(ingest.Doc{Raw: []byte("{\"id\":\"m\xff\"}")}, nil, now); !strings.Contains(r, "invalid UTF-8 at byte 9") {
		t.Errorf("invalid UTF-8: %q", r)
	}
	rj := ingest.NewReject(ingesttest.Env(t), "meta", "webhook:1", `from "+44 7700 900123" is odd`, []byte(`{"from":"447700900123"}`))
	if strings.Contains(rj.Reason+rj.Raw, "900123") || rj.EventID == "" {
		t.Errorf("reject keeps the number or has no id: %+v", rj)
	}
}
