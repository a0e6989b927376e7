// Package dropfolder watches directories where exporters land files and
// ingests each file once, with the same readers and collectors as
// `closedloop ingest` (auto-detection by default).
//
// A run:
//  1. lists the directories (recursively; hidden files and names ending in
//     .tmp, .part, .partial, .crdownload or ~ are left alone, as exporters
//     write under such names and rename when done);
//  2. leaves out files already taken with the same size and mtime;
//  3. waits Settle, lists again, and leaves out every file whose size or
//     mtime changed in between: it is still being written, and the next
//     run looks at it again;
//  4. hashes each stable file (SHA-256) and ingests it. The file's last
//     batch of rows is committed in the same transaction as its record in
//     collector_state ("taken:<path>" → {size, mtime, sha256, taken_at,
//     documents, rejected}; the collector_taken_files view shows them), so
//     a crash leaves the file untaken and the next run takes it again;
//     rows committed before the crash are deduplicated by event_id.
//
// A file that changes after it was taken (same path, new content) is taken
// again as a new version; rows already stored are deduplicated, so an
// exporter that appends to a file adds only its new lines. A file touched
// without a change of content (same SHA-256) is not ingested again.
package dropfolder

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	json "github.com/goccy/go-json"

	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/ingest/pull"
	"github.com/closedloop/closedloop/models"
)

// Kind is the collector type. Rows keep the source of the file collector
// that read them (chatwoot, meta, cases, …), as with `closedloop ingest`.
const Kind = "drop_folder"

// DefaultSettle is the wait between the two listings.
const DefaultSettle = 5 * time.Second

// Config configures one drop folder collector.
type Config struct {
	Name  string
	Paths []string
	// Source is a file collector name or "auto" (default).
	Source string
	// Settle is how long a file's size and mtime must stay unchanged.
	Settle time.Duration
	// Patterns, when set, are the file name globs to take (e.g. *.jsonl).
	Patterns []string
	// Sleep waits Settle (tests inject one that changes files meanwhile).
	Sleep func(ctx context.Context, d time.Duration) error
}

// Collector is a drop-folder pull collector.
type Collector struct{ cfg Config }

// New checks cfg and builds the collector.
func New(cfg Config) (*Collector, error) {
	if len(cfg.Paths) == 0 {
		return nil, fmt.Errorf("collector %s: no paths to watch", cfg.Name)
	}
	if cfg.Source == "" {
		cfg.Source = "auto"
	}
	if cfg.Source != "auto" {
		if _, ok := ingest.Lookup(cfg.Source); !ok {
			return nil, fmt.Errorf("collector %s: unknown source %q (known: auto, %s)", cfg.Name, cfg.Source, strings.Join(ingest.Names(), ", "))
		}
	}
	for _, p := range cfg.Patterns {
		if _, err := filepath.Match(p, ""); err != nil {
			return nil, fmt.Errorf("collector %s: pattern %q: %v", cfg.Name, p, err)
		}
	}
	if cfg.Settle <= 0 {
		cfg.Settle = DefaultSettle
	}
	if cfg.Sleep == nil {
		cfg.Sleep = pull.Sleep
	}
	return &Collector{cfg: cfg}, nil
}

// Name implements pull.Collector.
func (c *Collector) Name() string { return c.cfg.Name }

// Kind implements pull.Collector.
func (c *Collector) Kind() string { return Kind }

// Taken is what collector_state remembers of a taken file.
type Taken struct {
	Size      int64     `json:"size"`
	MTime     time.Time `json:"mtime"`
	SHA256    string    `json:"sha256"`
	TakenAt   time.Time `json:"taken_at"`
	Documents int       `json:"documents"`
	Rejected  int       `json:"rejected"`
}

type stat struct {
	size  int64
	mtime time.Time
}

// Pull implements pull.Collector.
func (c *Collector) Pull(ctx context.Context, run *pull.Run) error {
	first, err := c.scan()
	if err != nil {
		return err
	}
	var candidates []string
	for path, st := range first {
		if t, ok := taken(run, path); ok && t.Size == st.size && t.MTime.Equal(st.mtime) {
			continue
		}
		candidates = append(candidates, path)
	}
	if len(candidates) == 0 {
		return nil
	}
	sort.Strings(candidates)
	if err := c.cfg.Sleep(ctx, c.cfg.Settle); err != nil {
		return err
	}
	second, err := c.scan()
	if err != nil {
		return err
	}
	files := 0
	for _, path := range candidates {
		if err := ctx.Err(); err != nil {
			return err
		}
		st, ok := second[path]
		if !ok {
			continue // removed meanwhile
		}
		if st != first[path] {
			run.Notef("%s is still being written (size or mtime changed within %s); left for the next run", path, c.cfg.Settle)
			continue
		}
		took, err := c.take(ctx, run, path, st)
		if err != nil {
			return err
		}
		if took {
			files++
		}
	}
	if files > 0 {
		run.Notef("took %d file(s)", files)
	}
	return nil
}

