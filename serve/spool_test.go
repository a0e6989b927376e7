package serve

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/closedloop/closedloop/store"
	"github.com/closedloop/closedloop/store/duckdb"
)

func TestSpoolRecordKeepsBodies(t *testing.T) {
	pretty := []byte("{\n  \"a\": [1, 2],\n  \"b\": \"\u2028x\"\n}\n")
	r := NewSpoolRecord("whatsapp", "id", time.Now(), pretty)
	if string(r.Raw()) != `{"a":[1,2],"b":"`+"\u2028"+`x"}` || r.BodyB64 != nil {
		t.Errorf("JSON body kept as %q", r.Raw())
	}
	bad := []byte("{\"event\": \xff\x00 not json")
	r = NewSpoolRecord("chatwoot", "id", time.Now(), bad)
	line, _ := json.Marshal(r)
	var back SpoolRecord
	if err := json.Unmarshal(line, &back); err != nil || string(back.Raw()) != string(bad) {
		t.Errorf("non-JSON body not kept exactly: %q %v", back.Raw(), err)
	}
}

// TestSpoolCrashRecovery: records written by a process that died (its
// last segment ending in a torn line, its checkpoint behind its loads) are
// drained by the next one, each stored once.
func TestSpoolCrashRecovery(t *testing.T) {
	dir := t.TempDir()
	spoolDir := filepath.Join(dir, "spool")
	sp, err := OpenSpool(spoolDir, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range []string{"wamid.rec-1", "wamid.rec-2", "wamid.rec-3"} {
		if err := sp.Append(NewSpoolRecord(EndpointWhatsApp, "req-"+id, time.Now(), inboundBody(t, id))); err != nil {
			t.Fatal(i, err)
		}
	}
	if sp.Acknowledged() != 3 {
		t.Fatalf("acknowledged %d", sp.Acknowledged())
	}
	if _, n := sp.Lag(); n != 3 {
		t.Fatalf("lag %d records, want 3", n)
	}
	sp.Close()
	// The crash: half a line at the end of the segment.
	segs, _ := sp.segments()
	f, err := os.OpenFile(filepath.Join(spoolDir, segName(segs[len(segs)-1])), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"received_at":"2026-01-01T00:00:00Z","endpoint":"whatsapp","request_id":"torn","body":{"obj`)
	f.Close()

	db := filepath.Join(dir, "store.duckdb")
	st, err := duckdb.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv, err := New(Options{Store: st, Config: testConfig(), Pseudo: testPseudo(t), SpoolDir: spoolDir, Getenv: testEnv, Log: os.Stderr})
	if err != nil {
		t.Fatal(err)
	}
	if _, n := srv.spool.Lag(); n != 3 {
		t.Errorf("lag after reopening: %d records, want 3 (the torn line does not count)", n)
	}
	if err := srv.DrainAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := count(t, st, `SELECT count(*) FROM messages`); n != 3 {
		t.Fatalf("%d messages after the drain, want 3", n)
	}
	if srv.spool.TornLines.Load() != 1 {
		t.Errorf("torn lines %d, want 1", srv.spool.TornLines.Load())
	}
	if n := count(t, st, `SELECT count(*) FROM rejects`); n != 0 {
		t.Errorf("%d rejects, want 0 (a torn line was never acknowledged)", n)
	}
	// The drained segment of the dead process is deleted.
	if left, _ := srv.spool.segments(); len(left) != 1 {
		t.Errorf("segments left: %v, want only the current one", left)
	}

	// New records; then a crash before the checkpoint: the next drain
	// repeats the batch and the store absorbs it.
	if err := srv.spool.Append(NewSpoolRecord(EndpointWhatsApp, "req-4", time.Now(), inboundBody(t, "wamid.rec-4"))); err != nil {
		t.Fatal(err)
	}
	cp := srv.spool.Checkpoint()
	if err := srv.DrainAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := srv.spool.commitCheckpoint(cp, -1); err != nil { // rewind
		t.Fatal(err)
	}
	if err := srv.DrainAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := count(t, st, `SELECT count(*) FROM messages`); n != 4 {
		t.Errorf("%d messages after re-draining, want 4", n)
	}
	if got := counterValue(t, srv.metrics.duplicates); got != 1 {
		t.Errorf("duplicates %v, want 1", got)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	// A clean stop leaves no raw body behind.
	if left, _ := srv.spool.segments(); len(left) != 0 {
		t.Errorf("segments left after a clean stop: %v", left)
	}
	if b, n := srv.spool.Lag(); b != 0 || n != 0 {
		t.Errorf("lag after close: %d bytes, %d records", b, n)
	}
}

func TestSpoolRotatesSegments(t *testing.T) {
	ts := newTestServer(t, "", func(o *Options) { o.SegmentBytes = 4096 })
	for i := 0; i < 20; i++ {
		body := inboundBody(t, "wamid.rot-"+string(rune('a'+i)))
		if r := ts.do(t, "POST", "/webhooks/whatsapp", "", body, signedHeaders(body)); r.StatusCode != 200 {
			t.Fatal(r.StatusCode)
		}
	}
	if cur, _ := ts.spool.durableEnd(); cur < 3 {
		t.Errorf("segment %d after 20 bodies of ~700 bytes with 4 KiB segments, want at least 3", cur)
	}
	ts.drain(t)
	if n := count(t, ts.st, `SELECT count(*) FROM messages`); n != 20 {
		t.Errorf("%d messages, want 20", n)
	}
	// The drainer deletes drained segments (and starts a new one once it
	// has caught up, so that drained bodies do not stay on disk).
	deadline := time.Now().Add(5 * time.Second)
	for {
		segs, _ := ts.spool.segments()
		cur, _ := ts.spool.durableEnd()
		if len(segs) == 1 && segs[0] == cur {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("drained segments are kept: %v (current %d)", segs, cur)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
