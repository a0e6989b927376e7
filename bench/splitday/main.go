// Command splitday splits the output of `closedloop gen` at a cutoff, for
// bench/run's incremental-transform measurement: every input document whose
// newest event is before the cutoff goes to OUT/before/, the others to
// OUT/after/, each under its path relative to IN. Documents are decoded with
// closedloop's own collectors (auto detection), so a document's time is
// what the store will see; documents that yield no event (malformed lines,
// skipped kinds) stay with "before".
//
//	splitday -in DIR -out DIR -cutoff 2026-03-01T00:00:00Z
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/closedloop/closedloop/ingest"
	_ "github.com/closedloop/closedloop/ingest/all"
	"github.com/closedloop/closedloop/models"
	"github.com/closedloop/closedloop/pii"
)

func main() {
	in := flag.String("in", "", "directory written by closedloop gen")
	out := flag.String("out", "", "output directory (before/ and after/ are created)")
	cut := flag.String("cutoff", "", "RFC 3339 time: documents with an event at or after it go to after/")
	flag.Parse()
	cutoff, err := time.Parse(time.RFC3339, *cut)
	if *in == "" || *out == "" || err != nil {
		fmt.Fprintln(os.Stderr, "usage: splitday -in DIR -out DIR -cutoff RFC3339")
		os.Exit(2)
	}
	p, err := pii.New([]byte("splitday-only-needs-some-key-0123456789"), false)
	check(err)
	env := &ingest.Env{Pseudo: p, Now: time.Now()}
	files, err := ingest.ListFiles([]string{*in})
	check(err)
	var nb, na int
	for _, f := range files {
		rel, err := filepath.Rel(*in, f)
		check(err)
		before, after := create(filepath.Join(*out, "before", rel)), create(filepath.Join(*out, "after", rel))
		err = ingest.ReadFile(f, func(d ingest.Doc) error {
			newest := time.Time{}
			if c, ok := ingest.Detect(d); ok {
				_ = c.Decode(env, d, func(r models.Record) {
					if ts, _ := models.EventTime(r); ts.After(newest) {
						newest = ts
					}
				})
			}
			w := before
			if !newest.Before(cutoff) {
				w, na = after, na+1
			} else {
				nb++
			}
			w.Write(d.Raw)
			return w.WriteByte('\n')
		}, func(re *ingest.ReadError) {
			before.Write(re.Raw)
			before.WriteByte('\n')
			nb++
		})
		check(err)
		check(before.Flush())
		check(after.Flush())
	}
	fmt.Printf("before %d after %d\n", nb, na)
}

func create(path string) *bufio.Writer {
	check(os.MkdirAll(filepath.Dir(path), 0o755))
	f, err := os.Create(path)
	check(err)
	return bufio.NewWriterSize(f, 1<<20) // closed at exit; Flush is what matters
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "splitday:", err)
		os.Exit(1)
	}
}
