package pull

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	json "github.com/goccy/go-json"
	"golang.org/x/time/rate"
)

// Defaults of the HTTP behaviour shared by the pull collectors.
const (
	DefaultTimeout     = 30 * time.Second
	DefaultMaxRetries  = 5
	DefaultBaseBackoff = 500 * time.Millisecond
	DefaultMaxBackoff  = 30 * time.Second
	// defaultMaxRetryAfter bounds how long a run waits when a server says
	// Retry-After: a longer wait ends the run with an error instead (the
	// next scheduled run tries again), so a stuck API cannot hold the
	// store's single writer for an hour.
	defaultMaxRetryAfter = 2 * time.Minute
	// MaxBodyBytes bounds one response body.
	MaxBodyBytes = 64 << 20
)

// ClientConfig configures a Client. Only Collector and BaseURL are required.
type ClientConfig struct {
	// Collector names the collector in errors.
	Collector string
	// BaseURL is the API's root (scheme, host and an optional path prefix).
	BaseURL string
	// Header is sent with every request (authentication goes here). Its
	// values are secrets: they are never logged and are redacted from
	// errors.
	Header http.Header
	// Timeout bounds one request, body included (default 30s).
	Timeout time.Duration
	// MaxRetries is how many times a retryable failure is retried
	// (default 5; negative: none).
	MaxRetries int
	// BaseBackoff and MaxBackoff shape the exponential backoff: attempt n
	// waits between half and all of min(MaxBackoff, BaseBackoff·2^(n-1)),
	// the jitter spreading clients that failed together.
	BaseBackoff, MaxBackoff time.Duration
	// MaxRetryAfter is the longest Retry-After honoured (default 2m).
	MaxRetryAfter time.Duration
	// RateLimit is the collector's request rate in requests per second
	// (0: unlimited); Burst its burst (default 1).
	RateLimit float64
	Burst     int
	// Transport replaces http.DefaultTransport (tests).
	Transport http.RoundTripper
	// Sleep waits between attempts; tests inject one that does not.
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter returns a number in [0, 1) (default math/rand).
	Jitter func() float64
	// Now is the clock used to read an HTTP-date Retry-After.
	Now func() time.Time
	// Retryable, when set, marks more failures as transient, e.g. Meta's
	// throttling error codes that arrive with status 400.
	Retryable func(status int, body []byte) bool
	// Describe, when set, extracts the API's error message from a body.
	Describe func(body []byte) string
}

// Client is the HTTP client the pull collectors share: timeouts, retries
// with exponential backoff and jitter on 429, 5xx and transport errors
// (honouring Retry-After), a per-collector rate limit, and errors that say
// which collector, path and status failed without ever showing a secret.
type Client struct {
	cfg     ClientConfig
	base    *url.URL
	http    *http.Client
	limiter *rate.Limiter
	secrets []string
}

// NewClient checks cfg and fills its defaults.
func NewClient(cfg ClientConfig) (*Client, error) {
	if cfg.Collector == "" {
		return nil, errors.New("pull client: collector name is required")
	}
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, fmt.Errorf("collector %s: base_url %q is not an absolute http(s) URL", cfg.Collector, Redact(cfg.BaseURL))
	}
	if base.Scheme != "http" && base.Scheme != "https" {
		return nil, fmt.Errorf("collector %s: base_url %q must use http or https", cfg.Collector, Redact(cfg.BaseURL))
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = DefaultMaxRetries
	} else if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = DefaultBaseBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.MaxRetryAfter <= 0 {
		cfg.MaxRetryAfter = defaultMaxRetryAfter
	}
	if cfg.Sleep == nil {
		cfg.Sleep = Sleep
	}
	if cfg.Jitter == nil {
		cfg.Jitter = rand.Float64
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Client{cfg: cfg, base: base, http: &http.Client{Timeout: cfg.Timeout, Transport: cfg.Transport}}
	if cfg.RateLimit > 0 {
		burst := cfg.Burst
		if burst <= 0 {
			burst = 1
		}
		c.limiter = rate.NewLimiter(rate.Limit(cfg.RateLimit), burst)
	}
	for _, vs := range cfg.Header {
		for _, v := range vs {
			c.secrets = append(c.secrets, v)
			// The bare token too: a server may echo it without "Bearer ".
			if strings.HasPrefix(strings.ToLower(v), "bearer ") {
				c.secrets = append(c.secrets, strings.TrimSpace(v[len("bearer "):]))
			}
		}
	}
	// Redirects must not carry the token to another host.
	c.http.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Host != base.Host {
			return fmt.Errorf("refusing a redirect to another host (%s)", req.URL.Host)
		}
		return nil
	}
	return c, nil
}

// Sleep waits d or until ctx ends.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Redact removes the client's secrets (and token-looking text) from s.
func (c *Client) Redact(s string) string { return Redact(s, c.secrets...) }

