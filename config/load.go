package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load reads and validates a configuration file. Every problem is reported
// at once, each naming the file, the key path and the line.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	c, err := parse(path, b)
	if err != nil {
		return nil, err
	}
	c.Path = path
	return c, nil
}

// Parse decodes YAML strictly (unknown keys are errors) and validates.
func Parse(b []byte) (*Config, error) { return parse("", b) }

// parse decodes, applies defaults and validates, joining the decoding and
// validation problems into one error.
func parse(file string, b []byte) (*Config, error) {
	c := &Config{}
	d := newDecoder()
	root, synErr := parseNode(b)
	if synErr != nil {
		synErr.File = file
		return nil, synErr
	}
	if root != nil {
		d.decode(root, reflect.ValueOf(c).Elem(), "")
	}
	c.applyDefaults()
	list := d.problems.list
	decoded := len(list)
	for _, e := range flatten(c.Validate()) {
		if !reportedUnder(list[:decoded], e.Path) {
			list = append(list, e)
		}
	}
	if len(list) == 0 {
		return c, nil
	}
	for _, e := range list {
		e.File = file
		if e.Line == 0 {
			e.Line = d.lineOf(e.Path)
		}
	}
	sortByLine(list)
	return nil, (&problems{list: list}).err()
}

// reportedUnder reports whether decoding already complained about path or
// a key above it: a value that failed to decode is left empty, and "is
// required" on top of "is not a date" would only add noise.
func reportedUnder(decoded []*Error, path string) bool {
	for _, e := range decoded {
		if e.Path != "" && covers(e.Path, path) {
			return true
		}
	}
	return false
}

// lineOf returns the line of path, or of its nearest ancestor in the file
// (a missing required key points at the mapping that lacks it).
func (d *decoder) lineOf(path string) int {
	for path != "" {
		if l, ok := d.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return 0
		}
		path = path[:i]
	}
	return 0
}

// parseNode reads exactly one YAML document; nil for an empty file.
func parseNode(b []byte) (*yaml.Node, *Error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		line, msg := splitLine(err.Error(), 0)
		return nil, &Error{Line: line, Msg: "invalid YAML: " + msg}
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		line := next.Line
		if err != nil {
			line, _ = splitLine(err.Error(), 0)
		}
		return nil, &Error{Line: line, Msg: "only one YAML document is allowed (remove the second ---)"}
	}
	return &root, nil
}
