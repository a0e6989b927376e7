package duckdb

import (
	"context"
	"testing"
	"time"

	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/models"
)

func TestLoadWithCheckpointCommitsRowsAndPositionTogether(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	defer s.Close()
	if _, ok, err := s.FileCheckpoint(ctx, "/in/a.jsonl", "auto"); err != nil || ok {
		t.Fatalf("checkpoint before any load: ok=%v err=%v", ok, err)
	}
	cp := ingest.FileCheckpoint{Path: "/in/a.jsonl", Source: "auto", Size: 1234,
		ModTime: time.Date(2026, 3, 2, 10, 0, 0, 123456000, time.UTC), SHA256Prefix: "ab12", DocsDone: 2}
	added, err := s.LoadWithCheckpoint(ctx, []models.Record{msg("a", "a:1"), msg("b", "a:2")}, cp)
	if err != nil {
		t.Fatal(err)
	}
	if added[models.TableMessages] != 2 {
		t.Fatalf("added %v", added)
	}
	got, ok, err := s.FileCheckpoint(ctx, cp.Path, "auto")
	if err != nil || !ok {
		t.Fatalf("checkpoint: ok=%v err=%v", ok, err)
	}
	if !got.SameFile(cp) || got.DocsDone != 2 || got.Completed {
		t.Fatalf("checkpoint = %+v, want %+v", got, cp)
	}
	if _, ok, _ := s.FileCheckpoint(ctx, cp.Path, "cases"); ok {
		t.Fatal("a checkpoint of another source matched")
	}

	// The final, empty load marks the file complete; a duplicate adds nothing.
	cp.DocsDone, cp.Completed = 3, true
	if added, err = s.LoadWithCheckpoint(ctx, []models.Record{msg("a", "a:3")}, cp); err != nil || added[models.TableMessages] != 0 {
		t.Fatalf("added %v, err %v", added, err)
	}
	got, _, _ = s.FileCheckpoint(ctx, cp.Path, "auto")
	if got.DocsDone != 3 || !got.Completed {
		t.Fatalf("after completion: %+v", got)
	}

	// A load that fails leaves the checkpoint where it was.
	bad := cp
	bad.DocsDone = 99
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.LoadWithCheckpoint(cctx, []models.Record{msg("c", "a:4")}, bad); err == nil {
		t.Fatal("a cancelled load succeeded")
	}
	got, _, _ = s.FileCheckpoint(ctx, cp.Path, "auto")
	if got.DocsDone != 3 {
		t.Fatalf("a failed load moved the checkpoint to %d", got.DocsDone)
	}
}
