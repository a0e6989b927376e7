package ingest_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/closedloop/closedloop/ingest"
	_ "github.com/closedloop/closedloop/ingest/all"
	"github.com/closedloop/closedloop/ingest/ingesttest"
	"github.com/closedloop/closedloop/models"
)

// badDir is the bad-input corpus; its README.md table is the specification
// this test checks.
const badDir = "../testdata/bad"

var printBad = flag.Bool("badcorpus.print", false, "print what ingest does with each bad input, as README rows")

// memLoader is an in-memory store: it deduplicates on event_id per table
// as the real stores do and keeps every record in load order.
type memLoader struct {
	mu   sync.Mutex
	seen map[models.Table]map[string]bool
	recs []models.Record
	dups int
}

func newMemLoader() *memLoader { return &memLoader{seen: map[models.Table]map[string]bool{}} }

func (m *memLoader) Load(_ context.Context, recs []models.Record) (map[models.Table]int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	added := map[models.Table]int{}
	for _, r := range recs {
		t, id := r.Table(), r.Base().EventID
		if m.seen[t] == nil {
			m.seen[t] = map[string]bool{}
		}
		if m.seen[t][id] {
			m.dups++
			continue
		}
		m.seen[t][id] = true
		m.recs = append(m.recs, r)
		added[t]++
	}
	return added, nil
}

// outcome is what ingest did with one file.
type outcome struct {
	kept    int      // event rows stored
	rejects []string // reasons, in file order
	skipped []string // skipped kinds, sorted
	dups    int      // events already stored (first occurrence won)
}

func (o outcome) String() string {
	parts := []string{fmt.Sprintf("kept %d", o.kept)}
	for _, r := range o.rejects {
		parts = append(parts, fmt.Sprintf("reject %q", r))
	}
	for _, s := range o.skipped {
		parts = append(parts, fmt.Sprintf("skip %q", s))
	}
	if o.dups > 0 {
		parts = append(parts, fmt.Sprintf("dup %d", o.dups))
	}
	return strings.Join(parts, "; ")
}

func ingestBad(t *testing.T, file, source string) (outcome, ingest.Summary) {
	t.Helper()
	mem := newMemLoader()
	sum, err := ingest.Run(context.Background(), ingest.Options{
		Source: source, Env: ingesttest.Env(t), Loader: mem, Workers: 2, BatchRecords: 1000,
	}, []string{filepath.Join(badDir, file)})
	if err != nil {
		t.Fatalf("%s: ingest stopped: %v", file, err)
	}
	var o outcome
	for _, r := range mem.recs {
		if rj, ok := r.(*models.Reject); ok {
			o.rejects = append(o.rejects, rj.Reason)
			if rj.Reason == "" {
				t.Errorf("%s: reject without a reason at %s", file, rj.SourceRef)
			}
			continue
		}
		o.kept++
		if r.Base().EventID == "" {
			t.Errorf("%s: %s record without event_id", file, r.Table())
		}
	}
	for k, n := range sum.Skipped {
		for i := 0; i < n; i++ {
			o.skipped = append(o.skipped, k)
		}
	}
	sort.Strings(o.skipped)
	o.dups = mem.dups
	return o, sum
}

// badCase is one row of testdata/bad/README.md.
type badCase struct {
	file, source string
	kept, dups   int
	rejects      []string // reason substrings, in order
	skips        []string
}

var (
	rowRE    = regexp.MustCompile("^\\| `([^`]+)` \\| ([^|]*) \\| `([^`]*)` \\| (.*) \\|$")
	expectRE = regexp.MustCompile(`^(kept|dup) (\d+)$|^(reject|skip) "(.*)"$`)
)

func readBadCases(t *testing.T) []badCase {
	t.Helper()
	f, err := os.Open(filepath.Join(badDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []badCase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := rowRE.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		c := badCase{file: m[1], source: m[3]}
		for _, e := range splitExpect(m[4]) {
			em := expectRE.FindStringSubmatch(e)
			if em == nil {
				t.Fatalf("README row %s: cannot read expectation %q", c.file, e)
			}
			switch {
			case em[1] == "kept":
				c.kept, _ = strconv.Atoi(em[2])
			case em[1] == "dup":
				c.dups, _ = strconv.Atoi(em[2])
			case em[3] == "reject":
				c.rejects = append(c.rejects, unescapeCell(em[4]))
			case em[3] == "skip":
				c.skips = append(c.skips, unescapeCell(em[4]))
			}
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// splitExpect splits "kept 2; reject \"a; b\"" on the semicolons outside quotes.
func splitExpect(s string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '\\' && i+1 < len(s):
			cur.WriteByte(ch)
			cur.WriteByte(s[i+1])
			i++
		case ch == '"':
			quoted = !quoted
			cur.WriteByte(ch)
		case ch == ';' && !quoted:
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(ch)
		}
	}
	if t := strings.TrimSpace(cur.String()); t != "" {
		out = append(out, t)
	}
	return out
}

// unescapeCell undoes the table's escaping: \" and \| .
func unescapeCell(s string) string {
	return strings.NewReplacer(`\"`, `"`, `\|`, `|`, `\\`, `\`).Replace(s)
}

// TestBadInputCorpus ingests every file of testdata/bad on its own and
// checks the README's expectation: the bad documents rejected, each with
// its specific reason, the good rest kept, the unused skipped, and no
// panic or failed run whatever the input.
func TestBadInputCorpus(t *testing.T) {
	cases := readBadCases(t)
	files, err := filepath.Glob(filepath.Join(badDir, "[0-9]*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 50 {
		t.Fatalf("the corpus has %d files, want at least 50", len(files))
	}
	described := map[string]bool{}
	for _, c := range cases {
		described[c.file] = true
	}
	for _, f := range files {
		if !described[filepath.Base(f)] {
			t.Errorf("%s is not described in testdata/bad/README.md", filepath.Base(f))
		}
	}
	if *printBad {
		for _, f := range files {
			src := "auto"
			for _, c := range cases {
				if c.file == filepath.Base(f) && c.source != "" {
					src = c.source
				}
			}
			o, _ := ingestBad(t, filepath.Base(f), src)
			fmt.Printf("| `%s` | ? | `%s` | %s |\n", filepath.Base(f), src, strings.ReplaceAll(o.String(), "|", `\|`))
		}
		return
	}
	rejected, kept, skipped := 0, 0, 0
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			o, _ := ingestBad(t, c.file, c.source)
			rejected += len(o.rejects)
			kept += o.kept
			skipped += len(o.skipped)
			if o.kept != c.kept {
				t.Errorf("kept %d records, want %d (got %s)", o.kept, c.kept, o)
			}
			if o.dups != c.dups {
				t.Errorf("%d duplicates, want %d (got %s)", o.dups, c.dups, o)
			}
			if len(o.rejects) != len(c.rejects) {
				t.Errorf("%d rejects, want %d (got %s)", len(o.rejects), len(c.rejects), o)
			} else {
				for i, want := range c.rejects {
					if !strings.Contains(o.rejects[i], want) {
						t.Errorf("reject %d: reason %q does not contain %q", i+1, o.rejects[i], want)
					}
				}
			}
			if strings.Join(o.skipped, ",") != strings.Join(c.skips, ",") {
				t.Errorf("skipped %q, want %q", o.skipped, c.skips)
			}
		})
	}
	t.Logf("FIGURES bad input: %d files in %d cases: %d documents rejected, each with its reason; %d good records kept beside them; %d skipped",
		len(files), len(cases), rejected, kept, skipped)
}
