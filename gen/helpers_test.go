package gen

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// testEnd is a fixed end of period: tests never depend on the clock.
var testEnd = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// generate runs the generator into a fresh directory.
func generate(t testing.TB, o Options) (string, Result) {
	t.Helper()
	if o.Out == "" {
		o.Out = t.TempDir()
	}
	if o.End.IsZero() {
		o.End = testEnd
	}
	res, err := Generate(context.Background(), o)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return o.Out, res
}

// outputFiles lists every file under dir, relative, sorted.
func outputFiles(t testing.TB, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

// eachLine calls fn for every line of the files matching pattern under dir.
func eachLine(t testing.TB, dir, pattern string, fn func(file string, n int, line []byte)) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil || len(files) == 0 {
		t.Fatalf("no files match %s (%v)", pattern, err)
	}
	sort.Strings(files)
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		n := 0
		for sc.Scan() {
			n++
			fn(f, n, sc.Bytes())
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		fh.Close()
	}
}

// eachDoc decodes every line as a JSON object (failing the test otherwise).
func eachDoc(t testing.TB, dir, pattern string, fn func(doc map[string]any)) {
	t.Helper()
	eachLine(t, dir, pattern, func(file string, n int, line []byte) {
		var doc map[string]any
		if err := json.Unmarshal(line, &doc); err != nil {
			t.Fatalf("%s:%d: %v", file, n, err)
		}
		fn(doc)
	})
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func arr(v any) []any {
	a, _ := v.([]any)
	return a
}

// metaValues yields every change value of a Meta webhook body.
func metaValues(doc map[string]any) []map[string]any {
	var out []map[string]any
	for _, e := range arr(doc["entry"]) {
		for _, c := range arr(obj(e)["changes"]) {
			out = append(out, obj(obj(c)["value"]))
		}
	}
	return out
}

func digits(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b = append(b, s[i])
		}
	}
	return string(b)
}
