package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// SpoolRecord is one acknowledged webhook body as it is kept in the spool:
// one JSON object per line. A body that is valid JSON is kept (compacted)
// under "body"; anything else is kept exactly, base64-encoded, under
// "body_b64", so that the collector can reject it with its own words.
type SpoolRecord struct {
	ReceivedAt time.Time       `json:"received_at"`
	Endpoint   string          `json:"endpoint"`
	RequestID  string          `json:"request_id"`
	Body       json.RawMessage `json:"body,omitempty"`
	BodyB64    []byte          `json:"body_b64,omitempty"`
}

// Raw returns the body bytes a collector decodes.
func (r SpoolRecord) Raw() []byte {
	if len(r.Body) > 0 {
		return r.Body
	}
	return r.BodyB64
}

// NewSpoolRecord builds the record of one body.
func NewSpoolRecord(endpoint, requestID string, receivedAt time.Time, body []byte) SpoolRecord {
	rec := SpoolRecord{ReceivedAt: receivedAt.UTC(), Endpoint: endpoint, RequestID: requestID}
	var buf bytes.Buffer
	if json.Valid(body) && json.Compact(&buf, body) == nil && buf.Len() > 0 {
		rec.Body = buf.Bytes()
	} else {
		rec.BodyB64 = append([]byte{}, body...)
		if rec.BodyB64 == nil {
			rec.BodyB64 = []byte{}
		}
	}
	return rec
}

// Checkpoint is how far the drainer has loaded the spool into the store:
// every line before Offset in segment Segment (and every earlier segment).
type Checkpoint struct {
	Segment uint64 `json:"segment"`
	Offset  int64  `json:"offset"`
}

// Spool is the durable, append-only queue between the webhook handlers and
// the store. Handlers append a record and answer 200 only once it is
// fsynced; the drainer reads records up to the durable end, loads them and
// then advances the checkpoint (also fsynced). A crash between the load and
// the checkpoint makes the next drain load the same records again, which
// the store absorbs by event_id.
//
// Layout of the directory:
//
//	seg-00000000000000000001.jsonl   segments, appended in order
//	checkpoint.json                  {"segment":N,"offset":BYTES}
//
// A process always appends to a new segment (the last segment of a crashed
// process may end in a torn line, which was never acknowledged); a segment
// is deleted once it is drained and a later one exists.
type Spool struct {
	dir        string
	segmentMax int64

	reqs   chan *appendReq
	done   chan struct{} // closed when the writer has stopped
	notify chan struct{} // signalled after each durable append

	closeOnce sync.Once
	closing   atomic.Bool
	// sendMu lets Close wait for handlers that are handing a record over.
	sendMu sync.RWMutex

	// Written by the writer goroutine; read by the drainer under stateMu.
	stateMu   sync.Mutex
	f         *os.File
	curSeg    uint64
	curSize   int64 // durable size of the current segment
	curOpened time.Time
	writeErr  error // a failed write or fsync poisons the spool (503s)
	appended  atomic.Int64
	drained   atomic.Int64
	backlog0  int64 // undrained records found at open
	cpMu      sync.Mutex
	cp        Checkpoint
	TornLines atomic.Int64 // torn tail lines skipped in crashed segments
}

type appendReq struct {
	line   []byte
	err    chan error
	rotate bool // start a new segment (no record)
}

// ErrSpoolClosed is returned by Append after Close.
var ErrSpoolClosed = errors.New("spool is closed")

const (
	checkpointFile = "checkpoint.json"
	segPrefix      = "seg-"
	segSuffix      = ".jsonl"
	// DefaultSegmentBytes is the size after which the writer starts a new segment.
	DefaultSegmentBytes = 64 << 20
	// segmentMaxAge bounds how long raw bodies stay on disk after they are
	// drained: the writer starts a new segment at least this often, and a
	// drained segment is deleted once a later one exists.
	segmentMaxAge = time.Minute
	// groupCommitMax bounds the records written with one fsync.
	groupCommitMax = 4096
)

func segName(n uint64) string { return fmt.Sprintf("%s%020d%s", segPrefix, n, segSuffix) }

