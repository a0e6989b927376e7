package pull

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// Error is a request that failed for good: after the retries, or at once
// when the failure is permanent (4xx other than 429, an unreadable body).
// It names the collector, the method and URL path, and the status, so a
// person reading a log line knows which system to look at. Secrets never
// appear in it (see Redact).
type Error struct {
	Collector string
	Method    string
	// Path is the URL path, without the query (queries may carry secrets
	// and are long; the path says which resource failed).
	Path string
	// Status is the HTTP status, 0 when no response arrived.
	Status int
	// Attempts is how many requests were made.
	Attempts int
	// Message is what went wrong: the API's own error message when the
	// body has one, else a transport error; redacted.
	Message string
	// Permanent is true when retrying cannot help (authentication,
	// permissions, a bad request, an unreadable response).
	Permanent bool
	// RetryAfter is the wait the server asked for when it was longer than
	// the client accepts (MaxRetryAfter); 0 otherwise.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "collector %s: %s %s", e.Collector, e.Method, e.Path)
	if e.Status > 0 {
		fmt.Fprintf(&b, ": HTTP %d %s", e.Status, http.StatusText(e.Status))
	}
	fmt.Fprintf(&b, " (%d attempt", e.Attempts)
	if e.Attempts != 1 {
		b.WriteString("s")
	}
	b.WriteString(")")
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	switch {
	case e.Status == http.StatusUnauthorized:
		b.WriteString(" — the token was refused; check the collector's token (or its token_env variable)")
	case e.Status == http.StatusForbidden:
		b.WriteString(" — the token lacks a permission for this resource")
	case e.RetryAfter > 0:
		fmt.Fprintf(&b, " — the server asked to wait %s, longer than this collector waits within a run; the next run will try again", e.RetryAfter)
	}
	return b.String()
}

// Redacted is what a secret is replaced with.
const Redacted = "[REDACTED]"

var secretPatterns = []*regexp.Regexp{
	// query parameters and form fields that carry tokens
	regexp.MustCompile(`(?i)((?:api_access_token|access_token|token|client_secret|appsecret_proof)=)[^&\s"']+`),
	// JSON members that carry tokens
	regexp.MustCompile(`(?i)("(?:api_access_token|access_token|token)"\s*:\s*")[^"]*`),
	// header-like text
	regexp.MustCompile(`(?i)((?:authorization|api_access_token)\s*:\s*)(?:bearer\s+)?\S+`),
	regexp.MustCompile(`(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+`),
}

// Redact removes secrets from text bound for an error or a log: every
// value in secrets (the collector's tokens), and anything that looks like
// an Authorization header, an api_access_token or access_token parameter.
func Redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, Redacted)
		}
	}
	for _, re := range secretPatterns {
		s = re.ReplaceAllString(s, "${1}"+Redacted)
	}
	return s
}
