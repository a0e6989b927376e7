// Package config reads closedloop.yaml: one file, every section optional,
// unknown keys are errors, and every problem is reported at once with its
// key path.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the whole configuration file.
type Config struct {
	Report    Report                       `yaml:"report"`
	PII       PII                          `yaml:"pii"`
	Queues    map[string]Queue             `yaml:"queues"`
	Calendars map[string][]CalendarVersion `yaml:"calendars"`
	Schedules Schedules                    `yaml:"schedules"`
	Freshness map[string]Duration          `yaml:"freshness"` // max age per source; stale sources are flagged

	// Path is the file the configuration came from ("" for defaults).
	Path string `yaml:"-"`
}

// Report configures reporting periods.
type Report struct {
	// Timezone is the IANA zone for periods and weeks (default UTC).
	Timezone string `yaml:"timezone"`
}

// PII configures pseudonymisation.
type PII struct {
	// KeyEnv names the environment variable with the HMAC key
	// (default CLOSEDLOOP_PII_KEY).
	KeyEnv string `yaml:"key_env"`
	// KeyFile is read when the variable is unset (default: <db>.key beside the store).
	KeyFile string `yaml:"key_file"`
	// KeepRaw stores raw identifiers instead of pseudonyms. Off by default.
	KeepRaw bool `yaml:"keep_raw"`
}

// Queue configures one queue's calendar and targets.
type Queue struct {
	Calendar     string   `yaml:"calendar"`
	SLATarget    Duration `yaml:"sla_target"`    // response SLA target in business time (default 15m)
	PickupTarget Duration `yaml:"pickup_target"` // handover → first agent message (default 30m)
}

// CalendarVersion is a calendar in force from ValidFrom.
type CalendarVersion struct {
	ValidFrom  Date                `yaml:"valid_from"`
	Timezone   string              `yaml:"timezone"`
	Hours      map[string][]string `yaml:"hours"` // mon..sun → ["09:00-12:30", ...]
	Holidays   []Date              `yaml:"holidays"`
	Exceptions []Exception         `yaml:"exceptions"`
}

// Exception gives a date other hours (an empty list means closed).
type Exception struct {
	Date  Date     `yaml:"date"`
	Hours []string `yaml:"hours"`
}

// Schedules are robfig/cron expressions (CRON_TZ= allowed).
type Schedules struct {
	Transform  string `yaml:"transform"`
	Collect    string `yaml:"collect"`
	WeeklyPack string `yaml:"weekly_pack"`
}

// Default targets when a queue sets none (SPEC §4a).
const (
	DefaultSLATarget    = 15 * time.Minute
	DefaultPickupTarget = 30 * time.Minute
)

// Default returns the configuration used when no file is given.
func Default() *Config {
	c := &Config{}
	c.applyDefaults()
	return c
}

func (c *Config) applyDefaults() {
	if c.Report.Timezone == "" {
		c.Report.Timezone = "UTC"
	}
	if c.PII.KeyEnv == "" {
		c.PII.KeyEnv = "CLOSEDLOOP_PII_KEY"
	}
}

// SLATarget returns the queue's SLA target or the default.
func (c *Config) SLATarget(queue string) time.Duration {
	if q, ok := c.Queues[queue]; ok && q.SLATarget > 0 {
		return time.Duration(q.SLATarget)
	}
	return DefaultSLATarget
}

// PickupTarget returns the queue's pickup target or the default.
func (c *Config) PickupTarget(queue string) time.Duration {
	if q, ok := c.Queues[queue]; ok && q.PickupTarget > 0 {
		return time.Duration(q.PickupTarget)
	}
	return DefaultPickupTarget
}

// Load reads and validates a configuration file.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	c.Path = path
	return c, nil
}

// Parse decodes YAML strictly (unknown keys are errors) and validates.
func Parse(b []byte) (*Config, error) {
	c := &Config{}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	c.applyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Validate reports every problem at once, each with its key path.
func (c *Config) Validate() error {
	var errs []error
	add := func(path, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, a...)))
	}
	if _, err := time.LoadLocation(c.Report.Timezone); err != nil {
		add("report.timezone", "unknown time zone %q", c.Report.Timezone)
	}
	for _, name := range sortedKeys(c.Queues) {
		q := c.Queues[name]
		if q.Calendar != "" {
			if _, ok := c.Calendars[q.Calendar]; !ok {
				add("queues."+name+".calendar", "calendar %q is not defined under calendars", q.Calendar)
			}
		}
		if q.SLATarget < 0 {
			add("queues."+name+".sla_target", "must be positive")
		}
		if q.PickupTarget < 0 {
			add("queues."+name+".pickup_target", "must be positive")
		}
	}
	for _, name := range sortedKeys(c.Calendars) {
		errs = append(errs, validateCalendar("calendars."+name, c.Calendars[name])...)
	}
	errs = append(errs, c.Schedules.validate()...)
	return errors.Join(errs...)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
