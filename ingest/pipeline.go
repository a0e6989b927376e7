package ingest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/closedloop/closedloop/models"
	"github.com/closedloop/closedloop/pii"
)

// Loader is where the pipeline writes: a store that deduplicates on event_id.
type Loader interface {
	// Load writes records (rejects included) and returns how many rows each
	// table really gained (duplicates of stored events add nothing).
	Load(ctx context.Context, recs []models.Record) (map[models.Table]int, error)
}

// Options configure one ingest run.
type Options struct {
	// Source is a collector name, or "auto" (or empty) to recognise each document.
	Source string
	Env    *Env
	Loader Loader
	// BatchRecords is the records per commit (default 500 000, or
	// $CLOSEDLOOP_INGEST_BATCH_RECORDS): a crash redoes at most that much.
	// Records are held and loaded in parts of at most PartRecords; a
	// loader that is not a PartLoader commits every part.
	BatchRecords int
	// Workers decoding in parallel (default: number of CPUs).
	Workers int
	// Progress, when set, is told the bytes done per file.
	Progress ProgressFunc

	// futureLimit is the latest event time accepted (see MaxFuture).
	futureLimit time.Time
}

// ProgressFunc receives the current file, its index and the total count.
type ProgressFunc func(file string, index, total int)

// Summary counts what a run did.
type Summary struct {
	Files      int
	Documents  int
	Records    int                  // records produced by the collectors
	Ingested   map[models.Table]int // new rows stored
	Duplicates int                  // records already in the store
	Rejected   int
	Skipped    map[string]int // unused documents by kind
	ByFile     []FileSummary
	// Unchanged counts files skipped whole: a checkpoint says they were
	// loaded completely and their fingerprint has not changed.
	Unchanged int
	// Resumed counts documents not read again because a checkpoint says
	// an interrupted run had loaded them.
	Resumed int
}

// FileSummary is one file's share of a run.
type FileSummary struct {
	Path      string
	Documents int
	Records   int
	Rejected  int
	// Unchanged is set when the file was skipped whole (see Summary.Unchanged).
	Unchanged bool
	// Resumed counts leading documents skipped after an interrupted run.
	Resumed int
}

// TotalIngested sums new rows over the event tables (rejects excluded).
func (s Summary) TotalIngested() int {
	n := 0
	for t, c := range s.Ingested {
		if t != models.TableRejects {
			n += c
		}
	}
	return n
}

