package gen

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// encoder turns payload structs into compact JSON lines. Struct fields keep
// their declared order and maps are sorted by encoding/json, so the bytes
// are deterministic. HTML escaping is off: webhook senders do not escape
// '<', '>' or '&' either.
type encoder struct {
	buf bytes.Buffer
	enc *json.Encoder
	err error
}

func newEncoder() *encoder {
	e := &encoder{}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}

// line returns v as one JSON line without the newline, in a fresh slice the
// caller may keep. Errors are sticky and reported by Generate.
func (e *encoder) line(v any) []byte {
	e.buf.Reset()
	if err := e.enc.Encode(v); err != nil {
		if e.err == nil {
			e.err = fmt.Errorf("encoding %T: %w", v, err)
		}
		return []byte("{}")
	}
	b := e.buf.Bytes()
	return bytes.Clone(b[:len(b)-1])
}