// GetJSON sends GET base+path?query and decodes the JSON body into v.
func (c *Client) GetJSON(ctx context.Context, path string, query url.Values, v any) error {
	body, err := c.Get(ctx, path, query)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return &Error{Collector: c.cfg.Collector, Method: http.MethodGet, Path: c.fullPath(path), Status: http.StatusOK,
			Attempts: 1, Permanent: true, Message: c.Redact("unreadable JSON response: " + err.Error())}
	}
	return nil
}

func (c *Client) fullPath(path string) string {
	return strings.TrimRight(c.base.Path, "/") + "/" + strings.TrimLeft(path, "/")
}

// Get sends GET base+path?query with retries and returns the body of a
// 2xx response.
func (c *Client) Get(ctx context.Context, path string, query url.Values) ([]byte, error) {
	u := *c.base
	u.Path = c.fullPath(path)
	u.RawQuery = query.Encode()
	fail := func(attempts, status int, msg string, permanent bool) *Error {
		return &Error{Collector: c.cfg.Collector, Method: http.MethodGet, Path: u.Path, Status: status,
			Attempts: attempts, Message: c.Redact(msg), Permanent: permanent}
	}
	for attempt := 1; ; attempt++ {
		if c.limiter != nil {
			if err := c.limiter.Wait(ctx); err != nil {
				return nil, fmt.Errorf("collector %s: GET %s: %w", c.cfg.Collector, u.Path, err)
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, fail(attempt, 0, err.Error(), true)
		}
		for k, vs := range c.cfg.Header {
			req.Header[k] = vs
		}
		req.Header.Set("Accept", "application/json")
		resp, err := c.http.Do(req)
		var (
			status int
			body   []byte
			msg    string
			wait   time.Duration
		)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("collector %s: GET %s: %w", c.cfg.Collector, u.Path, ctx.Err())
			}
			msg = transportMessage(err)
		} else {
			status = resp.StatusCode
			body, err = io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes+1))
			resp.Body.Close()
			switch {
			case err != nil:
				if ctx.Err() != nil {
					return nil, fmt.Errorf("collector %s: GET %s: %w", c.cfg.Collector, u.Path, ctx.Err())
				}
				msg = "reading the response: " + transportMessage(err)
			case len(body) > MaxBodyBytes:
				return nil, fail(attempt, status, fmt.Sprintf("response larger than %d bytes", MaxBodyBytes), true)
			case status >= 200 && status < 300:
				return body, nil
			default:
				msg = c.describe(body)
				if !c.retryable(status, body) {
					return nil, fail(attempt, status, msg, true)
				}
				if ra, ok := retryAfter(resp.Header.Get("Retry-After"), c.cfg.Now()); ok {
					if ra > c.cfg.MaxRetryAfter {
						e := fail(attempt, status, msg, false)
						e.RetryAfter = ra
						return nil, e
					}
					wait = ra
				}
			}
		}
		if attempt > c.cfg.MaxRetries {
			return nil, fail(attempt, status, msg, false)
		}
		if wait == 0 {
			wait = c.backoff(attempt)
		}
		if err := c.cfg.Sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("collector %s: GET %s: %w", c.cfg.Collector, u.Path, err)
		}
	}
}

func (c *Client) retryable(status int, body []byte) bool {
	if status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status >= 500 {
		return true
	}
	return c.cfg.Retryable != nil && c.cfg.Retryable(status, body)
}

// backoff is the wait before retry n (1-based): exponential, capped, with
// "equal jitter" (half fixed, half random) so it never collapses to zero.
func (c *Client) backoff(n int) time.Duration {
	d := float64(c.cfg.BaseBackoff) * math.Pow(2, float64(n-1))
	if d > float64(c.cfg.MaxBackoff) {
		d = float64(c.cfg.MaxBackoff)
	}
	return time.Duration(d/2 + c.cfg.Jitter()*d/2)
}

// Backoff exposes the wait before retry n for tests and documentation.
func (c *Client) Backoff(n int) time.Duration { return c.backoff(n) }

func (c *Client) describe(body []byte) string {
	if c.cfg.Describe != nil {
		if s := c.cfg.Describe(body); s != "" {
			return s
		}
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

// transportMessage shortens a *url.Error (which repeats the whole URL,
// query included) to its cause.
func transportMessage(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}

// retryAfter reads Retry-After: delay-seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// MaxPages bounds one pagination (a server that never stops paging).
const MaxPages = 100_000

// Paginate walks a cursor-paginated listing: fetch gets the cursor of the
// page to read ("" for the first) and returns the next page's cursor, ""
// when it was the last. A cursor that repeats is an error rather than an
// endless loop; label (collector and path) starts such errors.
func Paginate(ctx context.Context, label string, fetch func(cursor string) (next string, err error)) error {
	seen := map[string]bool{}
	cursor := ""
	for page := 0; page < MaxPages; page++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		next, err := fetch(cursor)
		if err != nil || next == "" {
			return err
		}
		if seen[next] || next == cursor {
			return fmt.Errorf("%s: pagination repeats cursor %q; stopping rather than looping", label, next)
		}
		seen[next] = true
		cursor = next
	}
	return fmt.Errorf("%s: pagination did not end after %d pages", label, MaxPages)
}
