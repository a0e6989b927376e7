package reliability_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// metaNames are values full of SQL metacharacters: quotes, statement
// separators, comments, LIKE wildcards, backslashes and the classic
// injection. (No commas: they separate selector terms.)
var metaNames = []string{
	`x' OR 1=1 --`,
	`q"; DROP TABLE case_events; --`,
	`%`,
	`_`,
	`back\slash \' \\`,
	`a'b"c;d--e%f_g\h`,
}

// world is one data set: the same cases with plain or metacharacter names.
type world struct {
	queues, categories, workflows []string
	caseID                        func(q, i int) string
	customer                      func(i int) string
}

var plainWorld = world{
	queues:     []string{"q0", "q1", "q2", "q3", "q4", "q5"},
	categories: []string{"cat0", "cat1", "cat2", "cat3", "cat4", "cat5"},
	workflows:  []string{"wf0", "wf1", "wf2", "wf3", "wf4", "wf5"},
	caseID:     func(q, i int) string { return fmt.Sprintf("case-%d-%d", q, i) },
	customer:   func(i int) string { return fmt.Sprintf("cust-%d", i) },
}

var metaWorld = world{
	queues:     metaNames,
	categories: []string{`50% off`, `a_b`, `'quoted'`, `"dq"`, `semi;colon`, `--dash`},
	workflows:  []string{`wf' --`, `wf"x`, `w%`, `w_`, `w\`, `' OR ''='`},
	caseID: func(q, i int) string {
		return fmt.Sprintf("%s#%d-%d", []string{`c'`, `c"`, `c;`, `c--`, `c%`, `c_`, `c\`, `' OR 1=1 --`}[(q+i)%8], q, i)
	},
	customer: func(i int) string { return fmt.Sprintf(`cu' OR 1=1 --%d`, i) },
}

// writeWorld writes canonical case events and writebacks for w, and a
// configuration with a target per queue.
func writeWorld(t *testing.T, dir string, w world) (in, cfg string) {
	t.Helper()
	in = filepath.Join(dir, "in")
	if err := os.MkdirAll(in, 0o755); err != nil {
		t.Fatal(err)
	}
	var cases, wbs []string
	base := time.Date(2026, 2, 2, 8, 0, 0, 0, time.UTC)
	line := func(m map[string]any) string {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for q := range w.queues {
		for i := 0; i < 40; i++ {
			id := w.caseID(q, i)
			at := base.Add(time.Duration(q*40+i) * 97 * time.Minute)
			ev := func(event string, d time.Duration, extra map[string]any) {
				m := map[string]any{"case_id": id, "customer_id": w.customer(q*40 + i), "event": event,
					"ts": at.Add(d).Format(time.RFC3339), "queue": w.queues[q], "category": w.categories[q], "workflow": w.workflows[q]}
				for k, v := range extra {
					m[k] = v
				}
				cases = append(cases, line(m))
			}
			ev("opened", 0, nil)
			if i%3 == 0 {
				ev("handover", time.Duration(5+i)*time.Minute, map[string]any{"reason": w.categories[(q+1)%len(w.categories)]})
			}
			if i%2 == 0 {
				ev("completed", time.Duration(20+i)*time.Minute, nil)
			}
			if i%5 != 4 {
				ev("resolved", time.Duration(30+q*7+i)*time.Minute, map[string]any{"closure_tag": w.categories[q]})
			}
			if i%7 == 0 {
				ev("reopened", time.Duration(300+i)*time.Minute, nil)
			}
			if i%2 == 0 {
				wbs = append(wbs, line(map[string]any{"writeback_id": id + "/wb", "case_id": id, "workflow": w.workflows[q],
					"target_system": w.queues[q], "action": "update", "attempt": 1, "status": []string{"success", "failed"}[i%4/3],
					"manual": i%6 == 0, "ts": at.Add(45 * time.Minute).Format(time.RFC3339)}))
			}
		}
	}
	for name, ls := range map[string][]string{"cases.jsonl": cases, "writebacks.jsonl": wbs} {
		if err := os.WriteFile(filepath.Join(in, name), []byte(strings.Join(ls, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var y strings.Builder
	y.WriteString("report:\n  timezone: UTC\nqueues:\n")
	for q, name := range w.queues {
		fmt.Fprintf(&y, "  %s:\n    sla_target: %dm\n    pickup_target: %dm\n", strconv.Quote(name), 20+q*10, 5+q)
	}
	cfg = filepath.Join(dir, "closedloop.yaml")
	if err := os.WriteFile(cfg, []byte(y.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return in, cfg
}

// renamer maps each metacharacter name (exactly) to its plain twin.
func renamer() map[string]string {
	m := map[string]string{}
	for q := range metaWorld.queues {
		for i := 0; i < 40; i++ {
			m[metaWorld.caseID(q, i)] = plainWorld.caseID(q, i)
		}
	}
	for _, l := range [][2][]string{{metaWorld.queues, plainWorld.queues}, {metaWorld.categories, plainWorld.categories},
		{metaWorld.workflows, plainWorld.workflows}} {
		for i := range l[0] {
			m[l[0][i]] = l[1][i]
		}
	}
	return m
}

// kpiFigures runs kpi --format json and returns the figures, with the
// metacharacter names translated when rn is set, as comparable values.
func kpiFigures(t *testing.T, db, cfg string, rn map[string]string, extra ...string) []map[string]any {
	t.Helper()
	args := append([]string{"--config", cfg, "kpi", "--db", db, "--from", "2026-02-01", "--to", "2026-03-01", "--format", "json"}, extra...)
	r := cli(t, args...)
	if r.code != 0 {
		t.Fatalf("kpi %v: %s", extra, r)
	}
	var doc struct {
		KPIs []map[string]any `json:"kpis"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("kpi json: %v", err)
	}
	for _, f := range doc.KPIs {
		delete(f, "definition")
		if rn != nil {
			translate(f, rn)
		}
		for _, k := range []string{"numerator_cases", "denominator_cases", "breakdown"} {
			if l, ok := f[k].([]any); ok {
				sort.Slice(l, func(i, j int) bool { return fmt.Sprint(l[i]) < fmt.Sprint(l[j]) })
			}
		}
	}
	sort.Slice(doc.KPIs, func(i, j int) bool {
		return fmt.Sprint(doc.KPIs[i]["kpi"], doc.KPIs[i]["group"]) < fmt.Sprint(doc.KPIs[j]["kpi"], doc.KPIs[j]["group"])
	})
	return doc.KPIs
}

// translate renames, in a figure or a comparison, the values that carry
// names: group, breakdown keys and case lists.
func translate(v any, rn map[string]string) {
	name := func(x any) any {
		if s, ok := x.(string); ok {
			if p, ok := rn[s]; ok {
				return p
			}
		}
		return x
	}
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			switch k {
			case "group", "key":
				x[k] = name(c)
			case "numerator_cases", "denominator_cases":
				if l, ok := c.([]any); ok {
					for i := range l {
						l[i] = name(l[i])
					}
				}
			default:
				translate(c, rn)
			}
		}
	case []any:
		for _, c := range x {
			translate(c, rn)
		}
	}
}

// explainLines renames the case ids listed by kpi --explain.
func explainLines(s string, rn map[string]string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if p, ok := rn[strings.TrimPrefix(l, "  ")]; ok && strings.HasPrefix(l, "  ") {
			lines[i] = "  " + p
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// TestSQLMetacharactersInValues builds the same operation twice, once with
// plain names and once with SQL metacharacters in every user-supplied
// value (queue, category, workflow, case and customer ids, configuration
// keys, compare selectors), and checks that every figure, drill-down and
// cohort comes out the same: values are bound as parameters, never
// spliced into SQL (a LIKE would make "%" match every queue).
func TestSQLMetacharactersInValues(t *testing.T) {
	binary(t)
	rn := renamer()
	var dbs, cfgs [2]string
	for i, w := range []world{plainWorld, metaWorld} {
		dir := filepath.Join(t.TempDir(), strconv.Itoa(i))
		in, cfg := writeWorld(t, dir, w)
		dbs[i], cfgs[i] = filepath.Join(dir, "s.duckdb"), cfg
		if r := cli(t, "--config", cfg, "ingest", "--db", dbs[i], in); r.code != 0 {
			t.Fatalf("ingest: %s", r)
		}
	}
	checked := 0
	for _, by := range []string{"", "queue", "category", "workflow"} {
		var extra []string
		if by != "" {
			extra = []string{"--by", by}
		}
		plain := kpiFigures(t, dbs[0], cfgs[0], nil, extra...)
		meta := kpiFigures(t, dbs[1], cfgs[1], rn, extra...)
		if len(plain) == 0 {
			t.Fatalf("no figures --by %q", by)
		}
		if !reflect.DeepEqual(plain, meta) {
			for i := range plain {
				if i < len(meta) && !reflect.DeepEqual(plain[i], meta[i]) {
					t.Errorf("--by %q: figure differs:\n plain: %v\n meta:  %v", by, plain[i], meta[i])
					break
				}
			}
			t.Errorf("--by %q: %d figures plain, %d with metacharacters", by, len(plain), len(meta))
		}
		checked += len(plain)
	}

	// Drill-down lists the metacharacter case ids verbatim.
	ex := cli(t, "--config", cfgs[1], "kpi", "--db", dbs[1], "--from", "2026-02-01", "--to", "2026-03-01", "--explain", "exception_rate")
	exPlain := cli(t, "--config", cfgs[0], "kpi", "--db", dbs[0], "--from", "2026-02-01", "--to", "2026-03-01", "--explain", "exception_rate")
	if ex.code != 0 || exPlain.code != 0 {
		t.Fatalf("kpi --explain: %s\n%s", ex, exPlain)
	}
	if got, want := explainLines(ex.stdout, rn), explainLines(exPlain.stdout, nil); got != want {
		t.Errorf("--explain differs:\n%s\nvs plain:\n%s", got, want)
	}
	if !strings.Contains(ex.stdout, metaWorld.caseID(0, 0)) {
		t.Errorf("--explain does not list %q:\n%s", metaWorld.caseID(0, 0), ex.stdout)
	}

	// Cohorts selected by metacharacter names are the same cohorts.
	cohorts := 0
	for _, pair := range [][2]int{{0, 2}, {2, 3}, {1, 4}, {5, 0}} {
		cmp := func(i int, w world) map[string]any {
			r := cli(t, "--config", cfgs[i], "compare", "--db", dbs[i], "--from", "2026-02-01", "--to", "2026-03-01", "--format", "json",
				"--pilot", "queue="+w.queues[pair[0]], "--baseline", "queue="+w.queues[pair[1]]+",workflow="+w.workflows[pair[1]])
			if r.code != 0 {
				t.Fatalf("compare %q vs %q: %s", w.queues[pair[0]], w.queues[pair[1]], r)
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
				t.Fatal(err)
			}
			if i == 1 {
				translate(m, rn)
			}
			for _, k := range []string{"pilot", "baseline"} {
				delete(m, k) // the selectors as written
			}
			return m
		}
		plain, meta := cmp(0, plainWorld), cmp(1, metaWorld)
		if !reflect.DeepEqual(plain, meta) {
			t.Errorf("compare queue=%q vs queue=%q differs from the plain names:\n plain: %v\n meta:  %v",
				metaWorld.queues[pair[0]], metaWorld.queues[pair[1]], plain, meta)
		}
		if n, _ := meta["pilot_cases"].(float64); n != 40 {
			t.Errorf("pilot queue=%q selected %v cases, want 40", metaWorld.queues[pair[0]], meta["pilot_cases"])
		}
		cohorts++
	}
	t.Logf("FIGURES sql: %d figures and %d cohort comparisons identical with metacharacters in queue, category, workflow, case and customer ids, config keys and selectors", checked, cohorts)
}
