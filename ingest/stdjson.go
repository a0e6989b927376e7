package ingest

import (
	stdjson "encoding/json"
	"errors"
)

// stdValid reports the first syntax error with the standard library's
// wording and byte offset; it is only used on the slow whole-document path.
func stdValid(data []byte) *syntaxError {
	var v any
	err := stdjson.Unmarshal(data, &v)
	if err == nil {
		return nil
	}
	var se *stdjson.SyntaxError
	if errors.As(err, &se) {
		return &syntaxError{msg: se.Error(), offset: int(se.Offset)}
	}
	return &syntaxError{msg: err.Error(), offset: len(data)}
}
