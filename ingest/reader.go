package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	json "github.com/goccy/go-json"
)

// Limits that keep a hostile or broken file from exhausting memory.
const (
	MaxLineBytes     = 16 << 20  // one JSON Lines line or one whole document
	MaxDocumentBytes = 256 << 20 // a whole-file JSON document or array
)

// ErrTooLarge reports input beyond the limits above.
var ErrTooLarge = errors.New("input too large")

// Decompression limits, so that a small .gz cannot expand without bound (a
// "gzip bomb"): a file may decompress to at most MaxDecompressedBytes, and
// past the first 64 MiB to at most MaxCompressionRatio times the
// compressed bytes read so far. Real JSON compresses 5–30:1.
var (
	MaxDecompressedBytes int64 = 4 << 30
	MaxCompressionRatio  int64 = 200
)

const ratioFloorBytes = 64 << 20

// ListFiles expands paths: files as given, directories recursively in name
// order. Hidden files and directories (".name") are skipped.
func ListFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("reading input %s: %w", p, err)
		}
		if !info.IsDir() {
			out = append(out, p)
			continue
		}
		var files []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if path != p && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("listing directory %s: %w", p, err)
		}
		sort.Strings(files)
		out = append(out, files...)
	}
	return out, nil
}

// ReadError is a problem with part of a file; the reader reports it and
// goes on with the rest when it can.
type ReadError struct {
	Ref    string
	Reason string
	Raw    []byte
}

func (e *ReadError) Error() string { return e.Ref + ": " + e.Reason }

// ReadFile splits one file into documents and calls fn for each, in order.
// Problems with part of the file go to bad (the rest is still read).
// gzip is recognised by its magic bytes; CSV by the .csv extension (after
// stripping .gz); form bodies by .form; everything else is JSON: a single
// document, an array of documents, or JSON Lines.
func ReadFile(path string, fn func(Doc) error, bad func(*ReadError)) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("opening %s: %w", path, err)
	}
	defer f.Close()
	return ReadStream(path, f, fn, bad)
}

// ReadStream is ReadFile on an open stream; name gives the format and the
// reference printed with each document.
//
// A .gz that is corrupt, truncated or expands beyond the decompression
// limits becomes one reject for the rest of the file (the documents read
// before the problem are kept).
func ReadStream(name string, r io.Reader, fn func(Doc) error, bad func(*ReadError)) error {
	in := &countingReader{r: r}
	br := bufio.NewReaderSize(in, 1<<20)
	base := strings.ToLower(name)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			bad(&ReadError{Ref: name, Reason: "not a readable gzip file: " + err.Error()})
			return nil
		}
		defer gz.Close()
		br = bufio.NewReaderSize(&gunzipReader{gz: gz, in: in}, 1<<20)
		base = strings.TrimSuffix(base, ".gz")
	}
	if bom, _ := br.Peek(2); len(bom) == 2 && (bom[0] == 0xff && bom[1] == 0xfe || bom[0] == 0xfe && bom[1] == 0xff) {
		bad(&ReadError{Ref: name, Reason: "file is UTF-16 (it starts with a UTF-16 byte order mark); closedloop reads UTF-8: convert it first, e.g. iconv -f UTF-16 -t UTF-8"})
		return nil
	}
	err := readDocs(name, base, br, fn, bad)
	var de *DecompressError
	if errors.As(err, &de) {
		bad(&ReadError{Ref: name, Reason: de.Error()})
		return nil
	}
	return err
}

// DecompressError stops reading a .gz: its data is corrupt or truncated,
// or it expands beyond the decompression limits.
type DecompressError struct {
	Reason string
	// At is the number of decompressed bytes read before the problem.
	At int64
}

func (e *DecompressError) Error() string {
	return fmt.Sprintf("%s (after %d decompressed bytes; the rest of the file is not read)", e.Reason, e.At)
}