// OpenSpool opens (creating) the spool in dir and starts its writer.
func OpenSpool(dir string, segmentMax int64) (*Spool, error) {
	if segmentMax <= 0 {
		segmentMax = DefaultSegmentBytes
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("creating spool directory: %w", err)
	}
	s := &Spool{dir: dir, segmentMax: segmentMax, reqs: make(chan *appendReq, 1024),
		done: make(chan struct{}), notify: make(chan struct{}, 1)}
	segs, err := s.segments()
	if err != nil {
		return nil, err
	}
	cp, ok, err := readCheckpoint(dir)
	if err != nil {
		return nil, err
	}
	if !ok {
		cp = Checkpoint{Segment: 1}
		if len(segs) > 0 {
			cp.Segment = segs[0]
		}
	}
	// Segments before the checkpoint were drained; a crash kept them.
	var last uint64
	for _, n := range segs {
		if n < cp.Segment {
			if err := os.Remove(filepath.Join(dir, segName(n))); err != nil {
				return nil, err
			}
			continue
		}
		last = n
		// Count the undrained records for the lag gauge.
		from := int64(0)
		if n == cp.Segment {
			from = cp.Offset
		}
		c, err := countLines(filepath.Join(dir, segName(n)), from)
		if err != nil {
			return nil, err
		}
		s.backlog0 += c
	}
	s.cp = cp
	next := max(last+1, cp.Segment)
	if err := s.openSegment(next); err != nil {
		return nil, err
	}
	go s.writer()
	return s, nil
}

func countLines(path string, from int64) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return 0, err
	}
	var n int64
	buf := make([]byte, 1<<20)
	for {
		k, err := f.Read(buf)
		n += int64(bytes.Count(buf[:k], []byte{'\n'}))
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// segments lists the segment numbers in the directory, ascending.
func (s *Spool) segments() ([]uint64, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var out []uint64
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, segPrefix) || !strings.HasSuffix(name, segSuffix) {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(name, segPrefix), segSuffix), 10, 64)
		if err != nil {
			continue
		}
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// openSegment creates segment n and makes its directory entry durable.
func (s *Spool) openSegment(n uint64) error {
	f, err := os.OpenFile(filepath.Join(s.dir, segName(n)), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("creating spool segment: %w", err)
	}
	if err := syncDir(s.dir); err != nil {
		f.Close()
		return err
	}
	s.stateMu.Lock()
	old := s.f
	s.f, s.curSeg, s.curSize, s.curOpened = f, n, 0, time.Now()
	s.stateMu.Unlock()
	if old != nil {
		return old.Close()
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing spool directory: %w", err)
	}
	return nil
}

// Append writes rec durably: it returns nil only once the record is on
// disk (fsynced). Concurrent appends share one write and one fsync.
func (s *Spool) Append(rec SpoolRecord) error {
	line, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	req := &appendReq{line: line, err: make(chan error, 1)}
	s.sendMu.RLock()
	if s.closing.Load() {
		s.sendMu.RUnlock()
		return ErrSpoolClosed
	}
	s.reqs <- req
	s.sendMu.RUnlock()
	return <-req.err
}

// writer is the single goroutine that writes the spool (group commit).
func (s *Spool) writer() {
	defer close(s.done)
	var buf bytes.Buffer
	batch := make([]*appendReq, 0, 64)
	for first := range s.reqs {
		if first.rotate {
			s.rotateIfUsed(0)
			continue
		}
		batch = append(batch[:0], first)
	more:
		for len(batch) < groupCommitMax {
			select {
			case r, ok := <-s.reqs:
				if !ok {
					break more
				}
				if r.rotate {
					continue // the batch is about to be written anyway
				}
				batch = append(batch, r)
			default:
				break more
			}
		}
		buf.Reset()
		for _, r := range batch {
			buf.Write(r.line)
		}
		err := s.commit(buf.Bytes())
		for _, r := range batch {
			r.err <- err
		}
		if err == nil {
			s.appended.Add(int64(len(batch)))
			select {
			case s.notify <- struct{}{}:
			default:
			}
		}
	}
	s.stateMu.Lock()
	if s.f != nil {
		s.f.Close()
	}
	s.stateMu.Unlock()
}

