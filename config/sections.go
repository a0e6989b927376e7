package config

import (
	"path/filepath"
	"strings"
	"time"
)

// Sanity gates (SPEC §3): invariants a pack must hold before it is
// published. The report package refuses a pack when one fails, unless the
// gate is listed in gates.warn_only.
const (
	GateRateRange       = "rate_range"        // a rate outside [0, 1]
	GateBotPlusHandover = "bot_plus_handover" // bot_resolution_rate + agent_handover_rate > 1
	GateSilentSource    = "silent_source"     // a configured source with no events in the period
	GateFutureEvents    = "future_events"     // events newer than the cutoff
)

// GateNames lists every sanity gate.
func GateNames() []string {
	return []string{GateRateRange, GateBotPlusHandover, GateSilentSource, GateFutureEvents}
}

// Gates configures the sanity gates.
type Gates struct {
	// WarnOnly lists gates whose failure is printed in the pack without
	// stopping it. Gates cannot be switched off entirely: a governance
	// pack should always say when an invariant broke. Default: none.
	WarnOnly []string `yaml:"warn_only"`
}

// Refuses reports whether a failing gate stops publication.
func (g Gates) Refuses(gate string) bool {
	for _, w := range g.WarnOnly {
		if w == gate {
			return false
		}
	}
	return true
}

func (g Gates) validate(p *problems, path string) {
	validateNames(p, path+".warn_only", g.WarnOnly)
	for i, w := range g.WarnOnly {
		if w != "" && !contains(GateNames(), w) {
			p.add(indexPath(path+".warn_only", i), "unknown gate %q (known: %s)", w, strings.Join(GateNames(), ", "))
		}
	}
}

// MinRetention guards against a typo deleting the store: retention is
// applied with `closedloop retention apply`, which deletes older events.
const MinRetention = 24 * time.Hour

// Retention configures how long events are kept.
type Retention struct {
	// MaxAge deletes events older than this when retention is applied. Go
	// durations have no day unit: 400 days is 9600h. 0 (default) keeps
	// everything.
	MaxAge Duration `yaml:"max_age"`
}

func (r Retention) validate(p *problems, path string) {
	if r.MaxAge != 0 && time.Duration(r.MaxAge) < MinRetention {
		p.add(path+".max_age", "%s would delete almost everything; use at least %s, or 0 to keep all events", r.MaxAge, Duration(MinRetention))
	}
}

// Evidence configures audit evidence bundles.
type Evidence struct {
	// SigningKeyFile holds the Ed25519 private key that signs bundles
	// (created by `closedloop keygen`). Default closedloop-signing.key;
	// relative paths are relative to the working directory.
	SigningKeyFile string `yaml:"signing_key_file"`
	// RevealRoles are the roles allowed to see raw customer identifiers
	// in bundles and drill-downs; everyone else sees pseudonyms. Default
	// [compliance]; an explicit empty list lets nobody reveal.
	RevealRoles []string `yaml:"reveal_roles"`
}

// DefaultSigningKeyFile is where bundles' signing key lives by default.
const DefaultSigningKeyFile = "closedloop-signing.key"

func (e *Evidence) applyDefaults() {
	if e.SigningKeyFile == "" {
		e.SigningKeyFile = DefaultSigningKeyFile
	}
	if e.RevealRoles == nil {
		e.RevealRoles = []string{RoleCompliance}
	}
}

// MayReveal reports whether a role may see raw customer identifiers.
func (e Evidence) MayReveal(role string) bool { return contains(e.RevealRoles, role) }

func (e Evidence) validate(p *problems, path string) {
	if e.SigningKeyFile != "" && filepath.Clean(e.SigningKeyFile) == "." {
		p.add(path+".signing_key_file", "must name a file")
	}
	validateNames(p, path+".reveal_roles", e.RevealRoles)
	for i, r := range e.RevealRoles {
		validateRole(p, indexPath(path+".reveal_roles", i), r, false)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
