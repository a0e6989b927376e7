package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

const examplePath = "../closedloop.example.yaml"

func TestExampleLoads(t *testing.T) {
	c, err := Load(examplePath)
	if err != nil {
		t.Fatalf("the example must be valid:\n%v", err)
	}
	if c.Path != examplePath {
		t.Errorf("Path = %q", c.Path)
	}
	if got := c.SLATarget("payments"); got != 10*time.Minute {
		t.Errorf("SLATarget(payments) = %v", got)
	}
	if got := c.PickupTarget("night_line"); got != DefaultPickupTarget {
		t.Errorf("PickupTarget(night_line) = %v", got)
	}
	uk := c.Calendars["uk_office"]
	if len(uk) != 2 || uk[1].ValidFrom != (Date{2026, 1, 1}) || len(uk[1].Hours["mon"]) != 2 {
		t.Errorf("calendars.uk_office = %+v", uk)
	}
	if ex := uk[1].Exceptions; len(ex) != 2 || ex[1].Hours == nil || len(ex[1].Hours) != 0 {
		t.Errorf("an empty exception list must decode as closed (empty, not nil): %+v", ex)
	}
	if r, ok := c.Pricing.WhatsAppRate("utility", "gb"); !ok || r != 0.021 {
		t.Errorf("WhatsAppRate(utility, gb) = %v, %v", r, ok)
	}
	if r, ok := c.Pricing.WhatsAppRate("utility", "US"); !ok || r != 0.025 {
		t.Errorf("WhatsAppRate(utility, US) should fall back to default: %v, %v", r, ok)
	}
	if _, ok := c.Pricing.WhatsAppRate("service", "GB"); ok {
		t.Errorf("WhatsAppRate(service) should be unset")
	}
	if time.Duration(c.Retention.MaxAge) != 9600*time.Hour {
		t.Errorf("retention.max_age = %v", c.Retention.MaxAge)
	}
	if !c.Evidence.MayReveal(RoleAdmin) || c.Evidence.MayReveal(RoleViewer) {
		t.Errorf("reveal_roles = %v", c.Evidence.RevealRoles)
	}
	if c.Gates.Refuses(GateSilentSource) || !c.Gates.Refuses(GateRateRange) {
		t.Errorf("gates.warn_only = %v", c.Gates.WarnOnly)
	}
	if c.FreshnessLimit("meta") != 2*time.Hour || c.FreshnessLimit("audit") != DefaultFreshness {
		t.Errorf("freshness = %v", c.Freshness)
	}
	if !c.IsRegistered("106540352242903") || c.IsRegistered("447700900123") {
		t.Errorf("registered_numbers = %v", c.RegisteredNumbers)
	}
	if len(c.Serve.Tokens) != 3 || c.Serve.Tokens[2].Role != RoleAnalyst {
		t.Errorf("serve.tokens = %+v", c.Serve.Tokens)
	}
	for _, s := range []string{c.Schedules.Transform, c.Schedules.Collect, c.Schedules.WeeklyPack} {
		if _, err := ParseSchedule(s); err != nil {
			t.Errorf("schedule %q: %v", s, err)
		}
	}
}

// TestExampleCoversEveryKey fails when a key of Config is not shown in
// closedloop.example.yaml, so the example stays the complete reference.
func TestExampleCoversEveryKey(t *testing.T) {
	b, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		t.Fatal(err)
	}
	shown := map[string]bool{}
	shapeOfNode(root.Content[0], "", shown)
	var missing []string
	for _, k := range keysOfType(reflect.TypeOf(Config{}), "") {
		if !shown[k] {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		t.Errorf("closedloop.example.yaml does not show: %s", strings.Join(missing, ", "))
	}
}

// keysOfType lists the key paths a type accepts; map keys are "*" and list
// items "[]".
func keysOfType(t reflect.Type, path string) []string {
	var out []string
	switch t.Kind() {
	case reflect.Struct:
		if _, custom := reflect.New(t).Interface().(yaml.Unmarshaler); custom {
			return nil
		}
		info := newDecoder().structInfo(t)
		for _, name := range info.names {
			p := join(path, name)
			out = append(out, p)
			out = append(out, keysOfType(t.FieldByIndex(info.byName[name]).Type, p)...)
		}
	case reflect.Map:
		out = append(out, keysOfType(t.Elem(), join(path, "*"))...)
	case reflect.Slice:
		out = append(out, keysOfType(t.Elem(), path+"[]")...)
	}
	return out
}

func shapeOfNode(n *yaml.Node, path string, shown map[string]bool) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			shown[join(path, k)] = true
			shapeOfNode(n.Content[i+1], join(path, k), shown)
			shown[join(path, "*")] = true
			shapeOfNode(n.Content[i+1], join(path, "*"), shown)
		}
	case yaml.SequenceNode:
		for _, item := range n.Content {
			shapeOfNode(item, path+"[]", shown)
		}
	}
}

