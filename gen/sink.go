package gen

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
)

// sink writes one output kind as JSON Lines through a buffer, rotating to a
// new numbered file every rotate lines (0: one file). Errors are sticky: the
// first one is kept and later writes are dropped, so callers check once per
// case instead of after every line.
type sink struct {
	kind   string // output kind, the key in Result.Events
	dir    string
	base   string // file name without extension, or with "-%04d" when rotating
	rotate int
	mal    *malformer // nil: never break lines

	part      int
	partLines int
	lines     int
	f         *os.File
	w         *bufio.Writer
	files     []string
	err       error
}

func newSink(kind, dir, base string, rotate int, mal *malformer) *sink {
	return &sink{kind: kind, dir: dir, base: base, rotate: rotate, mal: mal}
}

// write appends one line (without its newline), possibly broken by the
// malformer. The first line of every file is never broken: readers decide
// from it whether a file is JSON Lines.
func (s *sink) write(line []byte) {
	if s.err != nil {
		return
	}
	if s.f == nil || (s.rotate > 0 && s.partLines >= s.rotate) {
		if err := s.open(); err != nil {
			s.err = err
			return
		}
	}
	if s.mal != nil && s.partLines > 0 {
		line = s.mal.maybe(line)
	}
	s.w.Write(line)
	if err := s.w.WriteByte('\n'); err != nil {
		s.err = fmt.Errorf("writing %s: %w", s.f.Name(), err)
	}
	s.partLines++
	s.lines++
}

func (s *sink) open() error {
	if err := s.closeFile(); err != nil {
		return err
	}
	s.part++
	name := s.base + ".jsonl"
	if s.rotate > 0 {
		name = fmt.Sprintf("%s-%04d.jsonl", s.base, s.part)
	}
	path := filepath.Join(s.dir, name)
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating output file: %w", err)
	}
	s.f, s.w, s.partLines = f, bufio.NewWriterSize(f, 256<<10), 0
	s.files = append(s.files, path)
	return nil
}

func (s *sink) closeFile() error {
	if s.f == nil {
		return nil
	}
	f := s.f
	s.f = nil
	if err := s.w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", f.Name(), err)
	}
	return nil
}

// close flushes and closes the current file. A sink that never received a
// line still creates its (empty) file, so every documented file exists.
func (s *sink) close() error {
	if s.err == nil && s.f == nil && s.part == 0 {
		s.err = s.open()
	}
	if err := s.closeFile(); err != nil && s.err == nil {
		s.err = err
	}
	return s.err
}
