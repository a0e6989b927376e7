package config

import "time"

// DefaultFallbackWait is how long a first channel may go unread before a
// case counts as needing a second channel (SPEC §3 "Funnel and channel
// sequence").
const DefaultFallbackWait = 24 * time.Hour

// Funnel configures the workflow funnel and its fallback rate.
type Funnel struct {
	// FallbackWait: a case needed a fallback when its first channel failed,
	// or went unread this long after the first send before a second
	// channel was used (default 24h).
	FallbackWait Duration `yaml:"fallback_wait"`
}

func (f *Funnel) applyDefaults() {
	if f.FallbackWait == 0 {
		f.FallbackWait = Duration(DefaultFallbackWait)
	}
}

func (f Funnel) validate(p *problems, path string) {
	if f.FallbackWait < 0 {
		p.add(path+".fallback_wait", "must be positive")
	}
}
