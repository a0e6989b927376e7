package config

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// decoder fills a Go value from a YAML node tree by walking both together.
//
// Why not yaml.v3's Decoder with KnownFields: it names the Go type instead
// of the key path ("field sla_targt not found in type config.Queue"), and it
// stops at the first error a custom unmarshaler (Duration, Date) returns, so
// a user would fix one mistake per run. The walk is driven by reflection
// over the yaml struct tags, so a new section only needs a tagged field:
// unknown keys, duplicates and bad values are then reported for it too.
type decoder struct {
	problems problems
	lines    map[string]int // key path → line of the key, for validation messages
	fields   map[reflect.Type]structInfo
}

func newDecoder() *decoder {
	return &decoder{lines: map[string]int{}, fields: map[reflect.Type]structInfo{}}
}

// decode fills v from n; every problem is recorded under path.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	n = unalias(n)
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return
		}
		d.decode(n.Content[0], v, path)
		return
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // an empty value keeps the default
	}
	if v.CanAddr() {
		if _, ok := v.Addr().Interface().(yaml.Unmarshaler); ok {
			d.leaf(n, v, path)
			return
		}
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), path)
	case reflect.Struct:
		d.structValue(n, v, path)
	case reflect.Map:
		d.mapValue(n, v, path)
	case reflect.Slice:
		d.sliceValue(n, v, path)
	default:
		d.leaf(n, v, path)
	}
}

func (d *decoder) structValue(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.problems.addLine(path, n.Line, "expected a mapping of keys, got %s", describe(n))
		return
	}
	info := d.structInfo(v.Type())
	for _, kv := range d.pairs(n, path) {
		p := join(path, kv.key.Value)
		idx, ok := info.byName[kv.key.Value]
		if !ok {
			d.problems.addLine(p, kv.key.Line, "unknown key%s", info.hint(kv.key.Value))
			continue
		}
		d.lines[p] = kv.key.Line
		d.decode(kv.value, v.FieldByIndex(idx), p)
	}
}

func (d *decoder) mapValue(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.problems.addLine(path, n.Line, "expected a mapping of keys, got %s", describe(n))
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	for _, kv := range d.pairs(n, path) {
		p := join(path, kv.key.Value)
		d.lines[p] = kv.key.Line
		key := reflect.New(v.Type().Key()).Elem()
		if key.Kind() == reflect.String {
			key.SetString(kv.key.Value)
		} else if err := kv.key.Decode(key.Addr().Interface()); err != nil {
			d.problems.addLine(p, kv.key.Line, "bad key: %s", typeMessage(err, key.Type(), kv.key))
			continue
		}
		elem := reflect.New(v.Type().Elem()).Elem()
		d.decode(kv.value, elem, p)
		v.SetMapIndex(key, elem)
	}
}

func (d *decoder) sliceValue(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.problems.addLine(path, n.Line, "expected a list, got %s", describe(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		d.lines[p] = item.Line
		d.decode(item, s.Index(i), p)
	}
	v.Set(s)
}

// leaf lets yaml.v3 decode a scalar (or a type with its own unmarshaler)
// and turns its error into a message with the key path.
func (d *decoder) leaf(n *yaml.Node, v reflect.Value, path string) {
	err := n.Decode(v.Addr().Interface())
	if err == nil {
		return
	}
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 1 {
		for _, m := range te.Errors {
			line, msg := splitLine(m, n.Line)
			d.problems.addLine(path, line, "%s", msg)
		}
		return
	}
	d.problems.addLine(path, n.Line, "%s", typeMessage(err, v.Type(), n))
}

// typeMessage says what was expected in words a user knows ("a number"),
// rather than yaml.v3's "cannot unmarshal !!str `x` into float64".
func typeMessage(err error, t reflect.Type, n *yaml.Node) string {
	want := ""
	switch t.Kind() {
	case reflect.Bool:
		want = "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		want = "a whole number"
	case reflect.Float32, reflect.Float64:
		want = "a number"
	case reflect.String:
		want = "a string"
	}
	if _, custom := reflect.New(t).Interface().(yaml.Unmarshaler); want == "" || custom {
		_, msg := splitLine(err.Error(), 0)
		_, msg = splitLine(strings.TrimPrefix(msg, "unmarshal errors:\n  "), 0)
		return msg
	}
	return fmt.Sprintf("expected %s, got %s", want, describe(n))
}

type pair struct{ key, value *yaml.Node }

// pairs returns a mapping's key/value pairs with YAML merge keys ("<<")
// expanded (explicit keys win over merged ones) and duplicate keys reported.
func (d *decoder) pairs(n *yaml.Node, path string) []pair {
	var explicit, merged []pair
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := unalias(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.problems.addLine(path, k.Line, "keys must be plain words, got %s", describe(k))
			continue
		}
		if k.Value == "<<" && k.ShortTag() == "!!merge" {
			merged = append(merged, d.mergePairs(unalias(val), path)...)
			continue
		}
		if line, dup := first[k.Value]; dup {
			d.problems.addLine(join(path, k.Value), k.Line, "duplicate key (first at line %d)", line)
			continue
		}
		first[k.Value] = k.Line
		explicit = append(explicit, pair{k, val})
	}
	out := make([]pair, 0, len(merged)+len(explicit))
	seen := map[string]bool{}
	for _, kv := range merged {
		if _, ok := first[kv.key.Value]; !ok && !seen[kv.key.Value] {
			seen[kv.key.Value] = true
			out = append(out, kv)
		}
	}
	return append(out, explicit...)
}

func (d *decoder) mergePairs(val *yaml.Node, path string) []pair {
	switch val.Kind {
	case yaml.MappingNode:
		return d.pairs(val, path)
	case yaml.SequenceNode:
		var out []pair
		for _, m := range val.Content {
			out = append(out, d.mergePairs(unalias(m), path)...)
		}
		return out
	}
	d.problems.addLine(path, val.Line, "<< must merge a mapping, got %s", describe(val))
	return nil
}

func unalias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return fmt.Sprintf("%q", n.Value)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// structInfo maps the yaml keys of a struct to its fields.
type structInfo struct {
	byName map[string][]int
	names  []string // sorted, for "valid keys" hints
}

func (d *decoder) structInfo(t reflect.Type) structInfo {
	if info, ok := d.fields[t]; ok {
		return info
	}
	info := structInfo{byName: map[string][]int{}}
	collectFields(t, nil, info.byName)
	for name := range info.byName {
		info.names = append(info.names, name)
	}
	sort.Strings(info.names)
	d.fields[t] = info
	return info
}

// collectFields follows yaml.v3's tag rules: the name before the first
// comma, the lower-cased field name when empty, "-" skipped, ",inline"
// structs flattened.
func collectFields(t reflect.Type, index []int, out map[string][]int) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, flags, _ := strings.Cut(tag, ",")
		idx := append(append([]int(nil), index...), i)
		if strings.Contains(","+flags+",", ",inline,") && f.Type.Kind() == reflect.Struct {
			collectFields(f.Type, idx, out)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = idx
	}
}

// hint suggests the key the user probably meant, or lists the valid ones.
func (s structInfo) hint(key string) string {
	best, bestDist := "", 3
	for _, name := range s.names {
		if dist := editDistance(key, name); dist < bestDist {
			best, bestDist = name, dist
		}
	}
	if best != "" {
		return fmt.Sprintf("; did you mean %s?", best)
	}
	return fmt.Sprintf("; valid keys: %s", strings.Join(s.names, ", "))
}

// editDistance is the Levenshtein distance, for typo suggestions.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
