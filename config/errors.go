package config

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// ErrInvalid matches (with errors.Is) every problem Load, Parse and Validate
// report, so a command can tell a bad configuration (a usage error) from an
// I/O failure without parsing messages.
var ErrInvalid = errors.New("invalid configuration")

// Error is one configuration problem. Its message names the file (when the
// configuration came from one), the key path a user can search for, and the
// line, so that every mistake can be fixed from the message alone:
//
//	closedloop.yaml: queues.support.sla_targt: unknown key (line 7)
type Error struct {
	File string // "" when not loaded from a file
	Path string // key path, e.g. queues.support.sla_target or calendars.uk[0].timezone
	Line int    // 1-based; 0 when unknown (e.g. a default value)
	Msg  string
}

// Error formats the problem as "file: path: message (line N)".
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", e.Line)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInvalid) true for every configuration problem.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// problems collects every problem found instead of stopping at the first,
// because a user fixing a file wants the whole list in one run.
type problems struct{ list []*Error }

func (p *problems) add(path, format string, a ...any) {
	p.list = append(p.list, &Error{Path: path, Msg: fmt.Sprintf(format, a...)})
}

func (p *problems) addLine(path string, line int, format string, a ...any) {
	p.list = append(p.list, &Error{Path: path, Line: line, Msg: fmt.Sprintf(format, a...)})
}

// err joins the problems (nil when there are none).
func (p *problems) err() error {
	errs := make([]error, len(p.list))
	for i, e := range p.list {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// flatten returns the *Error values inside a (possibly joined) error; other
// errors are wrapped so that nothing is lost.
func flatten(err error) []*Error {
	if err == nil {
		return nil
	}
	if ce, ok := err.(*Error); ok {
		return []*Error{ce}
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []*Error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []*Error{{Msg: err.Error()}}
}

// sortByLine orders problems as they appear in the file, so the list reads
// top to bottom; problems without a line keep their order at the end.
func sortByLine(list []*Error) {
	sort.SliceStable(list, func(i, j int) bool {
		li, lj := list[i].Line, list[j].Line
		if li == 0 || lj == 0 {
			return li != 0 && lj == 0
		}
		return li < lj
	})
}

// covers reports whether path is prefix itself or a key below it.
func covers(prefix, path string) bool {
	if prefix == "" || path == prefix {
		return true
	}
	return strings.HasPrefix(path, prefix) && (path[len(prefix)] == '.' || path[len(prefix)] == '[')
}

var linePrefix = regexp.MustCompile(`^line (\d+): `)

// splitLine removes the "line N: " prefix yaml.v3 and our unmarshalers put
// on messages, so the line can be printed once, at the end.
func splitLine(msg string, fallback int) (int, string) {
	msg = strings.TrimPrefix(msg, "yaml: ")
	if m := linePrefix.FindStringSubmatch(msg); m != nil {
		if n, err := strconv.Atoi(m[1]); err == nil {
			return n, msg[len(m[0]):]
		}
	}
	return fallback, msg
}