// commit writes and fsyncs b, then publishes the new durable end.
func (s *Spool) commit(b []byte) error {
	s.stateMu.Lock()
	f, werr := s.f, s.writeErr
	s.stateMu.Unlock()
	if werr != nil {
		return werr
	}
	_, err := f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		// The file may now hold part of a line: stop using it. The next
		// process starts a new segment and skips the torn tail.
		s.stateMu.Lock()
		s.writeErr = fmt.Errorf("writing the spool: %w", err)
		s.stateMu.Unlock()
		return s.writeErr
	}
	s.stateMu.Lock()
	s.curSize += int64(len(b))
	full := s.curSize >= s.segmentMax
	s.stateMu.Unlock()
	if full {
		s.rotateIfUsed(0)
	} else {
		s.rotateIfUsed(segmentMaxAge)
	}
	return nil
}

// rotateIfUsed starts a new segment when the current one holds records and
// is at least minAge old. Writer goroutine only.
func (s *Spool) rotateIfUsed(minAge time.Duration) {
	s.stateMu.Lock()
	used := s.curSize > 0 && time.Since(s.curOpened) >= minAge && s.writeErr == nil
	next := s.curSeg + 1
	s.stateMu.Unlock()
	if !used {
		return
	}
	if err := s.openSegment(next); err != nil {
		s.stateMu.Lock()
		s.writeErr = err
		s.stateMu.Unlock()
	}
}

// RequestRotate asks the writer to start a new segment if the current one
// holds records, so that drained bodies can be deleted soon.
func (s *Spool) RequestRotate() {
	s.sendMu.RLock()
	defer s.sendMu.RUnlock()
	if s.closing.Load() {
		return
	}
	select {
	case s.reqs <- &appendReq{rotate: true}:
	default:
	}
}

// Close stops accepting records, waits for the writer to finish what it
// was handed, and closes the segment.
func (s *Spool) Close() {
	s.closeOnce.Do(func() {
		s.closing.Store(true)
		s.sendMu.Lock() // no handler is between the check and the send
		close(s.reqs)
		s.sendMu.Unlock()
		<-s.done
	})
}

// Retire deletes the last segment after Close when it is fully drained,
// so that no raw body outlives a clean shutdown.
func (s *Spool) Retire() error {
	if !s.closing.Load() {
		return errors.New("spool: Retire before Close")
	}
	cur, size := s.durableEnd()
	if s.Checkpoint() != (Checkpoint{Segment: cur, Offset: size}) {
		return nil
	}
	return s.commitCheckpoint(Checkpoint{Segment: cur + 1}, 0)
}

// Notify is signalled after records were made durable.
func (s *Spool) Notify() <-chan struct{} { return s.notify }

// Checkpoint returns how far the spool has been drained.
func (s *Spool) Checkpoint() Checkpoint {
	s.cpMu.Lock()
	defer s.cpMu.Unlock()
	return s.cp
}

func readCheckpoint(dir string) (Checkpoint, bool, error) {
	b, err := os.ReadFile(filepath.Join(dir, checkpointFile))
	if errors.Is(err, os.ErrNotExist) {
		return Checkpoint{}, false, nil
	}
	if err != nil {
		return Checkpoint{}, false, err
	}
	var cp Checkpoint
	if err := json.Unmarshal(b, &cp); err != nil {
		return Checkpoint{}, false, fmt.Errorf("reading spool checkpoint %s: %w", filepath.Join(dir, checkpointFile), err)
	}
	return cp, true, nil
}

