package ingest_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/closedloop/closedloop/ingest"
)

// BenchmarkReadJSONLines splits a 1000-line Meta JSON Lines file into documents, the reader stage ahead of every collector.
func BenchmarkReadJSONLines(b *testing.B) {
	const lines = 1000
	raw, err := os.ReadFile("../testdata/real/whatsapp_cloud/pywa/status_sent.json")
	if err != nil {
		b.Fatal(err)
	}
	var line bytes.Buffer
	if err := json.Compact(&line, raw); err != nil {
		b.Fatal(err)
	}
	line.WriteByte('\n')
	path := filepath.Join(b.TempDir(), "status.jsonl")
	if err := os.WriteFile(path, bytes.Repeat(line.Bytes(), lines), 0o600); err != nil {
		b.Fatal(err)
	}
	n := 0
	fn := func(ingest.Doc) error { n++; return nil }
	bad := func(e *ingest.ReadError) { b.Fatal(e) }
	b.SetBytes(int64(line.Len() * lines))
	b.ReportAllocs()
	for b.Loop() {
		n = 0
		if err := ingest.ReadFile(path, fn, bad); err != nil || n != lines {
			b.Fatalf("%d docs (want %d), err %v", n, lines, err)
		}
	}
}
