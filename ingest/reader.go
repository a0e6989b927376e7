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

	json "github.com/goccy/go-json"
)

// Limits that keep a hostile or broken file from exhausting memory.
const (
	MaxLineBytes     = 16 << 20  // one JSON Lines line or one whole document
	MaxDocumentBytes = 256 << 20 // a whole-file JSON document or array
)

// ErrTooLarge reports input beyond the limits above.
var ErrTooLarge = errors.New("input too large")

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
func ReadStream(name string, r io.Reader, fn func(Doc) error, bad func(*ReadError)) error {
	br := bufio.NewReaderSize(r, 1<<20)
	base := strings.ToLower(name)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			bad(&ReadError{Ref: name, Reason: "not a readable gzip file: " + err.Error()})
			return nil
		}
		defer gz.Close()
		br = bufio.NewReaderSize(gz, 1<<20)
		base = strings.TrimSuffix(base, ".gz")
	}
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
	first, err := peekFirstLine(br)
	if err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	trimmed := bytes.TrimSpace(stripBOM(first))
	if len(trimmed) == 0 {
		bad(&ReadError{Ref: name, Reason: "empty file: no JSON document"})
		return nil
	}
	if trimmed[0] != '[' && json.Valid(trimmed) {
		return readLines(name, br, fn, bad)
	}
	return readWhole(name, br, fn, bad)
}

// peekFirstLine returns the first non-blank line without consuming input
// (up to MaxLineBytes).
func peekFirstLine(br *bufio.Reader) ([]byte, error) {
	for n := 4096; ; n *= 4 {
		if n > br.Size() {
			n = br.Size()
		}
		buf, err := br.Peek(n)
		rest := buf
		for len(rest) > 0 {
			i := bytes.IndexByte(rest, '\n')
			if i < 0 {
				break
			}
			if line := rest[:i]; len(bytes.TrimSpace(stripBOM(line))) > 0 {
				return line, nil
			}
			rest = rest[i+1:]
		}
		if err != nil || n == br.Size() {
			if len(bytes.TrimSpace(stripBOM(rest))) > 0 {
				return rest, nil
			}
			if err == io.EOF || err == bufio.ErrBufferFull || err == nil {
				return rest, nil
			}
			return nil, err
		}
	}
}

func readLines(name string, br *bufio.Reader, fn func(Doc) error, bad func(*ReadError)) error {
	lineNo := 0
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
		if lineNo == 1 {
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
func readWhole(name string, br *bufio.Reader, fn func(Doc) error, bad func(*ReadError)) error {
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
		return readArray(name, data, fn, bad)
	}
	if err := validJSON(data); err != nil {
		bad(&ReadError{Ref: fmt.Sprintf("%s:%d", name, lineAt(data, err.offset)), Reason: "invalid JSON: " + err.msg, Raw: data})
		return nil
	}
	return fn(Doc{Raw: bytes.TrimSpace(data), Format: FormatJSON, Ref: fmt.Sprintf("%s:%d", name, lineAt(data, start))})
}

func readArray(name string, data []byte, fn func(Doc) error, bad func(*ReadError)) error {
	var elems []json.RawMessage
	if err := validJSON(data); err != nil {
		bad(&ReadError{Ref: fmt.Sprintf("%s:%d", name, lineAt(data, err.offset)), Reason: "invalid JSON array: " + err.msg, Raw: data})
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
		if err := fn(Doc{Raw: e, Format: FormatJSON, Ref: fmt.Sprintf("%s:%d", name, lineAt(data, at))}); err != nil {
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
		line, _ := cr.FieldPos(0)
		ref := fmt.Sprintf("%s:%d", name, line)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				ref = fmt.Sprintf("%s:%d", name, pe.Line)
			}
			bad(&ReadError{Ref: ref, Reason: "unreadable CSV row: " + err.Error()})
			continue
		}
		if len(rec) != len(header) {
			bad(&ReadError{Ref: ref, Reason: fmt.Sprintf("CSV row has %d fields, header has %d", len(rec), len(header)), Raw: []byte(strings.Join(rec, ","))})
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
