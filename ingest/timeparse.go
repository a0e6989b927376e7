package ingest

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseTime reads the timestamp forms the sources use: RFC 3339 with an
// offset or Z (fractions allowed), or Unix seconds as a decimal string.
// Values that look like milliseconds (13+ digits) are refused rather than
// guessed, so that a unit mistake is visible.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, fmt.Errorf("timestamp is empty")
	}
	if isDigits(s) || (s[0] == '-' && isDigits(s[1:])) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("timestamp %q is not a Unix time: %w", s, err)
		}
		return UnixSeconds(n)
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && strings.Contains(s, ".") && !strings.Contains(s, "-") {
		sec := int64(f)
		t, err := UnixSeconds(sec)
		if err != nil {
			return t, err
		}
		return t.Add(time.Duration((f - float64(sec)) * float64(time.Second))).Truncate(time.Millisecond), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("timestamp %q is neither RFC 3339 with an offset nor Unix seconds", s)
	}
	return t.UTC(), nil
}

// UnixSeconds converts Unix seconds, refusing negative values and values
// that are evidently milliseconds.
func UnixSeconds(n int64) (time.Time, error) {
	switch {
	case n < 0:
		return time.Time{}, fmt.Errorf("timestamp %d is negative", n)
	case n >= 100_000_000_000:
		return time.Time{}, fmt.Errorf("timestamp %d looks like milliseconds, expected Unix seconds", n)
	}
	return time.Unix(n, 0).UTC(), nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
