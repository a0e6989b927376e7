package dropfolder

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/closedloop/closedloop/ingest/all"
	"github.com/closedloop/closedloop/ingest/pull"
	"github.com/closedloop/closedloop/ingest/pull/pulltest"
	"github.com/closedloop/closedloop/models"
)

var testNow = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

func caseLine(i int) string {
	return fmt.Sprintf(`{"event":"opened","case_id":"c%d","customer_id":"+4477009001%02d","ts":"2026-03-01T10:%02d:00Z","queue":"support"}`+"\n", i, i, i)
}

func runOnce(t *testing.T, st pull.StateStore, c pull.Collector) pull.Result {
	t.Helper()
	return pull.RunOne(context.Background(), pull.Options{Store: st, Env: pulltest.Env(testNow), Now: func() time.Time { return testNow }}, c)
}

// TestAppendedFileIsTakenOnceWhole: an exporter appends to a file while
// the collector watches. The run that sees it change leaves it alone; the
// next run, when it has stopped changing, takes it whole; later runs do
// not take it again.
func TestAppendedFileIsTakenOnceWhole(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cases.jsonl")
	if err := os.WriteFile(path, []byte(caseLine(1)+caseLine(2)), 0o644); err != nil {
		t.Fatal(err)
	}
	// Real Meta webhook bodies land beside it (auto-detected).
	meta, err := os.ReadFile("../../testdata/real/whatsapp_cloud/pywa/inbound_text.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "meta-0001.json"), meta, 0o644); err != nil {
		t.Fatal(err)
	}
	// Files still being written under a temporary name are not looked at.
	if err := os.WriteFile(filepath.Join(dir, "next.jsonl.part"), []byte(caseLine(9)), 0o644); err != nil {
		t.Fatal(err)
	}
	appending := true
	next := 3
	sleep := func(ctx context.Context, d time.Duration) error {
		if d != 2*time.Second {
			t.Errorf("settle = %s", d)
		}
		if appending { // the exporter writes more while we wait
			f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			f.WriteString(caseLine(next))
			next++
			f.Close()
			later := testNow.Add(time.Duration(next) * time.Second)
			os.Chtimes(path, later, later)
		}
		return nil
	}
	c, err := New(Config{Name: "exports", Paths: []string{dir}, Settle: 2 * time.Second, Sleep: sleep})
	if err != nil {
		t.Fatal(err)
	}
	st := pulltest.New()

	res := runOnce(t, st, c)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if st.Count(models.TableCaseEvents) != 0 || st.Count(models.TableMessages) != 1 {
		t.Fatalf("first run: the growing file must be left alone, the stable one taken: %v", st.Counts())
	}
	if notes := strings.Join(res.Notes, "\n"); !strings.Contains(notes, "cases.jsonl is still being written") {
		t.Errorf("notes: %v", res.Notes)
	}

	res = runOnce(t, st, c) // still growing
	if res.Err != nil || st.Count(models.TableCaseEvents) != 0 {
		t.Fatalf("second run: %v %v", res.Err, st.Counts())
	}

	appending = false // the exporter is done: 4 lines
	res = runOnce(t, st, c)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if got := st.Count(models.TableCaseEvents); got != 4 {
		t.Fatalf("case_events = %d, want the whole file (4 lines)", got)
	}
	abs, _ := filepath.Abs(path)
	taken := st.State("exports")["taken:"+abs]
	if !strings.Contains(taken, `"documents":4`) || !strings.Contains(taken, `"sha256":"`) {
		t.Errorf("taken record = %s", taken)
	}

	calls := 0
	c.cfg.Sleep = func(ctx context.Context, d time.Duration) error { calls++; return nil }
	res = runOnce(t, st, c)
	if res.Err != nil || res.Rows() != 0 || calls != 0 {
		t.Errorf("a taken file is taken once: %v, %d rows, settle waits %d", res.Err, res.Rows(), calls)
	}
	// Touched without a change of content: not ingested again.
	later := testNow.Add(time.Hour)
	os.Chtimes(path, later, later)
	res = runOnce(t, st, c)
	if res.Err != nil || res.Rows() != 0 || st.Count(models.TableCaseEvents) != 4 {
		t.Errorf("touched file: %v, %d rows", res.Err, res.Rows())
	}
	// Appended after it was taken: taken again, only the new line is new.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(caseLine(7))
	f.Close()
	res = runOnce(t, st, c)
	if res.Err != nil || res.Added[models.TableCaseEvents] != 1 || st.Count(models.TableCaseEvents) != 5 {
		t.Errorf("appended after taking: %v, added %v", res.Err, res.Added)
	}
}

// TestCrashBeforeTheTakenRecordRetakesTheFile: the file's rows and its
// taken record commit together, so a failed commit leaves it untaken.
func TestCrashBeforeTheTakenRecordRetakesTheFile(t *testing.T) {
	dir := t.TempDir()
	var lines strings.Builder
	for i := 0; i < 10; i++ {
		lines.WriteString(caseLine(i))
	}
	lines.WriteString("{not json\n")
	os.WriteFile(filepath.Join(dir, "a.jsonl"), []byte(lines.String()), 0o644)
	c, err := New(Config{Name: "exports", Paths: []string{dir}, Sleep: func(context.Context, time.Duration) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	st := pulltest.New()
	crash := pulltest.New()
	crash.FailAfter = 1
	crash.Commits = 1 // the first commit already fails
	res := runOnce(t, crash, c)
	if !errors.Is(res.Err, pulltest.ErrCrash) || len(crash.State("exports")) != 0 || crash.Count(models.TableCaseEvents) != 0 {
		t.Fatalf("crashed run: %v, state %v, counts %v", res.Err, crash.State("exports"), crash.Counts())
	}
	crash.FailAfter = 0
	if res := runOnce(t, crash, c); res.Err != nil {
		t.Fatal(res.Err)
	}
	if res := runOnce(t, st, c); res.Err != nil {
		t.Fatal(res.Err)
	}
	for _, tb := range []models.Table{models.TableCaseEvents, models.TableRejects} {
		if got, want := crash.Dump(tb), st.Dump(tb); strings.Join(got, "\n") != strings.Join(want, "\n") || len(got) == 0 {
			t.Errorf("%s after crash and resume:\n%v\nuninterrupted:\n%v", tb, got, want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	if _, err := New(Config{Name: "x"}); err == nil || !strings.Contains(err.Error(), "no paths") {
		t.Errorf("no paths: %v", err)
	}
	if _, err := New(Config{Name: "x", Paths: []string{"."}, Source: "nope"}); err == nil || !strings.Contains(err.Error(), `unknown source "nope"`) {
		t.Errorf("bad source: %v", err)
	}
	c, _ := New(Config{Name: "x", Paths: []string{"/does/not/exist"}})
	if res := runOnce(t, pulltest.New(), c); res.Err == nil || !strings.Contains(res.Err.Error(), "collector x: watching /does/not/exist") {
		t.Errorf("missing dir: %v", res.Err)
	}
}
