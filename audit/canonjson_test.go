package audit

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestCanonicalJSON(t *testing.T) {
	cases := []struct{ in, want string }{
		{`{"b":1,"a":[true,false,null],"c":{"z":"x","y":1.50}}`, `{"a":[true,false,null],"b":1,"c":{"y":1.50,"z":"x"}}`},
		{` { "k" : "a<b>&c" } `, `{"k":"a<b>&c"}`},
		{`"tab\tnl\ncr\rbs\bff\fnul\u0000us\u001fdel\u007f"`, `"tab\tnl\ncr\rbs\bff\fnul\u0000us\u001fdel` + "\x7f" + `"`},
		{`"quote\" back\\ slash\/ é \u2028 😀"`, `"quote\" back\\ slash/ é ` + "\u2028" + ` 😀"`},
		{`{"é":1,"e":2,"z":3,"Z":4}`, `{"Z":4,"e":2,"z":3,"é":1}`},
		{`[]`, `[]`}, {`{}`, `{}`}, {`-0.0e+10`, `-0.0e+10`},
	}
	for _, c := range cases {
		got, err := CanonicalizeJSONText([]byte(c.in))
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if string(got) != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.in, got, c.want)
		}
	}
	if _, err := CanonicalizeJSONText([]byte(`{"a":1} x`)); err == nil {
		t.Error("trailing data accepted")
	}
}

// The README tells reviewers to use Python's json.dumps; check that it
// gives the same bytes on awkward strings.
func TestCanonicalJSONMatchesPython(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not installed")
	}
	obj := map[string]any{"ctl": "a\x01b\x1f\t\n\r\b\f", "uni": "é ü \u2028 \u00a0 😀 \x7f", "q": `"\`, "null": nil, "html": "<a&b>", "ü": "k"}
	ours, err := CanonicalJSON(obj)
	if err != nil {
		t.Fatal(err)
	}
	// Pass the value through Python via stdin as canonical JSON and have
	// Python re-serialise it.
	cmd := exec.Command("python3", "-c", `import sys, json; sys.stdout.buffer.write(json.dumps(json.loads(sys.stdin.buffer.read().decode("utf-8")), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))`)
	cmd.Stdin = strings.NewReader(string(ours))
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != string(ours) {
		t.Fatalf("python differs:\n go %s\npy %s", ours, out)
	}
}

func TestFormatTime(t *testing.T) {
	tm := time.Date(2026, 3, 2, 7, 5, 9, 123456789, time.FixedZone("x", 3600))
	if got := FormatTime(tm); got != "2026-03-02T06:05:09.123Z" {
		t.Fatal(got)
	}
	if got := FormatTime(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)); got != "2026-03-02T00:00:00.000Z" {
		t.Fatal(got)
	}
}

func TestRowJSONAndRender(t *testing.T) {
	cells := []string{"e1", RenderValue(nil), RenderValue(true), RenderValue(int32(3)), RenderValue("a,b\r\n\"c\""), RenderValue(time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC))}
	header := []string{"event_id", "case_id", "manual", "attempt", "error", "ts"}
	j, err := RowJSON(header, cells)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"attempt":"3","case_id":null,"error":"a,b\n\"c\"","event_id":"e1","manual":"true","ts":"2026-01-02T03:04:05.006Z"}`
	if string(j) != want {
		t.Fatalf("got  %s\nwant %s", j, want)
	}
	// CSV round trip keeps the cells.
	w := newCSVWriter()
	w.write(header)
	w.write(cells)
	b, _ := w.bytes()
	h2, rows, err := readCSV(b)
	if err != nil || len(rows) != 1 || strings.Join(h2, ",") != strings.Join(header, ",") {
		t.Fatalf("%v %v", rows, err)
	}
	for i := range cells {
		if rows[0].Cells[i] != cells[i] {
			t.Errorf("cell %d: %q -> %q", i, cells[i], rows[0].Cells[i])
		}
	}
}
