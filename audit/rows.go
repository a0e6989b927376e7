package audit

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// RenderValue turns a stored value into its CSV text (README.md, "CSV
// rendering"): NULL → empty; timestamps → TimeFormat; booleans → true/false;
// integers in decimal; floats in shortest decimal form; text as is, with
// invalid UTF-8 replaced by U+FFFD and CR LF / lone CR turned into LF (so
// the text survives a round trip through any CSV reader).
func RenderValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return cleanText(x)
	case []byte:
		return cleanText(string(x))
	case time.Time:
		return FormatTime(x)
	case *time.Time:
		if x == nil {
			return ""
		}
		return FormatTime(*x)
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case int8:
		return strconv.FormatInt(int64(x), 10)
	case int16:
		return strconv.FormatInt(int64(x), 10)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint8:
		return strconv.FormatUint(uint64(x), 10)
	case uint16:
		return strconv.FormatUint(uint64(x), 10)
	case uint32:
		return strconv.FormatUint(uint64(x), 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float32:
		return formatFloat(float64(x), 32)
	case float64:
		return formatFloat(x, 64)
	case fmt.Stringer:
		return cleanText(x.String())
	}
	return cleanText(fmt.Sprint(v))
}

func formatFloat(f float64, bits int) string {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return strconv.FormatFloat(f, 'g', -1, bits)
	}
	return strconv.FormatFloat(f, 'f', -1, bits)
}

func cleanText(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, '\r') >= 0 {
		s = strings.ReplaceAll(s, "\r\n", "\n")
		s = strings.ReplaceAll(s, "\r", "\n")
	}
	return s
}

// RowJSON is the canonical JSON of one CSV row: an object with every
// column of the header as key and the cell text as a JSON string, or null
// when the cell is empty. Keys are sorted; see CanonicalJSON.
func RowJSON(header, cells []string) ([]byte, error) {
	if len(header) != len(cells) {
		return nil, fmt.Errorf("row has %d cells, header has %d columns", len(cells), len(header))
	}
	m := make(map[string]any, len(header))
	for i, h := range header {
		if cells[i] == "" {
			m[h] = nil
		} else {
			m[h] = cells[i]
		}
	}
	return CanonicalJSON(m)
}

// RowLeaf is the Merkle leaf of a CSV row of table; the event_id column
// gives the event id.
func RowLeaf(table string, header, cells []string) (Hash, error) {
	idx := -1
	for i, h := range header {
		if h == "event_id" {
			idx = i
		}
	}
	if idx < 0 {
		return Hash{}, fmt.Errorf("%s: no event_id column", table)
	}
	if len(cells) != len(header) {
		return Hash{}, fmt.Errorf("row has %d cells, header has %d columns", len(cells), len(header))
	}
	j, err := RowJSON(header, cells)
	if err != nil {
		return Hash{}, err
	}
	return LeafHash(table, cells[idx], j), nil
}

// csvWriter writes RFC 4180 CSV with LF line ends.
type csvWriter struct {
	buf bytes.Buffer
	w   *csv.Writer
}

func newCSVWriter() *csvWriter {
	c := &csvWriter{}
	c.w = csv.NewWriter(&c.buf)
	return c
}

func (c *csvWriter) write(rec []string) { _ = c.w.Write(rec) }

func (c *csvWriter) bytes() ([]byte, error) {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return nil, err
	}
	return c.buf.Bytes(), nil
}

// csvRow is one data row read back from a CSV file.
type csvRow struct {
	Line  int // 1-based line of the row's start in the file
	Cells []string
}

// readCSV parses a CSV file: header and rows. Rows whose cell count differs
// from the header's are errors.
func readCSV(b []byte) (header []string, rows []csvRow, err error) {
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	header, err = r.Read()
	if err == io.EOF {
		return nil, nil, fmt.Errorf("empty file (no header row)")
	}
	if err != nil {
		return nil, nil, err
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return header, rows, err
		}
		line, _ := r.FieldPos(0)
		if len(rec) != len(header) {
			return header, rows, fmt.Errorf("line %d has %d cells, the header has %d", line, len(rec), len(header))
		}
		rows = append(rows, csvRow{Line: line, Cells: rec})
	}
	return header, rows, nil
}
