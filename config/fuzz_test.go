package config_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/closedloop/closedloop/config"
	"github.com/closedloop/closedloop/gen"
)

// FuzzParse parses arbitrary YAML as a configuration: no panic, no hang,
// either a configuration or an error that says something. Seeds: each
// top-level section of the annotated example and of the demo
// configuration (whole files make the fuzzer's mutations slow), and known
// problem cases.
func FuzzParse(f *testing.F) {
	example, err := os.ReadFile("../closedloop.example.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, doc := range []string{string(example), gen.DemoConfigYAML()} {
		for _, sec := range sections(doc) {
			f.Add([]byte(sec))
		}
	}
	for _, s := range []string{"", "queues:\n  support:\n    sla_targt: 15m\n", "report:\n  timezone: UTC\n  timezone: Europe/Paris\n",
		"a: &x [*x]\n", "<<: *nope\n", "calendars:\n  uk:\n    - valid_from: 2026-02-30\n      timezone: Europe/London\n",
		"pilot:\n  pilot: queue=x' OR 1=1 --\n  baseline: queue=y\n", "---\n---\n", "\t- \x00",
		"registered_numbers: &a [x,x,x]\nqueues: &b {q: {calendar: *a}}\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		type result struct {
			c   *config.Config
			err error
		}
		done := make(chan result, 1)
		go func() { c, err := config.Parse(b); done <- result{c, err} }()
		var r result
		select {
		case r = <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("parsing %d bytes took more than 5 s: %q", len(b), b)
		}
		switch {
		case r.err == nil && r.c == nil:
			t.Fatal("no configuration and no error")
		case r.err != nil && strings.TrimSpace(r.err.Error()) == "":
			t.Fatal("an error without a message")
		case r.err != nil && r.c != nil:
			t.Fatal("both a configuration and an error")
		}
	})
}

// sections splits YAML text before each top-level key.
func sections(doc string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.SplitAfter(doc, "\n") {
		if line != "" && line[0] != ' ' && line[0] != '#' && line[0] != '\n' && cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
		cur.WriteString(line)
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}