// commitCheckpoint makes cp durable (write, fsync, rename, fsync dir) and
// deletes segments that are now fully drained.
func (s *Spool) commitCheckpoint(cp Checkpoint, drainedRecords int) error {
	tmp := filepath.Join(s.dir, checkpointFile+".tmp")
	b, _ := json.Marshal(cp)
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(s.dir, checkpointFile)); err != nil {
		return err
	}
	if err := syncDir(s.dir); err != nil {
		return err
	}
	s.cpMu.Lock()
	old := s.cp
	s.cp = cp
	s.cpMu.Unlock()
	s.drained.Add(int64(drainedRecords))
	for n := old.Segment; n < cp.Segment; n++ {
		if err := os.Remove(filepath.Join(s.dir, segName(n))); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// durableEnd returns the current segment and its durable size.
func (s *Spool) durableEnd() (uint64, int64) {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	return s.curSeg, s.curSize
}

// Err reports a write failure that stopped the spool.
func (s *Spool) Err() error {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	return s.writeErr
}

// Lag returns the bytes and records acknowledged but not yet drained.
func (s *Spool) Lag() (bytes int64, records int64) {
	cp := s.Checkpoint()
	cur, size := s.durableEnd()
	for n := cp.Segment; n <= cur; n++ {
		var sz int64
		if n == cur {
			sz = size
		} else if fi, err := os.Stat(filepath.Join(s.dir, segName(n))); err == nil {
			sz = fi.Size()
		}
		if n == cp.Segment {
			sz -= cp.Offset
		}
		bytes += max(sz, 0)
	}
	records = s.backlog0 + s.appended.Load() - s.drained.Load()
	return bytes, max(records, 0)
}

// Acknowledged counts the records made durable by this process.
func (s *Spool) Acknowledged() int64 { return s.appended.Load() }

// batch is a run of whole lines read from the spool.
type batch struct {
	records []SpoolRecord
	bad     []badLine // lines that do not parse (torn or corrupt)
	next    Checkpoint
	lines   int
}

type badLine struct {
	ref  string
	raw  []byte
	err  error
	torn bool
}

// readBatch reads whole lines after the checkpoint, up to about maxBytes
// (at least one line), never past the durable end. ok is false when there
// is nothing to drain.
func (s *Spool) readBatch(maxBytes int64) (batch, bool, error) {
	cp := s.Checkpoint()
	for {
		cur, size := s.durableEnd()
		sealed := cp.Segment < cur
		path := filepath.Join(s.dir, segName(cp.Segment))
		limit := size
		if sealed {
			fi, err := os.Stat(path)
			if errors.Is(err, os.ErrNotExist) {
				// A gap (segment creation interrupted): move on.
				cp = Checkpoint{Segment: cp.Segment + 1}
				return batch{next: cp}, true, nil
			}
			if err != nil {
				return batch{}, false, err
			}
			limit = fi.Size()
		}
		if cp.Offset >= limit {
			if !sealed {
				return batch{}, false, nil
			}
			// Drained to the end of a sealed segment: advance.
			return batch{next: Checkpoint{Segment: cp.Segment + 1}}, true, nil
		}
		want := min(limit-cp.Offset, max(maxBytes, 1))
		f, err := os.Open(path)
		if err != nil {
			return batch{}, false, err
		}
		buf := make([]byte, want)
		n, err := f.ReadAt(buf, cp.Offset)
		if err != nil && err != io.EOF {
			f.Close()
			return batch{}, false, err
		}
		buf = buf[:n]
		cut := bytes.LastIndexByte(buf, '\n')
		for cut < 0 && cp.Offset+int64(len(buf)) < limit {
			// One line longer than maxBytes: read on until its end.
			more := make([]byte, min(limit-cp.Offset-int64(len(buf)), 1<<20))
			k, err := f.ReadAt(more, cp.Offset+int64(len(buf)))
			if err != nil && err != io.EOF {
				f.Close()
				return batch{}, false, err
			}
			if i := bytes.IndexByte(more[:k], '\n'); i >= 0 {
				cut = len(buf) + i
			}
			buf = append(buf, more[:k]...)
		}
		f.Close()
		var b batch
		if cut < 0 {
			if !sealed {
				// Cannot happen (the durable end is a line end); wait.
				return batch{}, false, nil
			}
			// A torn tail left by a crash: never acknowledged.
			s.TornLines.Add(1)
			b.bad = append(b.bad, badLine{ref: fmt.Sprintf("%s@%d", segName(cp.Segment), cp.Offset), raw: buf,
				err: errors.New("torn spool line (written when the process stopped; never acknowledged)"), torn: true})
			b.next = Checkpoint{Segment: cp.Segment + 1}
			return b, true, nil
		}
		data := buf[:cut+1]
		off := cp.Offset
		for len(data) > 0 {
			i := bytes.IndexByte(data, '\n')
			line := data[:i]
			var rec SpoolRecord
			if err := json.Unmarshal(line, &rec); err != nil {
				b.bad = append(b.bad, badLine{ref: fmt.Sprintf("%s@%d", segName(cp.Segment), off), raw: append([]byte{}, line...), err: err})
			} else {
				b.records = append(b.records, rec)
			}
			b.lines++
			off += int64(i + 1)
			data = data[i+1:]
		}
		b.next = Checkpoint{Segment: cp.Segment, Offset: off}
		return b, true, nil
	}
}
