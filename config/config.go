// Package config reads closedloop.yaml: one file, every section optional,
// unknown keys are errors, and every problem is reported at once with the
// file name, its key path and line (SPEC §4a).
//
// Adding a section: add a field with a yaml tag and a doc comment to Config
// (or to a section type), put its defaults in applyDefaults, give its type a
// validate method called from Validate, and show it in
// closedloop.example.yaml. Decoding needs no change: unknown keys, duplicate
// keys and badly typed values are found by walking the struct tags, and a
// test fails when a key is missing from the example file.
package config

import (
	"time"
)

// Config is the whole configuration file.
type Config struct {
	Report    Report                       `yaml:"report"`
	PII       PII                          `yaml:"pii"`
	Queues    map[string]Queue             `yaml:"queues"`
	Calendars map[string][]CalendarVersion `yaml:"calendars"`
	Schedules Schedules                    `yaml:"schedules"`
	// Freshness is the maximum age of the newest event per source (collector
	// name) before `status` and the pack flag the source as stale; sources
	// not listed use DefaultFreshness.
	Freshness map[string]Duration `yaml:"freshness"`
	Gates     Gates               `yaml:"gates"`
	Retention Retention           `yaml:"retention"`
	Evidence  Evidence            `yaml:"evidence"`
	Pilot     Pilot               `yaml:"pilot"`
	Pricing   Pricing             `yaml:"pricing"`
	// RegisteredNumbers is the register of business phone number ids (or
	// SMS/email senders) the organisation approved; messages through any
	// other number are a governance finding. Empty: no register, no finding.
	RegisteredNumbers []string `yaml:"registered_numbers"`
	Serve             Serve    `yaml:"serve"`
	// Funnel configures the workflow funnel (closedloop funnel, the pack).
	Funnel Funnel `yaml:"funnel"`
	// Collectors configures the pull collectors (closedloop collect).
	Collectors Collectors `yaml:"collectors"`
	// Diagnose holds the thresholds of closedloop diagnose and of the
	// pilot's scale gate (closedloop compare, the pack).
	Diagnose Diagnose `yaml:"diagnose"`

	// Path is the file the configuration came from ("" for defaults).
	Path string `yaml:"-"`
}

// Report configures reporting periods. Weeks are ISO weeks (Monday first)
// and are not configurable, so week numbers match what people read in
// their calendars.
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

// CalendarVersion is a calendar in force from ValidFrom (00:00 local time
// of that date in the version's own time zone) until the next version.
type CalendarVersion struct {
	ValidFrom  Date                `yaml:"valid_from"`
	Timezone   string              `yaml:"timezone"`
	Hours      map[string][]string `yaml:"hours"` // mon..sun → ["09:00-12:30", ...]; a day not listed is closed
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

// DefaultFreshness is the staleness limit of a source that freshness does
// not list: a daily export with a couple of hours of slack.
const DefaultFreshness = 26 * time.Hour

// Default returns the configuration used when no file is given.
func Default() *Config {
	c := &Config{}
	c.applyDefaults()
	return c
}

// applyDefaults fills what the file left empty. Fields whose zero value is
// a meaningful choice (keep_raw: false, an explicitly empty reveal_roles
// list) are not touched.
func (c *Config) applyDefaults() {
	if c.Report.Timezone == "" {
		c.Report.Timezone = "UTC"
	}
	if c.PII.KeyEnv == "" {
		c.PII.KeyEnv = "CLOSEDLOOP_PII_KEY"
	}
	c.Evidence.applyDefaults()
	c.Pricing.applyDefaults()
	c.Funnel.applyDefaults()
	c.Serve.applyDefaults()
	c.Collectors.applyDefaults()
	c.Diagnose.applyDefaults()
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

// FreshnessLimit returns the staleness limit of a source.
func (c *Config) FreshnessLimit(source string) time.Duration {
	if d, ok := c.Freshness[source]; ok && d > 0 {
		return time.Duration(d)
	}
	return DefaultFreshness
}

// IsRegistered reports whether a business number is in the register.
func (c *Config) IsRegistered(number string) bool {
	for _, n := range c.RegisteredNumbers {
		if n == number {
			return true
		}
	}
	return false
}
