// Package ingest reads source files into canonical events. Each source has
// its own collector in a sub-folder that registers itself by name; the
// pipeline in this package finds documents in files, hands them to the
// collectors in parallel and loads the records in order.
package ingest

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/closedloop/closedloop/models"
	"github.com/closedloop/closedloop/pii"
)

// Format says how a document's bytes are encoded.
type Format int

const (
	// FormatJSON is one JSON value (a CSV row arrives as a JSON object of strings).
	FormatJSON Format = iota
	// FormatForm is an application/x-www-form-urlencoded body.
	FormatForm
)

// Doc is one input document: a webhook body, a JSON Lines line, an array
// element or a CSV row.
type Doc struct {
	Raw    []byte
	Format Format
	Ref    string // file:line
	// CSV is true when the document came from a CSV row (every value a string).
	CSV bool
}

// Env carries what collectors need besides the document.
type Env struct {
	Pseudo *pii.Pseudonymiser
	// Now is the ingest time stamped on every record.
	Now time.Time
}

// Collector maps one source's documents onto canonical records.
type Collector interface {
	// Name is the collector's registered name (`--source NAME`).
	Name() string
	// Detect reports cheaply whether a document looks like this source;
	// used by `--source auto`.
	Detect(doc Doc) bool
	// Decode maps one document onto records. An error rejects the whole
	// document; an error wrapping ErrSkip counts it as deliberately unused.
	Decode(env *Env, doc Doc, emit func(models.Record)) error
}

// ErrSkip marks a document the pipeline does not use (e.g. Chatwoot's
// webwidget_triggered). Wrap it with the kind: fmt.Errorf("%w: %s", ErrSkip, kind).
var ErrSkip = errors.New("skipped")

// SkipKind extracts the kind from an error wrapping ErrSkip.
func SkipKind(err error) string {
	s := err.Error()
	if i := strings.Index(s, ErrSkip.Error()+": "); i >= 0 {
		return s[i+len(ErrSkip.Error())+2:]
	}
	return "other"
}

var (
	registryMu sync.RWMutex
	registry   = map[string]Collector{}
	order      []string
)

// Register adds a collector; called from the collector package's init.
// Detection under `--source auto` tries collectors in registration order.
func Register(c Collector) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[c.Name()]; dup {
		panic(fmt.Sprintf("ingest: collector %q registered twice", c.Name()))
	}
	registry[c.Name()] = c
	order = append(order, c.Name())
}

// Lookup returns the collector registered under name.
func Lookup(name string) (Collector, bool) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	c, ok := registry[name]
	return c, ok
}

// Names lists the registered collectors, sorted.
func Names() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	n := append([]string(nil), order...)
	sort.Strings(n)
	return n
}

// Detect returns the first registered collector that recognises doc.
func Detect(doc Doc) (Collector, bool) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	for _, name := range order {
		if c := registry[name]; c.Detect(doc) {
			return c, true
		}
	}
	return nil, false
}
