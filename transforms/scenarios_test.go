package transforms_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
	"golang.org/x/tools/txtar"

	"github.com/closedloop/closedloop/calendar"
	"github.com/closedloop/closedloop/config"
	"github.com/closedloop/closedloop/ingest"
	_ "github.com/closedloop/closedloop/ingest/canonical"
	"github.com/closedloop/closedloop/ingest/ingesttest"
	"github.com/closedloop/closedloop/models"
	"github.com/closedloop/closedloop/store"
	"github.com/closedloop/closedloop/store/duckdb"
	"github.com/closedloop/closedloop/transforms"
)

// TestScenarios runs every testdata/<kpi>/<scenario>.txtar (format in
// testdata/README.md): it loads the scenario's events into a fresh DuckDB
// store, builds the facts as of the cutoff and compares the KPIs named under
// expect with their hand-computed values. There is deliberately no -update:
// expectations come from SPEC §3, never from the code under test.
func TestScenarios(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no scenarios under testdata/<kpi>/*.txtar")
	}
	sort.Strings(files)
	for _, file := range files {
		name := strings.TrimSuffix(filepath.ToSlash(file), ".txtar")
		name = strings.TrimPrefix(name, "testdata/")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			runScenario(t, file)
		})
	}
}

// scenario is the scenario.yaml section of a txtar file.
type scenario struct {
	Description string                 `yaml:"description"`
	From        string                 `yaml:"from"`
	To          string                 `yaml:"to"`
	Cutoff      string                 `yaml:"cutoff"`
	Config      string                 `yaml:"config"`
	Expect      map[string]expectation `yaml:"expect"`
	// Funnel and Findings check transforms.Funnel and
	// transforms.ComputeGovernance (funnel_scenarios_test.go).
	Funnel   *funnelExpect   `yaml:"funnel"`
	Findings *findingsExpect `yaml:"findings"`

	from, to, cutoff time.Time
}

// expectation is one KPI's expected figure; absent fields are not checked.
type expectation struct {
	Numerator        *int64            `yaml:"numerator"`
	Denominator      *int64            `yaml:"denominator"`
	Breakdown        *map[string]int64 `yaml:"breakdown"`
	NumeratorCases   *[]string         `yaml:"numerator_cases"`
	DenominatorCases *[]string         `yaml:"denominator_cases"`
	Immature         *bool             `yaml:"immature"`

	// Value is checked when given (valueNull: it must be null); a rate
	// without an explicit value is checked as numerator/denominator.
	Value     *float64 `yaml:"-"`
	valueSet  bool
	valueNull bool
}

var expectationKeys = map[string]bool{"numerator": true, "denominator": true, "value": true,
	"breakdown": true, "numerator_cases": true, "denominator_cases": true, "immature": true}

// UnmarshalYAML decodes an expectation strictly and tells an explicit
// `value: null` from an absent value.
func (e *expectation) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: an expectation is a mapping like {numerator: 1, denominator: 2}", n.Line)
	}
	if len(n.Content) == 0 {
		return fmt.Errorf("line %d: empty expectation checks nothing", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !expectationKeys[k.Value] {
			return fmt.Errorf("line %d: unknown expectation field %q", k.Line, k.Value)
		}
		if k.Value == "value" {
			e.valueSet = true
			if v.ShortTag() == "!!null" {
				e.valueNull = true
				continue
			}
			var f float64
			if err := v.Decode(&f); err != nil {
				return fmt.Errorf("line %d: value: %w", v.Line, err)
			}
			e.Value = &f
		}
	}
	type plain expectation
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	p.Value, p.valueSet, p.valueNull = e.Value, e.valueSet, e.valueNull
	*e = expectation(p)
	return nil
}

func parseScenario(b []byte) (*scenario, error) {
	var s scenario
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return nil, err
	}
	var err error
	for _, f := range []struct {
		name string
		in   string
		out  *time.Time
	}{{"from", s.From, &s.from}, {"to", s.To, &s.to}, {"cutoff", s.Cutoff, &s.cutoff}} {
		if *f.out, err = time.Parse(time.RFC3339, f.in); err != nil {
			return nil, fmt.Errorf("%s: %q is not RFC 3339", f.name, f.in)
		}
	}
	if !s.from.Before(s.to) {
		return nil, fmt.Errorf("from %s is not before to %s", s.From, s.To)
	}
	if strings.TrimSpace(s.Description) == "" {
		return nil, errors.New("description is required (say why the numbers are what they are)")
	}
	if len(s.Expect) == 0 && s.Funnel == nil && s.Findings == nil {
		return nil, errors.New("expect is empty")
	}
	return &s, nil
}

func runScenario(t *testing.T, file string) {
	ctx := context.Background()
	ar, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	sections := map[string][]byte{}
	for _, f := range ar.Files {
		switch f.Name {
		case "scenario.yaml", "events.jsonl", "statuses.jsonl":
		default:
			t.Fatalf("%s: unknown section %q (want scenario.yaml, events.jsonl, statuses.jsonl)", file, f.Name)
		}
		sections[f.Name] = f.Data
	}
	sc, err := parseScenario(sections["scenario.yaml"])
	if err != nil {
		t.Fatalf("%s: scenario.yaml: %v", file, err)
	}
	cal, err := calendarsFor(sc.Config)
	if err != nil {
		t.Fatalf("%s: config: %v", file, err)
	}

	recs := decodeEvents(t, file, sections["events.jsonl"])
	recs = append(recs, decodeStatuses(t, file, sections["statuses.jsonl"])...)

	st, err := duckdb.Open(ctx, filepath.Join(t.TempDir(), "scenario.duckdb"), store.Options{})
	if err != nil {
		t.Fatalf("%s: opening store: %v", file, err)
	}
	defer st.Close()
	if len(recs) > 0 {
		if _, err := st.Load(ctx, recs); err != nil {
			t.Fatalf("%s: loading events: %v", file, err)
		}
	}
	if _, err := transforms.Run(ctx, st, cal, sc.cutoff); err != nil {
		t.Fatalf("%s: building facts: %v", file, err)
	}
	var only []string
	for k := range sc.Expect {
		only = append(only, k)
	}
	figs, err := transforms.Compute(ctx, st, transforms.Request{From: sc.from, To: sc.to, Cutoff: sc.cutoff,
		Loc: time.UTC, Only: only})
	if err != nil {
		t.Fatalf("%s: computing KPIs: %v", file, err)
	}
	got := map[string]transforms.Figure{}
	for _, f := range figs {
		got[f.KPI] = f
	}
	sort.Strings(only)
	checkFunnel(t, file, st, sc, cal)
	checkFindings(t, file, st, sc, cal)
	for _, kpi := range only {
		f, ok := got[kpi]
		if !ok {
			t.Errorf("%s: %s: no such KPI (known: %s)", file, kpi, strings.Join(figureNames(figs), ", "))
			continue
		}
		for _, m := range compare(sc.Expect[kpi], f) {
			t.Errorf("%s: %s: %s", file, kpi, m)
		}
	}
}

func figureNames(figs []transforms.Figure) []string {
	var out []string
	for _, f := range figs {
		out = append(out, f.KPI)
	}
	return out
}

// compare lists every difference between an expectation and a figure.
func compare(e expectation, f transforms.Figure) []string {
	var out []string
	miss := func(field string, want, got any) {
		out = append(out, fmt.Sprintf("%s: expected %v, got %v", field, want, got))
	}
	if e.Numerator != nil && *e.Numerator != f.Numerator {
		miss("numerator", *e.Numerator, f.Numerator)
	}
	if e.Denominator != nil {
		if f.Denominator == nil {
			miss("denominator", *e.Denominator, "none (a count has no denominator)")
		} else if *e.Denominator != *f.Denominator {
			miss("denominator", *e.Denominator, *f.Denominator)
		}
	}
	// The value: explicit, or numerator/denominator for a rate.
	var want *float64
	check := false
	switch {
	case e.valueSet:
		check, want = true, e.Value
	case f.Kind == transforms.KindRate && e.Numerator != nil && e.Denominator != nil:
		check = true
		if *e.Denominator != 0 {
			v := float64(*e.Numerator) / float64(*e.Denominator)
			want = &v
		}
	case f.Kind == transforms.KindCount && e.Numerator != nil:
		check = true
		v := float64(*e.Numerator)
		want = &v
	}
	if check {
		switch {
		case want == nil && f.Value != nil:
			miss("value", "null", *f.Value)
		case want != nil && f.Value == nil:
			miss("value", *want, "null")
		case want != nil && math.Abs(*want-*f.Value) > 1e-9:
			miss("value", *want, *f.Value)
		}
	}
	if e.Breakdown != nil {
		gotB := map[string]int64{}
		for _, c := range f.Breakdown {
			gotB[c.Key] = c.Count
		}
		if !equalCounts(*e.Breakdown, gotB) {
			miss("breakdown", fmtCounts(*e.Breakdown), fmtCounts(gotB))
		}
	}
	if e.NumeratorCases != nil && !equalSets(*e.NumeratorCases, f.NumeratorCases) {
		miss("numerator_cases", sorted(*e.NumeratorCases), sorted(f.NumeratorCases))
	}
	if e.DenominatorCases != nil && !equalSets(*e.DenominatorCases, f.DenominatorCases) {
		miss("denominator_cases", sorted(*e.DenominatorCases), sorted(f.DenominatorCases))
	}
	if e.Immature != nil && *e.Immature != f.Immature {
		miss("immature", *e.Immature, f.Immature)
	}
	return out
}

func equalCounts(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func fmtCounts(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%q: %d", k, m[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func sorted(s []string) []string {
	out := append([]string{}, s...)
	sort.Strings(out)
	return out
}

func equalSets(a, b []string) bool {
	x, y := sorted(a), sorted(b)
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if x[i] != y[i] {
			return false
		}
	}
	return true
}

// eachLine calls fn for every non-blank line that is not a # comment.
func eachLine(data []byte, fn func(n int, line []byte)) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		fn(n, append([]byte(nil), line...))
	}
}

// decodeEvents reads events.jsonl with the canonical collector, exactly as
// `closedloop ingest --source auto` would; any rejected line fails the test
// so a typo cannot silently drop an event.
func decodeEvents(t *testing.T, file string, data []byte) []models.Record {
	t.Helper()
	col, ok := ingest.Lookup("canonical")
	if !ok {
		t.Fatal(`collector "canonical" is not registered`)
	}
	env := ingesttest.Env(t)
	var recs []models.Record
	eachLine(data, func(n int, line []byte) {
		d := ingest.Doc{Raw: line, Format: ingest.FormatJSON, Ref: "events.jsonl:" + strconv.Itoa(n)}
		err := col.Decode(env, d, func(r models.Record) {
			b := r.Base()
			b.Source = col.Name()
			if b.SourceRef == "" {
				b.SourceRef = d.Ref
			}
			b.IngestedAt = env.Now
			recs = append(recs, r)
		})
		if err != nil {
			t.Fatalf("%s: %s: %v", file, d.Ref, err)
		}
	})
	return recs
}

// statusLine is one line of statuses.jsonl.
type statusLine struct {
	MessageID  string `json:"message_id"`
	Status     string `json:"status"`
	TS         string `json:"ts"`
	ErrorCode  string `json:"error_code"`
	ErrorTitle string `json:"error_title"`
	// Optional: the channel (default whatsapp) and Meta's pricing.
	Channel         string `json:"channel"`
	PricingCategory string `json:"pricing_category"`
	Billable        *bool  `json:"billable"`
}

// decodeStatuses builds Meta-style delivery statuses. Every line is its own
// stored event (its event_id is its line), so repeated statuses reach the
// transforms the way re-sent webhooks do.
func decodeStatuses(t *testing.T, file string, data []byte) []models.Record {
	t.Helper()
	var recs []models.Record
	eachLine(data, func(n int, line []byte) {
		ref := "statuses.jsonl:" + strconv.Itoa(n)
		var s statusLine
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			t.Fatalf("%s: %s: %v", file, ref, err)
		}
		switch s.Status {
		case "sent", "delivered", "read", "failed":
		default:
			t.Fatalf("%s: %s: status %q is not sent, delivered, read or failed", file, ref, s.Status)
		}
		if s.MessageID == "" {
			t.Fatalf("%s: %s: message_id is required", file, ref)
		}
		ts, err := time.Parse(time.RFC3339, s.TS)
		if err != nil {
			t.Fatalf("%s: %s: ts %q is not RFC 3339", file, ref, s.TS)
		}
		channel := s.Channel
		if channel == "" {
			channel = "whatsapp"
		}
		r := &models.MessageStatus{MessageID: s.MessageID, Status: s.Status, TS: ts,
			ErrorCode: s.ErrorCode, ErrorTitle: s.ErrorTitle, Channel: channel,
			PricingCategory: s.PricingCategory, Billable: s.Billable}
		r.EventID = models.HashID("scenario-status", ref)
		r.Source = "meta"
		r.SourceRef = ref
		r.IngestedAt = ingesttest.FixedNow
		recs = append(recs, r)
	})
	return recs
}

// errNoCalendarPackage was returned while package calendar did not exist;
// calendarsFor no longer returns it. Kept so callers that still test for it
// (clickhouse_conformance_test.go) build.
var errNoCalendarPackage = errors.New("business calendars are not available")

// calendarsFor adapts a scenario's config to transforms.Calendars: business
// time from the queue's calendar (calendar.NewSet; queues without one are
// open 24×7, SPEC §4) and the queue's sla_target (default 15 minutes).
// Without config every queue is open 24×7 with the default target.
func calendarsFor(yml string) (transforms.Calendars, error) {
	if strings.TrimSpace(yml) == "" {
		return transforms.AlwaysOpen{Target: config.DefaultSLATarget}, nil
	}
	cfg, err := config.Parse([]byte(yml))
	if err != nil {
		return nil, err
	}
	set, err := calendar.NewSet(cfg)
	if err != nil {
		return nil, err
	}
	return queueCalendars{cfg: cfg, set: set}, nil
}

// queueCalendars answers per queue from the configuration.
type queueCalendars struct {
	cfg *config.Config
	set *calendar.Set
}

func (q queueCalendars) BusinessTime(queue string, from, to time.Time) time.Duration {
	return q.set.For(queue).BusinessTime(from, to)
}

func (q queueCalendars) SLATarget(queue string) time.Duration { return q.cfg.SLATarget(queue) }

// FallbackWait implements transforms.FunnelSettings (config funnel.fallback_wait).
func (q queueCalendars) FallbackWait() time.Duration { return time.Duration(q.cfg.Funnel.FallbackWait) }