// countingReader counts the bytes read from the file.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// gunzipReader enforces the decompression limits and marks gzip errors
// as DecompressError (a problem with the content, not the file system).
type gunzipReader struct {
	gz  *gzip.Reader
	in  *countingReader
	out int64
	err error
}

func (g *gunzipReader) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.gz.Read(p)
	g.out += int64(n)
	switch {
	case g.out > MaxDecompressedBytes:
		g.err = &DecompressError{Reason: fmt.Sprintf("gzip data expands beyond the %d MiB limit", MaxDecompressedBytes>>20), At: g.out}
	case g.out > ratioFloorBytes && g.out > MaxCompressionRatio*g.in.n:
		g.err = &DecompressError{Reason: fmt.Sprintf("gzip data expands more than %d:1 (%d bytes from %d; a gzip bomb?)", MaxCompressionRatio, g.out, g.in.n), At: g.out}
	case err != nil && err != io.EOF:
		reason := "corrupt gzip data: " + err.Error()
		if errors.Is(err, io.ErrUnexpectedEOF) {
			reason = "truncated gzip file: " + err.Error()
		}
		g.err = &DecompressError{Reason: reason, At: g.out}
	default:
		return n, err
	}
	return n, g.err
}

func readDocs(name, base string, br *bufio.Reader, fn func(Doc) error, bad func(*ReadError)) error {
	switch {
	case strings.HasSuffix(base, ".csv"):
		return readCSV(name, br, fn, bad)
	case strings.HasSuffix(base, ".form"):
		b, err := io.ReadAll(io.LimitReader(br, MaxLineBytes+1))
		if err != nil {
			return fmt.Errorf("reading %s: %w", name, err)
		}
		if len(b) > MaxLineBytes {
			bad(&ReadError{Ref: name, Reason: "form body larger than 16 MiB"})
			return nil
		}
		b = bytes.TrimSpace(stripBOM(b))
		if len(b) == 0 {
			bad(&ReadError{Ref: name, Reason: "empty file"})
			return nil
		}
		return fn(Doc{Raw: b, Format: FormatForm, Ref: name + ":1"})
	}
	return readJSON(name, br, fn, bad)
}

func stripBOM(b []byte) []byte { return bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) }

// readJSON decides between JSON Lines and a whole-file document by looking
// at the first non-blank line: if it is a complete JSON value on its own,
// the file is JSON Lines (so one bad line rejects only that line).
func readJSON(name string, br *bufio.Reader, fn func(Doc) error, bad func(*ReadError)) error {
	first, skipped, err := peekFirstLine(br)
	if err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	trimmed := bytes.TrimSpace(stripBOM(first))
	if len(trimmed) == 0 {
		bad(&ReadError{Ref: name, Reason: "empty file: no JSON document"})
		return nil
	}
	if trimmed[0] != '[' && json.Valid(trimmed) {
		return readLines(name, br, fn, bad, skipped)
	}
	return readWhole(name, br, fn, bad, skipped)
}

// peekFirstLine returns the first non-blank line without consuming it (up
// to the buffer's size). Blank lines before it are consumed, however many
// there are, and counted in skipped.
func peekFirstLine(br *bufio.Reader) (line []byte, skipped int, err error) {
	for n := 4096; ; n *= 4 {
		if n > br.Size() {
			n = br.Size()
		}
		buf, err := br.Peek(n)
		rest := buf
		lines := 0
		for len(rest) > 0 {
			i := bytes.IndexByte(rest, '\n')
			if i < 0 {
				break
			}
			if line := rest[:i]; len(bytes.TrimSpace(stripBOM(line))) > 0 {
				return line, skipped, nil
			}
			rest = rest[i+1:]
			lines++
		}
		if err != nil || n == br.Size() {
			if len(bytes.TrimSpace(stripBOM(rest))) > 0 {
				return rest, skipped, nil
			}
			if err == nil || err == bufio.ErrBufferFull {
				// A buffer full of blank lines: drop them and look further.
				if _, err := br.Discard(len(buf) - len(rest)); err != nil {
					return nil, skipped, err
				}
				skipped += lines
				if lines == 0 {
					// One blank line longer than the buffer.
					if _, err := br.Discard(len(rest)); err != nil {
						return nil, skipped, err
					}
				}
				n = 4096 / 4
				continue
			}
			if err == io.EOF {
				return rest, skipped, nil
			}
			return nil, skipped, err
		}
	}
}

