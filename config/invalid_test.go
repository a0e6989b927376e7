package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// loadText writes text to closedloop.yaml in a fresh working directory and
// loads it by its relative name, so messages start with "closedloop.yaml: ".
func loadText(t *testing.T, text string) (*Config, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "closedloop.yaml"), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	return Load("closedloop.yaml")
}

func TestInvalidConfigs(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // each must be one line of the error, in order
	}{
		{"unknown nested key", "queues:\n  support:\n    sla_targt: 15m\n",
			[]string{"closedloop.yaml: queues.support.sla_targt: unknown key; did you mean sla_target? (line 3)"}},
		{"unknown section lists valid keys", "exporters:\n  x: 1\n",
			[]string{"closedloop.yaml: exporters: unknown key; valid keys: calendars, collectors, diagnose, evidence, freshness, funnel, gates, pii, pilot, pricing, queues, registered_numbers, report, retention, schedules, serve (line 1)"}},
		{"bad duration", "queues:\n  support:\n    sla_target: 15 minutes\n",
			[]string{`closedloop.yaml: queues.support.sla_target: "15 minutes" is not a duration like 15m or 2h (line 3)`}},
		{"day unit", "retention:\n  max_age: 400d\n",
			[]string{`closedloop.yaml: retention.max_age: "400d" is not a duration like 15m or 2h (there is no day unit: write 400 days as 9600h) (line 2)`}},
		{"bad date", "calendars:\n  uk:\n    - valid_from: 2026-02-30\n      timezone: Europe/London\n",
			[]string{`closedloop.yaml: calendars.uk[0].valid_from: "2026-02-30" is not a date like 2026-12-25 (line 3)`}},
		{"bad holiday", "calendars:\n  uk:\n    - valid_from: 2026-01-01\n      timezone: UTC\n      holidays: [2026-12-25, christmas]\n",
			[]string{`closedloop.yaml: calendars.uk[0].holidays[1]: "christmas" is not a date like 2026-12-25 (line 5)`}},
		{"list expected", "registered_numbers: \"123\"\n",
			[]string{`closedloop.yaml: registered_numbers: expected a list, got "123" (line 1)`}},
		{"mapping expected", "serve: [a]\n",
			[]string{`closedloop.yaml: serve: expected a mapping of keys, got a list (line 1)`}},
		{"bool expected", "pii:\n  keep_raw: maybe\n",
			[]string{`closedloop.yaml: pii.keep_raw: expected true or false, got "maybe" (line 2)`}},
		{"number expected", "pricing:\n  sms_unit: cheap\n",
			[]string{`closedloop.yaml: pricing.sms_unit: expected a number, got "cheap" (line 2)`}},
		{"duplicate key", "report:\n  timezone: UTC\n  timezone: Europe/Paris\n",
			[]string{"closedloop.yaml: report.timezone: duplicate key (first at line 2) (line 3)"}},
		{"undefined calendar", "queues:\n  support:\n    calendar: nowhere\n",
			[]string{`closedloop.yaml: queues.support.calendar: calendar "nowhere" is not defined under calendars (line 3)`}},
		{"negative target", "queues:\n  support:\n    pickup_target: -5m\n",
			[]string{"closedloop.yaml: queues.support.pickup_target: must be positive (line 3)"}},
		{"unknown zone", "report:\n  timezone: Europe/Lndon\n",
			[]string{`closedloop.yaml: report.timezone: unknown time zone "Europe/Lndon" (line 2)`}},
		{"Local zone", "report:\n  timezone: Local\n",
			[]string{"closedloop.yaml: report.timezone: use an IANA zone name like Europe/London, not Local (line 2)"}},
		{"calendar without versions", "calendars:\n  uk: []\n",
			[]string{"closedloop.yaml: calendars.uk: needs at least one version (line 2)"}},
		{"version without zone and date", "calendars:\n  uk:\n    - hours: {mon: [\"09:00-17:00\"]}\n",
			[]string{"closedloop.yaml: calendars.uk[0].valid_from: is required (line 3)",
				"closedloop.yaml: calendars.uk[0].timezone: is required (line 3)"}},
		{"intervals", "calendars:\n  uk:\n    - valid_from: 2026-01-01\n      timezone: UTC\n      hours:\n        mon: [\"09:00-12:00\", \"11:00-13:00\"]\n        tue: [\"17:00-09:00\"]\n        wed: [\"24:00-24:00\"]\n        thu: [\"9am-5pm\"]\n        fun: [\"09:00-17:00\"]\n",
			[]string{
				`closedloop.yaml: calendars.uk[0].hours.mon[1]: "11:00-13:00" overlaps or precedes the previous interval (line 6)`,
				`closedloop.yaml: calendars.uk[0].hours.tue[0]: "17:00-09:00" ends before it starts (line 7)`,
				`closedloop.yaml: calendars.uk[0].hours.wed[0]: "24:00-24:00": 24:00 can only end an interval (line 8)`,
				`closedloop.yaml: calendars.uk[0].hours.thu[0]: "9am-5pm": "9am" is not a time like 09:00 (line 9)`,
				"closedloop.yaml: calendars.uk[0].hours.fun: unknown day (use mon, tue, wed, thu, fri, sat, sun) (line 10)",
			}},
		{"version order", "calendars:\n  uk:\n    - valid_from: 2026-06-01\n      timezone: UTC\n    - valid_from: 2026-01-01\n      timezone: UTC\n",
			[]string{"closedloop.yaml: calendars.uk[1].valid_from: must be later than the previous version's (2026-06-01) (line 5)"}},
		{"exception dates", "calendars:\n  uk:\n    - valid_from: 2026-01-01\n      timezone: UTC\n      holidays: [2026-12-25]\n      exceptions:\n        - date: 2026-12-25\n          hours: []\n        - date: 2026-12-24\n          hours: [\"09:00-12:00\"]\n        - date: 2026-12-24\n          hours: []\n        - hours: [\"10:00-11:00\"]\n",
			[]string{
				"closedloop.yaml: calendars.uk[0].exceptions[0].date: 2026-12-25 is also listed under holidays (line 7)",
				"closedloop.yaml: calendars.uk[0].exceptions[2].date: 2026-12-24 already has an exception (exceptions[1]) (line 11)",
				"closedloop.yaml: calendars.uk[0].exceptions[3].date: is required (line 13)",
			}},
		{"bad cron", "schedules:\n  collect: \"every 5 minutes\"\n",
			[]string{"closedloop.yaml: schedules.collect: expected exactly 5 fields, found 3: [every 5 minutes] (line 2)"}},
		{"freshness", "freshness:\n  meta: 0s\n",
			[]string{"closedloop.yaml: freshness.meta: must be a positive duration like 26h (line 2)"}},
		{"gates", "gates:\n  warn_only: [rate_range, ratez]\n",
			[]string{`closedloop.yaml: gates.warn_only[1]: unknown gate "ratez" (known: rate_range, bot_plus_handover, silent_source, future_events) (line 2)`}},
		{"retention too short", "retention:\n  max_age: 40m\n",
			[]string{"closedloop.yaml: retention.max_age: 40m0s would delete almost everything; use at least 24h0m0s, or 0 to keep all events (line 2)"}},
		{"reveal roles", "evidence:\n  reveal_roles: [compliance, auditor, compliance]\n",
			[]string{
				`closedloop.yaml: evidence.reveal_roles[2]: "compliance" is listed twice (also at [0]) (line 2)`,
				`closedloop.yaml: evidence.reveal_roles[1]: unknown role "auditor" (known: viewer, analyst, compliance, admin) (line 2)`,
			}},
		{"pilot without baseline", "pilot:\n  pilot: workflow=promise_to_pay\n",
			[]string{"closedloop.yaml: pilot.baseline: is required when pilot is set (line 1)"}},
		{"pilot selectors", "pilot:\n  pilot: flow=promise_to_pay\n  baseline: workflow=x,before=March\n",
			[]string{
				`closedloop.yaml: pilot.pilot: unknown selector key "flow" (known: workflow, queue, category, since, before) (line 2)`,
				`closedloop.yaml: pilot.baseline: before="March" is not a date like 2026-03-01 (line 3)`,
			}},
		{"pilot same cohort", "pilot:\n  pilot: workflow=a\n  baseline: \" workflow = a \"\n",
			[]string{"closedloop.yaml: pilot.baseline: is the same cohort as pilot (line 3)"}},
		{"pricing", "pricing:\n  currency: euro\n  sms_unit: -0.05\n  whatsapp:\n    Utility:\n      gb: 0.02\n",
			[]string{
				`closedloop.yaml: pricing.currency: "euro" is not an ISO 4217 code like EUR (line 2)`,
				"closedloop.yaml: pricing.sms_unit: must be a cost of 0 or more (line 3)",
				"closedloop.yaml: pricing.whatsapp.Utility: pricing category must be lower case like utility or marketing (line 5)",
				"closedloop.yaml: pricing.whatsapp.Utility.gb: use an ISO 3166 country code like GB, or default (line 6)",
			}},
		{"registered numbers", "registered_numbers: [\"1065\", \"\", \"1065\"]\n",
			[]string{
				"closedloop.yaml: registered_numbers[1]: must not be empty (line 1)",
				`closedloop.yaml: registered_numbers[2]: "1065" is listed twice (also at [0]) (line 1)`,
			}},
		{"serve", "serve:\n  addr: localhost\n  meta_app_secret_env: \"$SECRET\"\n  tokens:\n    - token: short\n      role: viewer\n    - token_env: T\n      token: aaaaaaaaaaaaaaaaaaaa\n      role: admin\n    - token_env: T\n    - token_env: T\n      role: boss\n    - role: viewer\n",
			[]string{
				`closedloop.yaml: serve.addr: "localhost" is not a listen address like 127.0.0.1:8080 or :8080 (line 2)`,
				`closedloop.yaml: serve.meta_app_secret_env: "$SECRET" is not an environment variable name (line 3)`,
				"closedloop.yaml: serve.tokens[0].token: is shorter than 16 characters (line 5)",
				"closedloop.yaml: serve.tokens[1]: set either token_env or token, not both (line 7)",
				"closedloop.yaml: serve.tokens[2].role: is required (one of viewer, analyst, compliance, admin) (line 10)",
				"closedloop.yaml: serve.tokens[3]: same token as tokens[2]; a token must map to one role (line 11)",
				`closedloop.yaml: serve.tokens[3].role: unknown role "boss" (known: viewer, analyst, compliance, admin) (line 12)`,
				"closedloop.yaml: serve.tokens[4]: needs token_env (or token) (line 13)",
			}},
		{"syntax error", "report:\n  timezone: UTC\n\tpii: {}\n",
			[]string{"closedloop.yaml: invalid YAML: found a tab character that violates indentation (line 2)"}},
		{"two documents", "report: {timezone: UTC}\n---\nreport: {timezone: UTC}\n",
			[]string{"closedloop.yaml: only one YAML document is allowed (remove the second ---) (line 2)"}},
		{"not a mapping", "- a\n- b\n",
			[]string{"closedloop.yaml: expected a mapping of keys, got a list (line 1)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadText(t, tt.yaml)
			if err == nil {
				t.Fatalf("no error; config %+v", c)
			}
			if c != nil {
				t.Errorf("config returned with an error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(err, ErrInvalid) = false for %v", err)
			}
			got := strings.Split(err.Error(), "\n")
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n  got  %s\n  want %s", strings.Join(got, "\n       "), strings.Join(tt.want, "\n       "))
			}
		})
	}
}

