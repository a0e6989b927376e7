package config

import (
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Collectors configures the pull collectors: `closedloop collect` runs them
// once, `schedule` and `serve` on schedules.collect. Each collector has a
// name (its key) unique across kinds; it names the collector's state,
// freshness row and errors. Secrets are read from the environment
// (token_env) unless a literal token is given.
type Collectors struct {
	// Timeout bounds one HTTP request (default 30s).
	Timeout Duration `yaml:"timeout"`
	// MaxRetries is how often a 429, 5xx or network error is retried with
	// exponential backoff and jitter (default 5).
	MaxRetries int `yaml:"max_retries"`
	// ChatwootAPI pulls conversations and messages from Chatwoot's REST API.
	ChatwootAPI map[string]ChatwootAPICollector `yaml:"chatwoot_api"`
	// MetaGraph pulls message templates and template analytics from Meta's
	// WhatsApp Business Management API.
	MetaGraph map[string]MetaGraphCollector `yaml:"meta_graph"`
	// DropFolders watch directories where exporters land files.
	DropFolders map[string]DropFolderCollector `yaml:"drop_folders"`
}

// ChatwootAPICollector is one Chatwoot account.
type ChatwootAPICollector struct {
	BaseURL   string `yaml:"base_url"`   // e.g. https://app.chatwoot.com
	AccountID string `yaml:"account_id"` // the account's numeric id
	// InboxIDs limits the pull to these inboxes; empty: all.
	InboxIDs []string `yaml:"inbox_ids"`
	// TokenEnv names the variable with the access token (default
	// CLOSEDLOOP_CHATWOOT_API_TOKEN); Token is a literal alternative.
	TokenEnv string `yaml:"token_env"`
	Token    string `yaml:"token"`
	// RateLimit is requests per second (default 5).
	RateLimit float64 `yaml:"rate_limit"`
	// Overlap is how far before the cursor a run looks again (default 10m).
	Overlap Duration `yaml:"overlap"`
}

// MetaGraphCollector is one WhatsApp Business Account.
type MetaGraphCollector struct {
	BaseURL    string `yaml:"base_url"`    // default https://graph.facebook.com
	APIVersion string `yaml:"api_version"` // default v23.0
	WABAID     string `yaml:"waba_id"`
	// TokenEnv names the variable with the system-user access token
	// (default CLOSEDLOOP_META_ACCESS_TOKEN); Token is a literal alternative.
	TokenEnv string `yaml:"token_env"`
	Token    string `yaml:"token"`
	// SkipAnalytics turns the template analytics pull off.
	SkipAnalytics bool `yaml:"skip_analytics"`
	// BackfillDays is how far back the first analytics run reads (default
	// 30; Meta serves 90 days at most, further is clamped).
	BackfillDays int `yaml:"backfill_days"`
	// Currency is the account's currency (ISO 4217) stored with costs.
	Currency  string  `yaml:"currency"`
	RateLimit float64 `yaml:"rate_limit"` // requests per second (default 2)
}

// DropFolderCollector watches directories.
type DropFolderCollector struct {
	Paths []string `yaml:"paths"`
	// Source is a file collector name, or auto (default).
	Source string `yaml:"source"`
	// Settle is how long a file's size and mtime must stay unchanged
	// before it is taken (default 5s).
	Settle Duration `yaml:"settle"`
	// Patterns are file name globs to take (default: every file).
	Patterns []string `yaml:"patterns"`
}

// Defaults of the collectors section.
const (
	DefaultChatwootAPITokenEnv = "CLOSEDLOOP_CHATWOOT_API_TOKEN"
	DefaultMetaAccessTokenEnv  = "CLOSEDLOOP_META_ACCESS_TOKEN"
	DefaultChatwootRateLimit   = 5
	DefaultMetaRateLimit       = 2
)

func (c *Collectors) applyDefaults() {
	for name, cw := range c.ChatwootAPI {
		if cw.TokenEnv == "" && cw.Token == "" {
			cw.TokenEnv = DefaultChatwootAPITokenEnv
		}
		if cw.RateLimit == 0 {
			cw.RateLimit = DefaultChatwootRateLimit
		}
		c.ChatwootAPI[name] = cw
	}
	for name, m := range c.MetaGraph {
		if m.TokenEnv == "" && m.Token == "" {
			m.TokenEnv = DefaultMetaAccessTokenEnv
		}
		if m.RateLimit == 0 {
			m.RateLimit = DefaultMetaRateLimit
		}
		c.MetaGraph[name] = m
	}
	for name, d := range c.DropFolders {
		if d.Source == "" {
			d.Source = "auto"
		}
		c.DropFolders[name] = d
	}
}

// Names lists every configured collector, sorted.
func (c Collectors) Names() []string {
	var out []string
	for n := range c.ChatwootAPI {
		out = append(out, n)
	}
	for n := range c.MetaGraph {
		out = append(out, n)
	}
	for n := range c.DropFolders {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Secret returns a collector's token: the literal, else the variable's value.
func Secret(token, tokenEnv string) string {
	if token != "" {
		return token
	}
	if tokenEnv != "" {
		return os.Getenv(tokenEnv)
	}
	return ""
}

func (c Collectors) validate(p *problems, path string) {
	if c.Timeout < 0 {
		p.add(path+".timeout", "must be positive")
	}
	if c.MaxRetries < 0 {
		p.add(path+".max_retries", "must be 0 or more")
	}
	seen := map[string]string{}
	name := func(kind, n string) {
		np := path + "." + kind + "." + n
		if !collectorName(n) {
			p.add(np, "collector names use letters, digits, _ and - only")
		}
		if other, dup := seen[n]; dup {
			p.add(np, "name %q is also used under %s.%s; names must be unique across kinds", n, path, other)
		}
		seen[n] = kind
	}
	for _, n := range sortedKeys(c.ChatwootAPI) {
		name("chatwoot_api", n)
		cw, np := c.ChatwootAPI[n], path+".chatwoot_api."+n
		validateBaseURL(p, np+".base_url", cw.BaseURL, true)
		if strings.TrimSpace(cw.AccountID) == "" {
			p.add(np+".account_id", "is required")
		}
		validateNames(p, np+".inbox_ids", cw.InboxIDs)
		validateToken(p, np, cw.Token, cw.TokenEnv)
		if cw.RateLimit < 0 {
			p.add(np+".rate_limit", "must be positive (requests per second)")
		}
		if cw.Overlap < 0 {
			p.add(np+".overlap", "must be positive")
		}
	}
	for _, n := range sortedKeys(c.MetaGraph) {
		name("meta_graph", n)
		m, np := c.MetaGraph[n], path+".meta_graph."+n
		validateBaseURL(p, np+".base_url", m.BaseURL, false)
		if strings.TrimSpace(m.WABAID) == "" {
			p.add(np+".waba_id", "is required (the WhatsApp Business Account id)")
		}
		if m.APIVersion != "" && !strings.HasPrefix(m.APIVersion, "v") {
			p.add(np+".api_version", "%q is not a Graph API version like v23.0", m.APIVersion)
		}
		validateToken(p, np, m.Token, m.TokenEnv)
		if m.BackfillDays < 0 {
			p.add(np+".backfill_days", "must be positive")
		}
		if m.Currency != "" && (len(m.Currency) != 3 || strings.ToUpper(m.Currency) != m.Currency) {
			p.add(np+".currency", "%q is not an ISO 4217 code like USD", m.Currency)
		}
		if m.RateLimit < 0 {
			p.add(np+".rate_limit", "must be positive (requests per second)")
		}
	}
	for _, n := range sortedKeys(c.DropFolders) {
		name("drop_folders", n)
		d, np := c.DropFolders[n], path+".drop_folders."+n
		if len(d.Paths) == 0 {
			p.add(np+".paths", "needs at least one directory")
		}
		validateNames(p, np+".paths", d.Paths)
		if d.Settle < 0 {
			p.add(np+".settle", "must be positive")
		}
		for i, pat := range d.Patterns {
			if _, err := filepath.Match(pat, ""); err != nil {
				p.add(indexPath(np+".patterns", i), "%q is not a file name pattern: %v", pat, err)
			}
		}
	}
}

func collectorName(n string) bool {
	if n == "" {
		return false
	}
	for _, r := range n {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func validateBaseURL(p *problems, path, v string, required bool) {
	if v == "" {
		if required {
			p.add(path, "is required (e.g. https://app.chatwoot.com)")
		}
		return
	}
	u, ok := parseHTTPURL(v)
	if !ok {
		p.add(path, "%q is not an http(s) URL", v)
		return
	}
	if u.User != nil || u.RawQuery != "" {
		p.add(path, "must not carry credentials or a query; use token_env")
	}
}

// parseHTTPURL parses an absolute http or https URL with a host.
func parseHTTPURL(v string) (*url.URL, bool) {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, false
	}
	return u, true
}

func validateToken(p *problems, path, token, tokenEnv string) {
	switch {
	case token != "" && tokenEnv != "":
		p.add(path, "set either token_env or token, not both")
	case tokenEnv != "" && !envName.MatchString(tokenEnv):
		p.add(path+".token_env", "%q is not an environment variable name", tokenEnv)
	}
}
