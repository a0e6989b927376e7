package config

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a Go-style duration in YAML ("15m", "2h", "9600h"). Go
// durations have no day unit on purpose: a day is not always 24 hours in a
// time zone with DST, so configuration spells long periods in hours.
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: expected a duration like 15m or 2h, got a %s", n.Line, kindName(n))
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		hint := ""
		if strings.HasSuffix(n.Value, "d") {
			hint = " (there is no day unit: write 400 days as 9600h)"
		}
		return fmt.Errorf("line %d: %q is not a duration like 15m or 2h%s", n.Line, n.Value, hint)
	}
	*d = Duration(v)
	return nil
}

// String formats the duration the way it is written in the file.
func (d Duration) String() string { return time.Duration(d).String() }

func kindName(n *yaml.Node) string {
	if n.Kind == yaml.SequenceNode {
		return "list"
	}
	return "mapping"
}

// Date is a calendar date (YYYY-MM-DD) without a time zone.
type Date struct{ Y, M, D int }

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Date) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: expected a date like 2026-12-25, got a %s", n.Line, kindName(n))
	}
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

// Before reports whether d is an earlier date than e.
func (d Date) Before(e Date) bool {
	if d.Y != e.Y {
		return d.Y < e.Y
	}
	if d.M != e.M {
		return d.M < e.M
	}
	return d.D < e.D
}