func readLines(name string, br *bufio.Reader, fn func(Doc) error, bad func(*ReadError), skipped int) error {
	lineNo := skipped
	for {
		line, err := readLine(br)
		if len(line) > 0 || err == nil {
			lineNo++
		}
		if errors.Is(err, ErrTooLarge) {
			bad(&ReadError{Ref: fmt.Sprintf("%s:%d", name, lineNo), Reason: "line longer than 16 MiB", Raw: line[:256]})
			if err = skipLine(br); err != nil && err != io.EOF {
				return fmt.Errorf("reading %s: %w", name, err)
			}
			continue
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("reading %s line %d: %w", name, lineNo, err)
		}
		if lineNo == skipped+1 {
			line = stripBOM(line)
		}
		t := bytes.TrimSpace(line)
		if len(t) > 0 {
			if ferr := fn(Doc{Raw: t, Format: FormatJSON, Ref: fmt.Sprintf("%s:%d", name, lineNo)}); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}

// readLine returns one line without its newline. The returned slice is
// owned by the caller.
func readLine(br *bufio.Reader) ([]byte, error) {
	var out []byte
	for {
		chunk, err := br.ReadSlice('\n')
		out = append(out, chunk...)
		if len(out) > MaxLineBytes {
			return out, ErrTooLarge
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == nil {
			out = out[:len(out)-1]
		}
		return out, err
	}
}

func skipLine(br *bufio.Reader) error {
	for {
		_, err := br.ReadSlice('\n')
		if err != bufio.ErrBufferFull {
			return err
		}
	}
}

// readWhole reads a file holding one JSON document or an array of them.
func readWhole(name string, br *bufio.Reader, fn func(Doc) error, bad func(*ReadError), skipped int) error {
	data, err := io.ReadAll(io.LimitReader(br, MaxDocumentBytes+1))
	if err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	if len(data) > MaxDocumentBytes {
		bad(&ReadError{Ref: name, Reason: "JSON document larger than 256 MiB (use JSON Lines for large inputs)"})
		return nil
	}
	data = stripBOM(data)
	start := skipSpace(data, 0)
	if start < len(data) && data[start] == '[' {
		return readArray(name, data, fn, bad, skipped)
	}
	if err := validJSON(data); err != nil {
		bad(&ReadError{Ref: fmt.Sprintf("%s:%d", name, skipped+lineAt(data, err.offset)), Reason: "invalid JSON: " + err.msg, Raw: data})
		return nil
	}
	return fn(Doc{Raw: bytes.TrimSpace(data), Format: FormatJSON, Ref: fmt.Sprintf("%s:%d", name, skipped+lineAt(data, start))})
}

func readArray(name string, data []byte, fn func(Doc) error, bad func(*ReadError), skipped int) error {
	var elems []json.RawMessage
	if err := validJSON(data); err != nil {
		bad(&ReadError{Ref: fmt.Sprintf("%s:%d", name, skipped+lineAt(data, err.offset)), Reason: "invalid JSON array: " + err.msg, Raw: data})
		return nil
	}
	if err := json.Unmarshal(data, &elems); err != nil {
		bad(&ReadError{Ref: name, Reason: "invalid JSON array: " + err.Error(), Raw: data})
		return nil
	}
	// Find each element's line by searching forward for its bytes.
	pos := skipSpace(data, 0) + 1
	for _, e := range elems {
		e = bytes.TrimSpace(e)
		at := pos
		if i := bytes.Index(data[pos:], e[:min(len(e), 64)]); i >= 0 {
			at = pos + i
			pos = at + len(e)
		}
		if err := fn(Doc{Raw: e, Format: FormatJSON, Ref: fmt.Sprintf("%s:%d", name, skipped+lineAt(data, at))}); err != nil {
			return err
		}
	}
	return nil
}

type syntaxError struct {
	msg    string
	offset int
}

// validJSON checks syntax with the standard library's messages and offsets,
// which name the problem precisely ("invalid character '}' ...").
func validJSON(data []byte) *syntaxError {
	if err := stdValid(data); err != nil {
		return err
	}
	return nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

func lineAt(data []byte, offset int) int {
	if offset > len(data) {
		offset = len(data)
	}
	if offset < 0 {
		offset = 0
	}
	return bytes.Count(data[:offset], []byte("\n")) + 1
}

// readCSV turns each row into a JSON object keyed by the header row.
func readCSV(name string, br *bufio.Reader, fn func(Doc) error, bad func(*ReadError)) error {
	if b, _ := br.Peek(3); bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err == io.EOF {
		bad(&ReadError{Ref: name, Reason: "empty CSV file: no header row"})
		return nil
	}
	var pe *csv.ParseError
	if err != nil && !errors.As(err, &pe) {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	if err != nil {
		bad(&ReadError{Ref: name + ":1", Reason: "unreadable CSV header: " + err.Error()})
		return nil
	}
	for i := range header {
		header[i] = strings.TrimSpace(header[i])
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if !errors.As(err, &pe) {
				// Not the row's syntax but the stream: reading on would
				// get the same error forever.
				return fmt.Errorf("reading %s: %w", name, err)
			}
			// (FieldPos is only defined for a row that was read.)
			bad(&ReadError{Ref: fmt.Sprintf("%s:%d", name, pe.StartLine), Reason: "unreadable CSV row: " + err.Error()})
			continue
		}
		line, _ := cr.FieldPos(0)
		ref := fmt.Sprintf("%s:%d", name, line)
		if len(rec) != len(header) {
			bad(&ReadError{Ref: ref, Reason: fmt.Sprintf("CSV row has %d fields, header has %d", len(rec), len(header)), Raw: csvRaw(header, rec)})
			continue
		}
		if col := invalidUTF8Field(rec); col >= 0 {
			bad(&ReadError{Ref: ref, Reason: fmt.Sprintf("invalid UTF-8 in column %q", header[col]), Raw: csvRaw(header, rec)})
			continue
		}
		obj := make(map[string]string, len(header))
		for i, h := range header {
			obj[h] = rec[i]
		}
		raw, err := json.Marshal(obj)
		if err != nil {
			return fmt.Errorf("encoding CSV row %s: %w", ref, err)
		}
		if err := fn(Doc{Raw: raw, Format: FormatJSON, Ref: ref, CSV: true}); err != nil {
			return err
		}
	}
}

// invalidUTF8Field returns the index of the first field that is not valid
// UTF-8, or -1.
func invalidUTF8Field(rec []string) int {
	for i, f := range rec {
		if !utf8.ValidString(f) {
			return i
		}
	}
	return -1
}

// csvRaw renders a row whose field count does not match the header as a
// JSON object of the fields it has (the extra ones under "_extra"), so
// that the copy kept with the reject names its columns (and customer ids
// in it can be pseudonymised like any other).
func csvRaw(header, rec []string) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, v := range rec {
		if i > 0 {
			b.WriteByte(',')
		}
		key := fmt.Sprintf("_extra%d", i-len(header)+1)
		if i < len(header) {
			key = header[i]
		}
		k, _ := json.Marshal(key)
		val, _ := json.Marshal(v)
		b.Write(k)
		b.WriteByte(':')
		b.Write(val)
	}
	b.WriteByte('}')
	return b.Bytes()
}
