package ingest_test

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/ingest/ingesttest"
)

var fuzzNames = []string{"in.jsonl", "in.json", "in.csv", "in.form", "in.jsonl.gz", "in.csv.gz"}

// FuzzReadStream splits arbitrary bytes into documents under every file
// name the reader distinguishes. Reading from memory must never fail (a
// failure would stop a whole ingest): every problem is a ReadError with a
// reference and a reason, and every document has bytes and a reference.
func FuzzReadStream(f *testing.F) {
	seeds := ingesttest.SeedFiles(f, []string{"../testdata/real", "canonical/testdata"})
	files, _ := filepath.Glob(filepath.Join(badDir, "[0-9]*"))
	for _, p := range files {
		if fi, err := os.Stat(p); err == nil && fi.Size() < 64<<10 {
			b, _ := os.ReadFile(p)
			seeds = append(seeds, b)
		}
	}
	for i, b := range seeds {
		name := uint8(i % len(fuzzNames))
		if strings.HasSuffix(fuzzNames[name], ".gz") {
			var buf bytes.Buffer
			w := gzip.NewWriter(&buf)
			w.Write(b)
			w.Close()
			b = buf.Bytes()
		}
		f.Add(b, name)
	}
	f.Fuzz(func(t *testing.T, data []byte, name uint8) {
		fn := fuzzNames[int(name)%len(fuzzNames)]
		docs := 0
		err := ingest.ReadStream(fn, bytes.NewReader(data), func(d ingest.Doc) error {
			docs++
			if len(d.Raw) == 0 || d.Ref == "" {
				t.Fatalf("document %d: %d bytes, ref %q", docs, len(d.Raw), d.Ref)
			}
			return nil
		}, func(re *ingest.ReadError) {
			if re.Ref == "" || re.Reason == "" {
				t.Fatalf("read error without ref or reason: %+v", re)
			}
		})
		if err != nil {
			t.Fatalf("reading %d bytes as %s failed: %v", len(data), fn, err)
		}
	})
}
