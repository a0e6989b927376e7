package config

import (
	"net"
	"regexp"
	"strconv"
	"strings"
)

// Roles a dashboard token can carry, from least to most privileged.
const (
	RoleViewer     = "viewer"     // reads packs and KPIs (CX leaders)
	RoleAnalyst    = "analyst"    // also drills down to cases
	RoleCompliance = "compliance" // also pulls audit evidence
	RoleAdmin      = "admin"      // also changes configuration
)

// RoleNames lists the known roles.
func RoleNames() []string { return []string{RoleViewer, RoleAnalyst, RoleCompliance, RoleAdmin} }

// Serve configures `closedloop serve`. Secrets are never written in the
// file by default: the *_env keys name environment variables.
type Serve struct {
	// Addr is the listen address (default 127.0.0.1:8080, local only; use
	// :8080 behind a TLS-terminating proxy to receive webhooks).
	Addr string `yaml:"addr"`
	// Tokens are the bearer tokens accepted by the dashboard, each with a
	// role. No tokens: the dashboard refuses every request.
	Tokens []Token `yaml:"tokens"`
	// MetaVerifyTokenEnv names the variable holding the token Meta echoes
	// in its webhook verification handshake (default CLOSEDLOOP_META_VERIFY_TOKEN).
	MetaVerifyTokenEnv string `yaml:"meta_verify_token_env"`
	// MetaAppSecretEnv names the variable holding the app secret that
	// signs Meta's webhook deliveries (default CLOSEDLOOP_META_APP_SECRET).
	MetaAppSecretEnv string `yaml:"meta_app_secret_env"`
	// ChatwootTokenEnv names the variable holding the token Chatwoot's
	// webhook must present (default CLOSEDLOOP_CHATWOOT_TOKEN).
	ChatwootTokenEnv string `yaml:"chatwoot_token_env"`
	// TwilioAuthTokenEnv names the variable holding the Twilio auth token
	// that keys X-Twilio-Signature (default CLOSEDLOOP_TWILIO_AUTH_TOKEN).
	TwilioAuthTokenEnv string `yaml:"twilio_auth_token_env"`
	// TwilioPublicURL is the webhook URL exactly as configured in the
	// Twilio console (https://cx.example.com/webhooks/twilio), which
	// Twilio signs. Empty: the request's scheme and host (X-Forwarded-Proto
	// and X-Forwarded-Host honoured) followed by its path and query.
	TwilioPublicURL string `yaml:"twilio_public_url"`
	// SendGridPublicKeyEnv names the variable holding SendGrid's Event
	// Webhook verification key (default CLOSEDLOOP_SENDGRID_PUBLIC_KEY).
	SendGridPublicKeyEnv string `yaml:"sendgrid_public_key_env"`
	// SendGridMaxSkew refuses SendGrid deliveries whose signed timestamp is
	// further than this from the server's clock (replays); 0 turns the
	// check off (the default).
	SendGridMaxSkew Duration `yaml:"sendgrid_max_skew"`
	// SpoolDir holds the append-only spool of acknowledged webhook bodies
	// (default: the DuckDB file's path + ".spool", or closedloop-spool for
	// a DSN). It must survive restarts: an acknowledged body lives only
	// there until it is drained into the store.
	SpoolDir string `yaml:"spool_dir"`
	// MaxBodyBytes bounds a webhook body; larger ones get 413 (default 1 MiB).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
}

// Token is one dashboard credential. Exactly one of TokenEnv (preferred: the
// secret stays out of the file) and Token is set.
type Token struct {
	TokenEnv string `yaml:"token_env"`
	Token    string `yaml:"token"`
	Role     string `yaml:"role"`
}

// Defaults of the serve section.
const (
	DefaultServeAddr          = "127.0.0.1:8080"
	DefaultMetaVerifyTokenEnv = "CLOSEDLOOP_META_VERIFY_TOKEN"
	DefaultMetaAppSecretEnv   = "CLOSEDLOOP_META_APP_SECRET"
	DefaultChatwootTokenEnv   = "CLOSEDLOOP_CHATWOOT_TOKEN"
	// The variables the Twilio and SendGrid collectors read by default
	// (twilio.AuthTokenEnv, sendgrid.PublicKeyEnv).
	DefaultTwilioAuthTokenEnv   = "CLOSEDLOOP_TWILIO_AUTH_TOKEN"
	DefaultSendGridPublicKeyEnv = "CLOSEDLOOP_SENDGRID_PUBLIC_KEY"
	DefaultMaxBodyBytes         = 1 << 20
)

// MinTokenLength rejects literal tokens short enough to guess.
const MinTokenLength = 16