func TestDefault(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults must be valid: %v", err)
	}
	checks := []struct{ name, got, want string }{
		{"report.timezone", c.Report.Timezone, "UTC"},
		{"pii.key_env", c.PII.KeyEnv, "CLOSEDLOOP_PII_KEY"},
		{"evidence.signing_key_file", c.Evidence.SigningKeyFile, DefaultSigningKeyFile},
		{"evidence.reveal_roles", strings.Join(c.Evidence.RevealRoles, ","), RoleCompliance},
		{"pricing.currency", c.Pricing.Currency, "EUR"},
		{"serve.addr", c.Serve.Addr, "127.0.0.1:8080"},
		{"serve.meta_verify_token_env", c.Serve.MetaVerifyTokenEnv, "CLOSEDLOOP_META_VERIFY_TOKEN"},
		{"serve.meta_app_secret_env", c.Serve.MetaAppSecretEnv, "CLOSEDLOOP_META_APP_SECRET"},
		{"serve.chatwoot_token_env", c.Serve.ChatwootTokenEnv, "CLOSEDLOOP_CHATWOOT_TOKEN"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %q, want %q", ch.name, ch.got, ch.want)
		}
	}
	if c.SLATarget("any") != 15*time.Minute || c.PickupTarget("any") != 30*time.Minute {
		t.Errorf("default targets wrong")
	}
	if c.Retention.MaxAge != 0 || len(c.Gates.WarnOnly) != 0 || c.Gates.Refuses("anything") != true {
		t.Errorf("retention/gates defaults wrong: %+v %+v", c.Retention, c.Gates)
	}
}

func TestParseEmptyAndPartial(t *testing.T) {
	for _, text := range []string{"", "# only a comment\n", "~\n", "report:\n"} {
		c, err := Parse([]byte(text))
		if err != nil {
			t.Fatalf("Parse(%q): %v", text, err)
		}
		if !reflect.DeepEqual(c, Default()) {
			t.Errorf("Parse(%q) = %+v, want defaults", text, c)
		}
	}
	c, err := Parse([]byte("evidence:\n  reveal_roles: []\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Evidence.RevealRoles == nil || c.Evidence.MayReveal(RoleCompliance) {
		t.Errorf("an explicit empty reveal_roles must mean nobody, got %v", c.Evidence.RevealRoles)
	}
}

// TestAnchorsAndMerge checks YAML anchors and merge keys, handy for
// calendars that share hours; explicit keys win over merged ones.
func TestAnchorsAndMerge(t *testing.T) {
	text := `
calendars:
  uk:
    - &base
      valid_from: 2026-01-01
      timezone: Europe/London
      hours: &week
        mon: ["09:00-17:00"]
        tue: ["09:00-17:00"]
    - <<: *base
      valid_from: 2026-06-01
      hours:
        <<: *week
        mon: ["10:00-16:00"]
`
	c, err := Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	v := c.Calendars["uk"][1]
	if v.Timezone != "Europe/London" || v.ValidFrom != (Date{2026, 6, 1}) {
		t.Errorf("merged version = %+v", v)
	}
	if got := v.Hours["mon"][0] + " " + v.Hours["tue"][0]; got != "10:00-16:00 09:00-17:00" {
		t.Errorf("merged hours = %v", v.Hours)
	}
}

func TestParseSelector(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{"workflow=promise_to_pay", "workflow=promise_to_pay", ""},
		{" queue = collections , since=2026-03-01 ", "queue=collections,since=2026-03-01", ""},
		{"category=arrears,before=2026-03-01", "category=arrears,before=2026-03-01", ""},
		{"", "", "empty selector"},
		{"workflow", "", "is not key=value"},
		{"workflow=", "", "is not key=value"},
		{"team=a", "", `unknown selector key "team"`},
		{"since=yesterday", "", "is not a date"},
		{"queue=a,queue=b", "", "queue is given twice"},
	}
	for _, tt := range tests {
		s, err := ParseSelector(tt.in)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("ParseSelector(%q) error = %v, want %q", tt.in, err, tt.err)
		case tt.err == "" && (err != nil || s.String() != tt.want):
			t.Errorf("ParseSelector(%q) = %q, %v; want %q", tt.in, s, err, tt.want)
		}
	}
}

func TestWeekdayKey(t *testing.T) {
	var got []string
	for d := time.Sunday; d <= time.Saturday; d++ {
		got = append(got, WeekdayKey(d))
	}
	if strings.Join(got, ",") != "sun,mon,tue,wed,thu,fri,sat" {
		t.Errorf("WeekdayKey = %v", got)
	}
}

func TestEditDistanceHints(t *testing.T) {
	info := newDecoder().structInfo(reflect.TypeOf(Queue{}))
	if h := info.hint("pickup"); h != "; valid keys: calendar, pickup_target, sla_target" {
		t.Errorf("hint(pickup) = %q", h)
	}
	if h := info.hint("calender"); h != "; did you mean calendar?" {
		t.Errorf("hint(calender) = %q", h)
	}
}

func TestDiagnoseDefaultsAndValidation(t *testing.T) {
	d := Default().Diagnose
	if d.Days != 30 || d.MinRoutineShare != 0.15 || d.PathCoverage != 0.8 || d.MaxOutcomePaths != 4 ||
		d.IdentitySteps() != 2 || d.ScaleGateMinWins != 3 {
		t.Errorf("diagnose defaults: %+v (identity %d)", d, d.IdentitySteps())
	}
	// max_identity_steps: 0 is a choice, not "unset".
	c, err := Parse([]byte("diagnose:\n  max_identity_steps: 0\n  scale_gate_min_wins: 2\n"))
	if err != nil || c.Diagnose.IdentitySteps() != 0 || c.Diagnose.ScaleGateMinWins != 2 {
		t.Fatalf("explicit zero identity steps: %+v %v", c, err)
	}
	_, err = Parse([]byte("diagnose:\n  min_routine_share: 15\n  scale_gate_min_wins: 6\n  max_identity_steps: -1\n"))
	for _, want := range []string{"diagnose.min_routine_share: must be a share between 0 and 1 (e.g. 0.15 for 15%)",
		"diagnose.scale_gate_min_wins: must be between 1 and 5", "diagnose.max_identity_steps: must be 0 or more"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in %v", want, err)
		}
	}
}