func taken(run *pull.Run, path string) (Taken, bool) {
	v, ok := run.State["taken:"+path]
	if !ok {
		return Taken{}, false
	}
	var t Taken
	if json.Unmarshal([]byte(v), &t) != nil {
		return Taken{}, false
	}
	return t, true
}

// scan lists the files to consider with their size and mtime.
func (c *Collector) scan() (map[string]stat, error) {
	out := map[string]stat{}
	for _, root := range c.cfg.Paths {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if path == root {
					return fmt.Errorf("collector %s: watching %s: %w", c.cfg.Name, root, err)
				}
				return nil // a file removed during the walk
			}
			name := d.Name()
			if path != root && strings.HasPrefix(name, ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() || partial(name) || !c.matches(name) {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return nil
			}
			abs, err := filepath.Abs(path)
			if err != nil {
				return err
			}
			out[abs] = stat{size: info.Size(), mtime: info.ModTime().UTC()}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func partial(name string) bool {
	for _, suf := range []string{".tmp", ".part", ".partial", ".crdownload", "~"} {
		if strings.HasSuffix(strings.ToLower(name), suf) {
			return true
		}
	}
	return false
}

func (c *Collector) matches(name string) bool {
	if len(c.cfg.Patterns) == 0 {
		return true
	}
	for _, p := range c.cfg.Patterns {
		if ok, _ := filepath.Match(p, name); ok {
			return true
		}
	}
	return false
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// take ingests one stable file and records it as taken.
func (c *Collector) take(ctx context.Context, run *pull.Run, path string, st stat) (bool, error) {
	sum, err := hashFile(path)
	if err != nil {
		return false, fmt.Errorf("collector %s: reading %s: %w", c.cfg.Name, path, err)
	}
	rec := Taken{Size: st.size, MTime: st.mtime, SHA256: sum, TakenAt: run.Env.Now.UTC()}
	if prev, ok := taken(run, path); ok && prev.SHA256 == sum {
		// Touched, not changed: remember the new mtime only.
		rec.Documents, rec.Rejected, rec.TakenAt = prev.Documents, prev.Rejected, prev.TakenAt
		return false, run.Commit(ctx, nil, map[string]string{"taken:" + path: encode(rec)})
	}
	hl := &holdLoader{run: run}
	env := *run.Env
	sumry, err := ingest.Run(ctx, ingest.Options{Source: c.cfg.Source, Env: &env, Loader: hl}, []string{path})
	if err != nil {
		return false, fmt.Errorf("collector %s: ingesting %s: %w", c.cfg.Name, path, err)
	}
	rec.Documents, rec.Rejected = sumry.Documents, sumry.Rejected
	state := map[string]string{"taken:" + path: encode(rec)}
	// The file must not have changed while it was read; if it did, its
	// rows are kept (they dedup) but it is not marked taken.
	if fi, err := os.Stat(path); err != nil || fi.Size() != st.size || !fi.ModTime().UTC().Equal(st.mtime) {
		run.Notef("%s changed while it was read; its rows are kept and it will be taken again", path)
		state = nil
	}
	if err := run.Commit(ctx, hl.held, state); err != nil {
		return false, err
	}
	return state != nil, nil
}

func encode(t Taken) string {
	b, _ := json.Marshal(t)
	return string(b)
}

// holdLoader sits between ingest.Run and the store: it commits every batch
// but the latest, which is held back so that the file's last rows and its
// taken record commit together.
type holdLoader struct {
	run  *pull.Run
	held []models.Record
}

// Load implements ingest.Loader. The counts it returns are those of the
// previous batch (the run's own totals are in pull.Run.Added).
func (h *holdLoader) Load(ctx context.Context, recs []models.Record) (map[models.Table]int, error) {
	prev := h.held
	h.held = append([]models.Record(nil), recs...) // the pipeline reuses its slice
	if len(prev) == 0 {
		return map[models.Table]int{}, nil
	}
	before := map[models.Table]int{}
	for t, n := range h.run.Added {
		before[t] = n
	}
	if err := h.run.Commit(ctx, prev, nil); err != nil {
		return nil, err
	}
	out := map[models.Table]int{}
	for t, n := range h.run.Added {
		out[t] = n - before[t]
	}
	return out, nil
}