func (s *Serve) applyDefaults() {
	for _, d := range []struct {
		v   *string
		def string
	}{
		{&s.Addr, DefaultServeAddr},
		{&s.MetaVerifyTokenEnv, DefaultMetaVerifyTokenEnv},
		{&s.MetaAppSecretEnv, DefaultMetaAppSecretEnv},
		{&s.ChatwootTokenEnv, DefaultChatwootTokenEnv},
		{&s.TwilioAuthTokenEnv, DefaultTwilioAuthTokenEnv},
		{&s.SendGridPublicKeyEnv, DefaultSendGridPublicKeyEnv},
	} {
		if *d.v == "" {
			*d.v = d.def
		}
	}
	if s.MaxBodyBytes == 0 {
		s.MaxBodyBytes = DefaultMaxBodyBytes
	}
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (s Serve) validate(p *problems, path string) {
	if s.Addr != "" {
		validateAddr(p, path+".addr", s.Addr)
	}
	for _, f := range []struct{ key, v string }{
		{"meta_verify_token_env", s.MetaVerifyTokenEnv},
		{"meta_app_secret_env", s.MetaAppSecretEnv},
		{"chatwoot_token_env", s.ChatwootTokenEnv},
		{"twilio_auth_token_env", s.TwilioAuthTokenEnv},
		{"sendgrid_public_key_env", s.SendGridPublicKeyEnv},
	} {
		if f.v != "" && !envName.MatchString(f.v) {
			p.add(path+"."+f.key, "%q is not an environment variable name", f.v)
		}
	}
	if s.TwilioPublicURL != "" {
		validateTwilioPublicURL(p, path+".twilio_public_url", s.TwilioPublicURL)
	}
	if s.SendGridMaxSkew < 0 {
		p.add(path+".sendgrid_max_skew", "%s is negative; use 0 to turn the check off", s.SendGridMaxSkew)
	}
	if s.MaxBodyBytes < 0 {
		p.add(path+".max_body_bytes", "%d is negative", s.MaxBodyBytes)
	}
	seen := map[string]int{}
	for i, t := range s.Tokens {
		tp := indexPath(path+".tokens", i)
		id := t.validate(p, tp)
		if id == "" {
			continue
		}
		if j, dup := seen[id]; dup {
			p.add(tp, "same token as tokens[%d]; a token must map to one role", j)
		}
		seen[id] = i
	}
}

// validateTwilioPublicURL checks the URL Twilio signs: the whole webhook
// URL as the console shows it, path included, since that is what the
// signature covers.
func validateTwilioPublicURL(p *problems, path, v string) {
	u, ok := parseHTTPURL(v)
	switch {
	case !ok:
		p.add(path, "%q is not an absolute http(s) URL like https://cx.example.com/webhooks/twilio", v)
	case u.Path == "":
		p.add(path, "%q lacks the path: give the whole URL set in the Twilio console, like %s/webhooks/twilio", v, v)
	case u.User != nil || u.Fragment != "":
		p.add(path, "%q must not carry credentials or a #fragment (Twilio signs neither)", v)
	}
}

// validate checks one token and returns what identifies it ("" if invalid).
func (t Token) validate(p *problems, tp string) string {
	validateRole(p, tp+".role", t.Role, true)
	switch {
	case t.Token != "" && t.TokenEnv != "":
		p.add(tp, "set either token_env or token, not both")
	case t.TokenEnv != "":
		if !envName.MatchString(t.TokenEnv) {
			p.add(tp+".token_env", "%q is not an environment variable name", t.TokenEnv)
			return ""
		}
		return "env:" + t.TokenEnv
	case t.Token != "":
		if len(t.Token) < MinTokenLength {
			p.add(tp+".token", "is shorter than %d characters", MinTokenLength)
			return ""
		}
		return "literal:" + t.Token
	default:
		p.add(tp, "needs token_env (or token)")
	}
	return ""
}

// validateRole checks one role name; empty is reported only when required
// (an empty entry in a list is reported by validateNames).
func validateRole(p *problems, path, role string, required bool) {
	switch {
	case role == "":
		if required {
			p.add(path, "is required (one of %s)", strings.Join(RoleNames(), ", "))
		}
	case !contains(RoleNames(), role):
		p.add(path, "unknown role %q (known: %s)", role, strings.Join(RoleNames(), ", "))
	}
}

func validateAddr(p *problems, path, addr string) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		p.add(path, "%q is not a listen address like 127.0.0.1:8080 or :8080", addr)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		p.add(path, "port %q is not a number from 0 to 65535", port)
	}
}