// String is the one-line summary printed after a run.
func (s Summary) String() string {
	var skipped []string
	for k, v := range s.Skipped {
		skipped = append(skipped, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(skipped)
	line := fmt.Sprintf("ingested %d, rejected %d (files %d, documents %d, duplicates %d", s.TotalIngested(), s.Rejected, s.Files, s.Documents, s.Duplicates)
	if len(skipped) > 0 {
		line += ", skipped " + strings.Join(skipped, " ")
	}
	if s.Resumed > 0 {
		line += fmt.Sprintf(", resumed after %d documents already loaded", s.Resumed)
	}
	if s.Unchanged > 0 {
		line += fmt.Sprintf(", unchanged files skipped: %d", s.Unchanged)
	}
	return line + ")"
}

const chunkDocs = 512

type chunk struct {
	seq  int
	docs []Doc
	// bad holds read errors found before this chunk's documents, in order.
	bad  []*ReadError
	out  []models.Record
	skip map[string]int
	nrej int
}

// items counts the chunk's place in the file's sequence of documents and
// unreadable parts (what a checkpoint's DocsDone counts).
func (c *chunk) items() int64 { return int64(len(c.docs) + len(c.bad)) }

// Run ingests every file under paths. Per-document problems become rejects;
// only problems with the store or the file system stop the run.
func Run(ctx context.Context, opt Options, paths []string) (Summary, error) {
	sum := Summary{Ingested: map[models.Table]int{}, Skipped: map[string]int{}}
	files, err := ListFiles(paths)
	if err != nil {
		return sum, err
	}
	var forced Collector
	if opt.Source != "" && opt.Source != "auto" {
		c, ok := Lookup(opt.Source)
		if !ok {
			return sum, fmt.Errorf("unknown source %q (known: auto, %s)", opt.Source, strings.Join(Names(), ", "))
		}
		forced = c
	}
	if opt.BatchRecords <= 0 {
		opt.BatchRecords = defaultBatchRecords()
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.NumCPU()
	}
	if opt.Env.Now.IsZero() {
		opt.Env.Now = time.Now()
	}
	opt.futureLimit = futureLimit(opt.Env.Now)
	source := opt.Source
	if source == "" {
		source = "auto"
	}
	cpl, _ := opt.Loader.(CheckpointLoader)
	for i, f := range files {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		if opt.Progress != nil {
			opt.Progress(f, i, len(files))
		}
		var cp *FileCheckpoint
		if cpl != nil {
			fp, err := Fingerprint(f)
			if err != nil {
				return sum, err
			}
			fp.Source = source
			stored, ok, err := cpl.FileCheckpoint(ctx, fp.Path, source)
			if err != nil {
				return sum, fmt.Errorf("reading the checkpoint of %s: %w", f, err)
			}
			if ok && stored.SameFile(fp) {
				if stored.Completed {
					sum.ByFile = append(sum.ByFile, FileSummary{Path: f, Unchanged: true})
					sum.Files++
					sum.Unchanged++
					continue
				}
				fp.DocsDone = stored.DocsDone
			}
			cp = &fp
		}
		fs, err := runFile(ctx, opt, forced, f, cp, &sum)
		sum.ByFile = append(sum.ByFile, fs)
		sum.Files++
		if err != nil {
			return sum, err
		}
	}
	if opt.Progress != nil {
		opt.Progress("", len(files), len(files))
	}
	return sum, nil
}

// runFile reads, decodes and loads one file. With a checkpoint (cp not
// nil), the first cp.DocsDone items are passed over without decoding, and
// every load stores how many items it completes.
func runFile(ctx context.Context, opt Options, forced Collector, path string, cp *FileCheckpoint, sum *Summary) (FileSummary, error) {
	fsum := FileSummary{Path: path}
	var skip, itemsDone int64
	if cp != nil {
		skip, itemsDone = cp.DocsDone, cp.DocsDone
		fsum.Resumed = int(skip)
		sum.Resumed += int(skip)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	jobs := make(chan *chunk, opt.Workers*2)
	done := make(chan *chunk, opt.Workers*2)
	var wg sync.WaitGroup
	for w := 0; w < opt.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range jobs {
				decodeChunk(opt, forced, c)
				select {
				case done <- c:
				case <-ctx.Done():
					return
				}
			}
		}()
	}

	readErr := make(chan error, 1)
	go func() {
		defer close(jobs)
		seq := 0
		cur := &chunk{}
		send := func() bool {
			cur.seq = seq
			seq++
			select {
			case jobs <- cur:
			case <-ctx.Done():
				return false
			}
			cur = &chunk{}
			return true
		}
		var item int64
		err := ReadFile(path, func(d Doc) error {
			if item++; item <= skip {
				return nil // loaded by an interrupted run
			}
			cur.docs = append(cur.docs, d)
			if len(cur.docs) >= chunkDocs && !send() {
				return ctx.Err()
			}
			return nil
		}, func(re *ReadError) {
			if item++; item <= skip {
				return
			}
			// A read error belongs after the documents already queued.
			if len(cur.docs) > 0 && !send() {
				return
			}
			cur.bad = append(cur.bad, re)
		})
		if err == nil && (len(cur.docs) > 0 || len(cur.bad) > 0) {
			send()
		}
		readErr <- err
	}()
	go func() { wg.Wait(); close(done) }()

	// Reassemble chunks in file order into bounded parts. A loader
	// goroutine writes each part while the next one is decoded, so the
	// store and the decoders work at the same time; at most two parts are
	// held (one loading, one filling). A PartLoader commits every
	// BatchRecords records and at the end of the file; other loaders
	// commit every part.
	part := opt.BatchRecords
	_, parts := opt.Loader.(PartLoader)
	parts = parts && cp != nil
	if parts || part > PartRecords {
		part = min(part, PartRecords)
	}
	sinceCommit := 0
	type loadJob struct {
		recs     []models.Record
		docsDone int64
		final    bool
		commit   bool
	}
	loads := make(chan loadJob)
	loaderDone := make(chan error, 1)
	go func() {
		var lerr error
		for j := range loads {
			if lerr != nil {
				continue // drain: the writer stops sending soon
			}
			if lerr = load(ctx, opt, cp, path, j.recs, j.docsDone, j.final, j.commit, sum); lerr != nil {
				cancel()
			}
		}
		loaderDone <- lerr
	}()
	pending := map[int]*chunk{}
	next := 0
	var batch []models.Record
	send := func(final, last bool) {
		// The file's last part commits whatever is pending; a complete
		// file stores its checkpoint even when it adds no rows.
		if len(batch) == 0 && (cp == nil || !final) && !(last && sinceCommit > 0) {
			return
		}
		sinceCommit += len(batch)
		commit := !parts || last || sinceCommit >= opt.BatchRecords
		if commit {
			sinceCommit = 0
		}
		loads <- loadJob{recs: batch, docsDone: itemsDone, final: final, commit: commit}
		batch = make([]models.Record, 0, part+chunkDocs*4)
	}
	for c := range done {
		pending[c.seq] = c
		for {
			c, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			itemsDone += c.items()
			fsum.Documents += len(c.docs)
			fsum.Rejected += c.nrej
			for k, v := range c.skip {
				sum.Skipped[k] += v
			}
			for _, r := range c.out {
				if r.Table() != models.TableRejects {
					fsum.Records++
				}
			}
			if ctx.Err() == nil {
				batch = append(batch, c.out...)
				// Batches end between chunks, so between documents.
				if len(batch) >= part {
					send(false, false)
				}
			}
		}
	}
	rerr := <-readErr
	if ctx.Err() == nil {
		// The file is complete when it was read to its end and every chunk
		// reached the batch.
		send(rerr == nil && len(pending) == 0, true)
	}
	close(loads)
	loadErr := <-loaderDone
	sum.Documents += fsum.Documents
	sum.Records += fsum.Records
	sum.Rejected += fsum.Rejected
	if loadErr != nil {
		return fsum, loadErr
	}
	if rerr != nil && !errors.Is(rerr, context.Canceled) {
		return fsum, rerr
	}
	return fsum, ctx.Err()
}

// load writes one part (with the file's checkpoint when cp is not nil;
// committed when commit is set) and adds what it stored to sum. Only the loader goroutine calls it.
func load(ctx context.Context, opt Options, cp *FileCheckpoint, path string, batch []models.Record, docsDone int64, final, commit bool, sum *Summary) error {
	var added map[models.Table]int
	var err error
	if cp != nil {
		c := *cp
		c.DocsDone, c.Completed = docsDone, final
		if pl, ok := opt.Loader.(PartLoader); ok {
			added, err = pl.LoadPart(ctx, batch, c, commit)
		} else {
			added, err = opt.Loader.(CheckpointLoader).LoadWithCheckpoint(ctx, batch, c)
		}
	} else {
		added, err = opt.Loader.Load(ctx, batch)
	}
	if err != nil {
		return fmt.Errorf("loading records from %s: %w", path, err)
	}
	stored := 0
	for t, n := range added {
		sum.Ingested[t] += n
		if t != models.TableRejects {
			stored += n
		}
	}
	events := 0
	for _, r := range batch {
		if r.Table() != models.TableRejects {
			events++
		}
	}
	sum.Duplicates += events - stored
	return nil
}

// MaxRawBytes bounds the copy of a rejected input kept in the rejects table.
const MaxRawBytes = 2048

func decodeChunk(opt Options, forced Collector, c *chunk) {
	env := opt.Env
	reject := func(source, ref, reason string, raw []byte) {
		c.nrej++
		c.out = append(c.out, NewReject(env, source, ref, reason, raw))
	}
	for _, re := range c.bad {
		name := "auto"
		if forced != nil {
			name = forced.Name()
		}
		reject(name, re.Ref, re.Reason, re.Raw)
	}
	for _, d := range c.docs {
		if !utf8.Valid(d.Raw) {
			// The store would turn the bad bytes into NULLs (or fail).
			name := "auto"
			if forced != nil {
				name = forced.Name()
			}
			reject(name, d.Ref, invalidUTF8Reason(d.Raw), d.Raw)
			continue
		}
		col := forced
		if col == nil {
			var ok bool
			col, ok = Detect(d)
			if !ok {
				reject("auto", d.Ref, undetectedReason(d), d.Raw)
				continue
			}
		}
		start := len(c.out)
		err := col.Decode(env, d, func(r models.Record) {
			b := r.Base()
			b.Source = col.Name()
			if b.SourceRef == "" {
				b.SourceRef = d.Ref
			}
			b.IngestedAt = env.Now
			c.out = append(c.out, r)
		})
		if err == nil {
			reason := futureReason(c.out[start:], opt.futureLimit)
			if reason == "" {
				// Valid bytes in, but a decoded value may still not be
				// UTF-8 (a percent-encoded form value, in any file).
				reason = invalidStringReason(c.out[start:])
			}
			if reason != "" {
				c.out = c.out[:start]
				reject(col.Name(), d.Ref, reason, d.Raw)
			}
			continue
		}
		c.out = c.out[:start] // a rejected document contributes nothing
		if errors.Is(err, ErrSkip) {
			if c.skip == nil {
				c.skip = map[string]int{}
			}
			c.skip[SkipKind(err)]++
			continue
		}
		reject(col.Name(), d.Ref, err.Error(), d.Raw)
	}
}

// rejectRaw is the copy of a rejected input that is stored: customer
// identifiers pseudonymised, then truncated to MaxRawBytes.
func rejectRaw(raw []byte, p *pii.Pseudonymiser) string {
	if len(raw) > MaxRawBytes+512 {
		raw = raw[:MaxRawBytes+512]
	}
	return truncateRaw([]byte(redact(strings.ToValidUTF8(string(raw), "\uFFFD"), p)))
}

// invalidUTF8Reason names the first byte of raw that is not UTF-8.
func invalidUTF8Reason(raw []byte) string {
	i := 0
	for i < len(raw) {
		r, n := utf8.DecodeRune(raw[i:])
		if r == utf8.RuneError && n <= 1 {
			break
		}
		i += n
	}
	return fmt.Sprintf("invalid UTF-8 at byte %d (0x%02x): closedloop reads UTF-8 text", i+1, raw[min(i, len(raw)-1)])
}

// invalidStringReason reports a record string value that is not UTF-8.
func invalidStringReason(recs []models.Record) string {
	for _, r := range recs {
		cols := models.Columns[r.Table()]
		for i, v := range r.Values() {
			if s, ok := v.(string); ok && !utf8.ValidString(s) {
				return fmt.Sprintf("%s field %q is not valid UTF-8", r.Table(), cols[i])
			}
		}
	}
	return ""
}

// truncateRaw keeps at most MaxRawBytes of valid UTF-8 of a rejected input.
func truncateRaw(b []byte) string {
	if len(b) > MaxRawBytes {
		b = b[:MaxRawBytes]
	}
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// undetectedReason explains why no collector took a document: most often
// it is not valid JSON at all, which deserves the parser's own words.
func undetectedReason(d Doc) string {
	if d.Format == FormatJSON {
		if se := stdValid(d.Raw); se != nil {
			return fmt.Sprintf("invalid JSON at byte %d: %s", se.offset, se.msg)
		}
	}
	return "unrecognised document: no collector knows its fields (name one with --source)"
}
