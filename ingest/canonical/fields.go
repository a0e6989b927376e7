package canonical

import (
	"bytes"
	stdjson "encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/models"
	json "github.com/goccy/go-json"
)

// ValidationError lists every problem of one line, so that whoever fixes
// the export sees all of them at once rather than one per re-run.
type ValidationError struct {
	Table    models.Table
	Problems []string
}

func (e *ValidationError) Error() string {
	return string(e.Table) + ": " + strings.Join(e.Problems, "; ")
}

// reader reads typed values out of a line's fields and collects problems,
// each naming its field.
type reader struct {
	table    models.Table
	env      *ingest.Env
	problems []string
}

func (r *reader) missing(name string) {
	r.problems = append(r.problems, fmt.Sprintf("missing required field %q", name))
}

func (r *reader) bad(name, format string, args ...any) {
	r.problems = append(r.problems, fmt.Sprintf("field %q: ", name)+fmt.Sprintf(format, args...))
}

// err returns the collected problems as one error, or nil.
func (r *reader) err() error {
	if len(r.problems) == 0 {
		return nil
	}
	return &ValidationError{Table: r.table, Problems: r.problems}
}

// typeName names a non-string kind in messages.
func typeName(s scalar) string {
	switch s.kind {
	case boolean:
		return "a boolean (" + s.text + ")"
	case composite:
		if strings.HasPrefix(s.text, "[") {
			return "an array"
		}
		return "an object"
	}
	return "a number"
}

// str reads an identifier or free text: a string, or a number kept as its
// decimal text.
func (r *reader) str(name string, raw json.RawMessage, required bool) string {
	s := value(raw)
	switch s.kind {
	case absent:
		if required {
			r.missing(name)
		}
		return ""
	case str:
		return s.text
	case num:
		return decimal(s.text)
	}
	r.bad(name, "is %s, expected a string", typeName(s))
	return ""
}

// enum reads one of allowed (case-insensitive); def is used when the field
// is absent, and an empty def makes the field required.
func (r *reader) enum(name string, raw json.RawMessage, allowed []string, def string) string {
	v := r.str(name, raw, def == "")
	if v == "" {
		return def
	}
	for _, a := range allowed {
		if strings.EqualFold(v, a) {
			return a
		}
	}
	r.bad(name, "%q is not one of %s", v, strings.Join(allowed, ", "))
	return ""
}

// customer reads a customer id and pseudonymises it at once, so the raw
// number goes no further than this function.
func (r *reader) customer(name string, raw json.RawMessage, required bool) string {
	return r.env.Pseudo.Customer(r.str(name, raw, required))
}

// ts reads a required timestamp (RFC 3339 with offset, or Unix seconds).
func (r *reader) ts(name string, raw json.RawMessage) time.Time {
	s := value(raw)
	switch s.kind {
	case absent:
		r.missing(name)
		return time.Time{}
	case boolean, composite:
		r.bad(name, "is %s, expected an RFC 3339 timestamp", typeName(s))
		return time.Time{}
	}
	// The common case, RFC 3339 text, is parsed directly; ParseTime (which
	// tries Unix seconds first) handles the rest and words the errors.
	if len(s.text) >= 20 && s.text[4] == '-' {
		if t, err := time.Parse(time.RFC3339Nano, s.text); err == nil {
			return t.UTC()
		}
	}
	t, err := ingest.ParseTime(s.text)
	if err != nil {
		r.bad(name, "%v", err)
		return time.Time{}
	}
	return t
}

// attempt reads a positive whole number, 1 when absent.
func (r *reader) attempt(name string, raw json.RawMessage) int {
	s := value(raw)
	switch s.kind {
	case absent:
		return 1
	case boolean, composite:
		r.bad(name, "is %s, expected a whole number", typeName(s))
		return 0
	}
	n, err := strconv.Atoi(s.text)
	if err != nil {
		f, ferr := strconv.ParseFloat(s.text, 64)
		if ferr != nil || f != float64(int(f)) {
			r.bad(name, "%q is not a whole number", s.text)
			return 0
		}
		n = int(f)
	}
	if n < 1 {
		r.bad(name, "%d is not a positive whole number (attempts count from 1)", n)
		return 0
	}
	return n
}

// flag reads a boolean given as JSON or as CSV text; absent means false.
func (r *reader) flag(name string, raw json.RawMessage) bool {
	s := value(raw)
	switch s.kind {
	case absent:
		return false
	case boolean:
		return s.text == "true"
	case composite:
		r.bad(name, "is %s, expected true or false", typeName(s))
		return false
	}
	switch strings.ToLower(s.text) {
	case "true", "1", "yes", "y", "t":
		return true
	case "false", "0", "no", "n", "f":
		return false
	}
	r.bad(name, "%q is not a boolean (true, false, 1 or 0)", s.text)
	return false
}

// details reads audit details as compact JSON text: objects and arrays are
// compacted, a string holding an object or array (always the case in CSV)
// is parsed and compacted the same way, so JSONL and CSV agree; any other
// string becomes a JSON string literal, keeping the column valid JSON.
func (r *reader) details(name string, raw json.RawMessage) string {
	s := value(raw)
	switch s.kind {
	case absent:
		return ""
	case num, boolean:
		return s.text
	case str:
		if t := s.text; t[0] != '{' && t[0] != '[' || !stdjson.Valid([]byte(t)) {
			return quoteJSON(t)
		}
	}
	var buf bytes.Buffer
	if err := stdjson.Compact(&buf, []byte(s.text)); err != nil {
		r.bad(name, "is not valid JSON: %v", err)
		return ""
	}
	return buf.String()
}

// quoteJSON encodes s as a JSON string without HTML escaping.
func quoteJSON(s string) string {
	var buf bytes.Buffer
	enc := stdjson.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(buf.String(), "\n")
}
