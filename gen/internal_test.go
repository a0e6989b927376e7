package gen

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSinkRotatesAndNeverBreaksFirstLines(t *testing.T) {
	dir := t.TempDir()
	m := newMalformer(rand.New(rand.NewPCG(1, 2)), 1, []string{"ts"}, nil) // break every line it may
	s := newSink("x", dir, "webhooks", 3, m)
	for i := 0; i < 7; i++ {
		s.write([]byte(`{"ts":"2026-01-01T00:00:00.000Z","n":1}`))
	}
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	if len(s.files) != 3 || filepath.Base(s.files[2]) != "webhooks-0003.jsonl" {
		t.Fatalf("files %v", s.files)
	}
	for _, f := range s.files {
		b, _ := os.ReadFile(f)
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		if !json.Valid([]byte(lines[0])) {
			t.Errorf("%s: first line broken: %s", f, lines[0])
		}
		for _, l := range lines[1:] {
			var v map[string]any
			if json.Unmarshal([]byte(l), &v) == nil && v["ts"] == "2026-01-01T00:00:00.000Z" {
				t.Errorf("%s: line left intact at rate 1: %s", f, l)
			}
		}
	}
	if m.count != 4 {
		t.Errorf("malformed %d lines, want 4", m.count)
	}
}

func TestReplaceValues(t *testing.T) {
	line := []byte(`{"timestamp":"1","x":{"timestamp":2},"a":[{"timestamp":"3"}],"timestamp_b":"4","o":{"timestamp":{"k":1}}}`)
	got, ok := replaceValues(line, "timestamp", []byte("true"))
	want := `{"timestamp":true,"x":{"timestamp":true},"a":[{"timestamp":true}],"timestamp_b":"4","o":{"timestamp":{"k":1}}}`
	if !ok || string(got) != want {
		t.Errorf("got %s", got)
	}
	if _, ok := replaceValues(line, "missing", []byte("1")); ok {
		t.Error("replaced a missing key")
	}
}

func TestCalendarBusinessTime(t *testing.T) {
	w, err := newWorld()
	if err != nil {
		t.Fatal(err)
	}
	madrid := w.byQueue["payments"].cal
	loc := madrid.loc
	at := func(y int, m time.Month, d, h, min int) int64 {
		return time.Date(y, m, d, h, min, 0, 0, loc).UnixMilli()
	}
	cases := []struct {
		name     string
		from     int64
		add      int64
		want     int64
		openFrom bool
	}{
		{"within hours", at(2026, 3, 6, 10, 0), 10 * minute, at(2026, 3, 6, 10, 10), true},
		{"across the lunch break", at(2026, 3, 6, 13, 55), 10 * minute, at(2026, 3, 6, 15, 5), true},
		{"Friday evening to Monday", at(2026, 3, 6, 17, 55), 10 * minute, at(2026, 3, 9, 9, 5), true},
		{"from the night before", at(2026, 3, 9, 2, 0), 15 * minute, at(2026, 3, 9, 9, 15), false},
		// Spain moves to summer time on 29 March 2026: local hours stay 09:00-14:00.
		{"across DST", at(2026, 3, 27, 17, 50), 20 * minute, at(2026, 3, 30, 9, 10), true},
	}
	for _, c := range cases {
		if got := madrid.addBusiness(c.from, c.add); got != c.want {
			t.Errorf("%s: got %s, want %s", c.name, time.UnixMilli(got).In(loc), time.UnixMilli(c.want).In(loc))
		}
		if madrid.open(c.from) != c.openFrom {
			t.Errorf("%s: open(%s) = %v", c.name, time.UnixMilli(c.from).In(loc), !c.openFrom)
		}
	}
}

func TestCustomerNumbersAreUniqueAndFormatted(t *testing.T) {
	seen := map[string]int32{}
	for i := int32(0); i < 50000; i++ {
		c := newCustomer(42, i)
		if prev, ok := seen[c.waID]; ok {
			t.Fatalf("customers %d and %d share %s", prev, i, c.waID)
		}
		seen[c.waID] = i
		if digits(c.phone) != c.waID || !strings.HasPrefix(c.phone, "+") {
			t.Fatalf("phone %q does not match wa_id %q", c.phone, c.waID)
		}
	}
}

func TestWamidsAreUnique(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	seen := map[string]bool{}
	for c := int32(0); c < 300; c++ {
		for seq := 1; seq < 200; seq++ {
			id := wamid(9, c, seq, "447700900123", r)
			if seen[id] || !strings.HasPrefix(id, "wamid.HBg") {
				t.Fatalf("wamid %s repeated or malformed", id)
			}
			seen[id] = true
		}
	}
}
