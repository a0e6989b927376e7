package duckdb

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/closedloop/closedloop/models"
)

// metric is a template_metrics_daily row (the Meta collector's record
// type lives in ingest/metagraph; the store only needs Values).
type metric struct {
	models.Meta
	id   any
	day  time.Time
	sent int64
}

func (m *metric) Table() models.Table { return "template_metrics_daily" }
func (m *metric) Base() *models.Meta  { return &m.Meta }
func (m *metric) Values() []any {
	return []any{m.id, "hello", m.day, m.sent, nil, nil, nil, 1.5, "EUR", time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)}
}

func stateOf(t *testing.T, s *Store, c string) map[string]string {
	t.Helper()
	st, err := s.CollectorState(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestLoadWithStateCommitsRowsAndStateTogether(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	defer s.Close()
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	added, err := s.LoadWithState(ctx, "desk", []models.Record{msg("a", "p:1"), msg("a", "p:1"), &metric{id: "t1", day: day, sent: 5}},
		map[string]string{"cursor": "1", "conv:1": `{"status":"open"}`})
	if err != nil {
		t.Fatal(err)
	}
	if added[models.TableMessages] != 1 || added["template_metrics_daily"] != 1 {
		t.Errorf("added = %v", added)
	}
	// The day's row is replaced, the message is not duplicated, the cursor
	// moves and a key with an empty value is deleted.
	added, err = s.LoadWithState(ctx, "desk", []models.Record{msg("a", "p:2"), &metric{id: "t1", day: day, sent: 7}, &metric{id: "t1", day: day.AddDate(0, 0, 1), sent: 1}},
		map[string]string{"cursor": "2", "conv:1": ""})
	if err != nil {
		t.Fatal(err)
	}
	if added[models.TableMessages] != 0 || added["template_metrics_daily"] != 2 {
		t.Errorf("second added = %v", added)
	}
	var n, sent int
	if err := s.DB().QueryRow(`SELECT count(*), max(sent) FILTER (WHERE day = DATE '2026-03-01') FROM template_metrics_daily`).Scan(&n, &sent); err != nil {
		t.Fatal(err)
	}
	if n != 2 || sent != 7 {
		t.Errorf("template_metrics_daily: %d rows, sent %d; want 2 rows, the day replaced with 7", n, sent)
	}
	if st := stateOf(t, s, "desk"); len(st) != 1 || st["cursor"] != "2" {
		t.Errorf("state = %v", st)
	}
	if st := stateOf(t, s, "other"); len(st) != 0 {
		t.Errorf("another collector's state = %v", st)
	}
}

// TestLoadWithStateIsAtomic: when any part fails (here a metric row
// without its NOT NULL template_id, moved after the messages), nothing is
// stored: no message, no state, and the staging tables do not leak rows
// into the next load.
func TestLoadWithStateIsAtomic(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	defer s.Close()
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	_, err := s.LoadWithState(ctx, "desk", []models.Record{msg("a", "p:1"), &metric{id: nil, day: day}}, map[string]string{"cursor": "9"})
	if err == nil {
		t.Fatal("want an error for a NULL template_id")
	}
	counts, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts[models.TableMessages] != 0 {
		t.Errorf("messages = %d after a failed load, want 0", counts[models.TableMessages])
	}
	if st := stateOf(t, s, "desk"); len(st) != 0 {
		t.Errorf("state advanced by a failed load: %v", st)
	}
	if _, err := s.LoadWithState(ctx, "desk", []models.Record{msg("b", "p:2")}, map[string]string{"cursor": "10"}); err != nil {
		t.Fatal(err)
	}
	counts, _ = s.Counts(ctx)
	if counts[models.TableMessages] != 1 {
		t.Errorf("messages = %d, want only the second load's row", counts[models.TableMessages])
	}
	if _, err := s.LoadWithState(ctx, "desk", []models.Record{&unknownTable{}}, nil); err == nil || !strings.Contains(err.Error(), "unknown table") {
		t.Errorf("unknown table: %v", err)
	}
}

type unknownTable struct{ models.Meta }

func (u *unknownTable) Table() models.Table { return "nope" }
func (u *unknownTable) Base() *models.Meta  { return &u.Meta }
func (u *unknownTable) Values() []any       { return nil }

func TestTakenFilesView(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	defer s.Close()
	v := `{"size":42,"mtime":"2026-03-01T10:00:00.5Z","sha256":"ab","taken_at":"2026-03-01T10:01:00Z","documents":3,"rejected":1}`
	if _, err := s.LoadWithState(ctx, "exports", nil, map[string]string{"taken:/srv/in/a.jsonl": v, "cursor": "x"}); err != nil {
		t.Fatal(err)
	}
	var path, sha string
	var size, docs int
	var mtime time.Time
	if err := s.DB().QueryRow(`SELECT path, size, sha256, documents, mtime FROM collector_taken_files`).Scan(&path, &size, &sha, &docs, &mtime); err != nil {
		t.Fatal(err)
	}
	if path != "/srv/in/a.jsonl" || size != 42 || sha != "ab" || docs != 3 || !mtime.Equal(time.Date(2026, 3, 1, 10, 0, 0, 500e6, time.UTC)) {
		t.Errorf("view row = %s %d %s %d %s", path, size, sha, docs, mtime)
	}
}