// TestEveryProblemAtOnce checks that unknown keys, type errors and
// validation problems of one file all come back in one error, in file order.
func TestEveryProblemAtOnce(t *testing.T) {
	text := `report:
  timezone: Mars/Olympus
  week_start: sunday
queues:
  support:
    calendar: uk
    sla_targt: 15m
    pickup_target: soon
calendars:
  uk:
    - valid_from: 2026-01-01
      timezone: Europe/London
      hours:
        mon: ["09:00-12:30", "13:30-18:00"]
        tue: ["09:00-18:00"]
      holidays: [2026-12-25]
      exceptions:
        - date: 24 December
          hours: ["09:00-13:00"]
pii:
  keep_raw: perhaps
serve:
  tokens:
    - token_env: CX
      role: cx_leader
retention:
  max_age: 400d
exporters: {}
`
	_, err := loadText(t, text)
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{
		`closedloop.yaml: report.timezone: unknown time zone "Mars/Olympus" (line 2)`,
		"closedloop.yaml: report.week_start: unknown key; valid keys: timezone (line 3)",
		"closedloop.yaml: queues.support.sla_targt: unknown key; did you mean sla_target? (line 7)",
		`closedloop.yaml: queues.support.pickup_target: "soon" is not a duration like 15m or 2h (line 8)`,
		`closedloop.yaml: calendars.uk[0].exceptions[0].date: "24 December" is not a date like 2026-12-25 (line 18)`,
		`closedloop.yaml: pii.keep_raw: expected true or false, got "perhaps" (line 21)`,
		`closedloop.yaml: serve.tokens[0].role: unknown role "cx_leader" (known: viewer, analyst, compliance, admin) (line 25)`,
		`closedloop.yaml: retention.max_age: "400d" is not a duration like 15m or 2h (there is no day unit: write 400 days as 9600h) (line 27)`,
		"closedloop.yaml: exporters: unknown key; valid keys: calendars, collectors, diagnose, evidence, freshness, funnel, gates, pii, pilot, pricing, queues, registered_numbers, report, retention, schedules, serve (line 28)",
	}
	if got := err.Error(); got != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	var ce *Error
	if !errors.As(err, &ce) || ce.File != "closedloop.yaml" || ce.Line != 2 || ce.Path != "report.timezone" {
		t.Errorf("errors.As first *Error = %+v", ce)
	}
}

