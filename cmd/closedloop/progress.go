package main

import (
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress is a progress bar on stderr that appears only when stderr is a
// terminal and the work has lasted more than two seconds, so short runs
// and logs stay clean.
type progress struct {
	mu      sync.Mutex
	enabled bool
	total   int64
	what    string
	start   time.Time
	bar     *progressbar.ProgressBar
}

func newProgress(total int64, what string) *progress {
	return &progress{
		enabled: total > 0 && term.IsTerminal(int(os.Stderr.Fd())),
		total:   total, what: what, start: time.Now(),
	}
}

// Set reports absolute progress with a short description.
func (p *progress) Set(n int64, desc string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.enabled {
		return
	}
	if p.bar == nil {
		if time.Since(p.start) < 2*time.Second {
			return
		}
		p.bar = progressbar.NewOptions64(p.total,
			progressbar.OptionSetWriter(os.Stderr),
			progressbar.OptionSetDescription(p.what),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	p.bar.Describe(p.what + " " + desc)
	_ = p.bar.Set64(n)
}

// Finish clears the bar.
func (p *progress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
