package config

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a Go-style duration in YAML ("15m", "2h").
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration like 15m or 2h", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// Date is a calendar date (YYYY-MM-DD) without a time zone.
type Date struct{ Y, M, D int }

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Date) UnmarshalYAML(n *yaml.Node) error {
	t, err := time.Parse("2006-01-02", n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a date like 2026-12-25", n.Line, n.Value)
	}
	*d = Date{t.Year(), int(t.Month()), t.Day()}
	return nil
}

// String formats the date as YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Y, d.M, d.D) }

// IsZero reports an unset date.
func (d Date) IsZero() bool { return d == Date{} }
