package gen

import (
	"bytes"
	"math/rand/v2"
)

// malformer replaces a small share of lines with the kinds of breakage real
// feeds show: a truncated body, a timestamp of the wrong type, or an enum
// value no source defines. Each broken line stands for an event that the
// pipeline should reject (and count) instead of loading.
type malformer struct {
	r     *rand.Rand
	rate  float64
	count int
	// tsKeys are the timestamp fields of this output; every occurrence gets
	// a boolean, so no fallback field can rescue the line.
	tsKeys []string
	// enums are candidate fields with a value to put in their place; the
	// first field present is used, at every occurrence.
	enums []badEnum
}

type badEnum struct{ key, bad string }

func newMalformer(r *rand.Rand, rate float64, tsKeys []string, enums []badEnum) *malformer {
	return &malformer{r: r, rate: rate, tsKeys: tsKeys, enums: enums}
}

// maybe returns the line unchanged, or a broken copy (counted).
func (m *malformer) maybe(line []byte) []byte {
	if m.rate <= 0 || m.r.Float64() >= m.rate {
		return line
	}
	m.count++
	mode := m.r.IntN(10)
	if mode >= 7 {
		if out, ok := m.badEnum(line); ok {
			return out
		}
	} else if mode >= 4 {
		if out, ok := m.wrongTimestamp(line); ok {
			return out
		}
	}
	return m.truncate(line)
}

// truncate cuts the line somewhere in its second half: the outer object is
// never closed, so the result is not JSON.
func (m *malformer) truncate(line []byte) []byte {
	n := len(line)
	if n < 4 {
		return []byte("{")
	}
	cut := n/2 + m.r.IntN(n/2-1)
	return append([]byte(nil), line[:cut]...)
}

// wrongTimestamp replaces the values of every timestamp field with true.
func (m *malformer) wrongTimestamp(line []byte) ([]byte, bool) {
	out := line
	changed := false
	for _, k := range m.tsKeys {
		if next, ok := replaceValues(out, k, []byte("true")); ok {
			out, changed = next, true
		}
	}
	return out, changed
}

// badEnum puts an undefined value into the first enum field present.
func (m *malformer) badEnum(line []byte) ([]byte, bool) {
	for _, e := range m.enums {
		val := append(append([]byte{'"'}, e.bad...), '"')
		if out, ok := replaceValues(line, e.key, val); ok {
			return out, true
		}
	}
	return nil, false
}

// replaceValues replaces the scalar value of every `"key":` in a compact
// JSON line (strings without escaped quotes, numbers, literals). Object and
// array values are left alone.
func replaceValues(line []byte, key string, val []byte) ([]byte, bool) {
	pat := []byte(`"` + key + `":`)
	var out []byte
	rest := line
	found := false
	for {
		i := bytes.Index(rest, pat)
		if i < 0 {
			break
		}
		start := i + len(pat)
		end := scalarEnd(rest, start)
		if end < 0 {
			out = append(out, rest[:start]...)
			rest = rest[start:]
			continue
		}
		out = append(out, rest[:start]...)
		out = append(out, val...)
		rest = rest[end:]
		found = true
	}
	if !found {
		return line, false
	}
	return append(out, rest...), true
}

// scalarEnd returns the index just past the scalar value starting at i, or
// -1 when the value is an object or array.
func scalarEnd(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '{', '[':
		return -1
	case '"':
		for j := i + 1; j < len(b); j++ {
			if b[j] == '\\' {
				j++
				continue
			}
			if b[j] == '"' {
				return j + 1
			}
		}
		return -1
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' {
		j++
	}
	return j
}