// TestParseHasNoFileName checks that Parse (bytes, no file) still names key
// paths and lines.
func TestParseHasNoFileName(t *testing.T) {
	_, err := Parse([]byte("queues:\n  support:\n    sla_targt: 15m\n"))
	want := "queues.support.sla_targt: unknown key; did you mean sla_target? (line 3)"
	if err == nil || err.Error() != want {
		t.Errorf("Parse error = %v, want %s", err, want)
	}
}

// TestValidateInCode checks that a Config built in code reports key paths
// without a file or line.
func TestValidateInCode(t *testing.T) {
	c := Default()
	c.Queues = map[string]Queue{"support": {Calendar: "missing", SLATarget: Duration(-1)}}
	c.Serve.Tokens = []Token{{TokenEnv: "X", Role: "root"}}
	err := c.Validate()
	want := `queues.support.calendar: calendar "missing" is not defined under calendars
queues.support.sla_target: must be positive
serve.tokens[0].role: unknown role "root" (known: viewer, analyst, compliance, admin)`
	if err == nil || err.Error() != want {
		t.Errorf("Validate() = %v\nwant %s", err, want)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "absent.yaml"))
	if err == nil || !errors.Is(err, os.ErrNotExist) || errors.Is(err, ErrInvalid) {
		t.Errorf("Load(absent) = %v; want a not-exist error that is not ErrInvalid", err)
	}
}
