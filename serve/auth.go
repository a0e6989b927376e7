package serve

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/closedloop/closedloop/config"
)

// SessionCookie is the name of the login session cookie.
const SessionCookie = "closedloop_session"

// sessionTTL bounds a login session.
const sessionTTL = 12 * time.Hour

// roleRank orders the roles: each may do what the ones below it may.
var roleRank = map[string]int{config.RoleViewer: 1, config.RoleAnalyst: 2, config.RoleCompliance: 3, config.RoleAdmin: 4}

// Principal is who made a dashboard request.
type Principal struct {
	Actor string // "token:<env var>" or "token:tokens[i]" (recorded in the audit log)
	Role  string
	// CSRF is the form token of a cookie session ("" for bearer requests,
	// which a browser never sends on its own).
	CSRF string
}

// FullPseudonyms reports whether the role sees customer pseudonyms whole.
func (p Principal) FullPseudonyms() bool { return roleRank[p.Role] >= roleRank[config.RoleAnalyst] }

// CanExportEvidence reports whether the role may pull evidence bundles.
func (p Principal) CanExportEvidence() bool {
	return p.Role == config.RoleCompliance || p.Role == config.RoleAdmin
}

type tokenEntry struct {
	id, role string
	digest   [32]byte
}

// authenticator checks bearer tokens and signs session cookies with a key
// made for this process (a restart logs everyone out).
type authenticator struct {
	tokens []tokenEntry
	key    []byte
}

func newAuthenticator(toks []config.Token, getenv func(string) string, logf func(string, ...any)) (*authenticator, error) {
	a := &authenticator{key: make([]byte, 32)}
	if _, err := rand.Read(a.key); err != nil {
		return nil, err
	}
	for i, t := range toks {
		id, secret := fmt.Sprintf("token:tokens[%d]", i), t.Token
		if t.TokenEnv != "" {
			id, secret = "token:"+t.TokenEnv, getenv(t.TokenEnv)
			if secret == "" {
				logf("warning: serve.tokens[%d]: $%s is not set; that %s token is disabled", i, t.TokenEnv, t.Role)
				continue
			}
		}
		if len(secret) < config.MinTokenLength {
			logf("warning: serve.tokens[%d] (%s) is shorter than %d characters; disabled", i, id, config.MinTokenLength)
			continue
		}
		if _, ok := roleRank[t.Role]; !ok {
			return nil, fmt.Errorf("serve.tokens[%d]: unknown role %q", i, t.Role)
		}
		a.tokens = append(a.tokens, tokenEntry{id: id, role: t.Role, digest: sha256.Sum256([]byte(secret))})
	}
	if len(a.tokens) == 0 {
		logf("warning: no dashboard tokens configured (serve.tokens): the dashboard refuses every request")
	}
	return a, nil
}

// lookup finds the token's entry, comparing against every token in
// constant time.
func (a *authenticator) lookup(secret string) (tokenEntry, bool) {
	d := sha256.Sum256([]byte(secret))
	var found tokenEntry
	ok := false
	for _, t := range a.tokens {
		if subtle.ConstantTimeCompare(d[:], t.digest[:]) == 1 {
			found, ok = t, true
		}
	}
	return found, ok && secret != ""
}

func (a *authenticator) mac(parts ...string) []byte {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(strings.Join(parts, "\x00")))
	return m.Sum(nil)
}

// newSession returns the cookie value of a session for t.
func (a *authenticator) newSession(t tokenEntry, now time.Time) string {
	var nonce [12]byte
	_, _ = rand.Read(nonce[:])
	payload := strings.Join([]string{"v1", t.id, t.role, strconv.FormatInt(now.Add(sessionTTL).Unix(), 10), hex.EncodeToString(nonce[:])}, "|")
	enc := base64.RawURLEncoding.EncodeToString([]byte(payload))
	return enc + "." + base64.RawURLEncoding.EncodeToString(a.mac("session", payload))
}

// session checks a cookie value.
func (a *authenticator) session(v string, now time.Time) (Principal, bool) {
	encPayload, encMac, ok := strings.Cut(v, ".")
	if !ok {
		return Principal{}, false
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(encPayload)
	mac, err2 := base64.RawURLEncoding.DecodeString(encMac)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, a.mac("session", string(payload))) {
		return Principal{}, false
	}
	f := strings.Split(string(payload), "|")
	if len(f) != 5 || f[0] != "v1" {
		return Principal{}, false
	}
	exp, err := strconv.ParseInt(f[3], 10, 64)
	if err != nil || now.Unix() > exp {
		return Principal{}, false
	}
	// The token must still be configured with that role.
	for _, t := range a.tokens {
		if t.id == f[1] && t.role == f[2] {
			csrf := hex.EncodeToString(a.mac("csrf", string(payload))[:16])
			return Principal{Actor: t.id, Role: t.role, CSRF: csrf}, true
		}
	}
	return Principal{}, false
}

type principalKey struct{}

func principalOf(r *http.Request) Principal {
	p, _ := r.Context().Value(principalKey{}).(Principal)
	return p
}

// identify finds the request's principal from a bearer token or the
// session cookie.
func (s *Server) identify(r *http.Request) (Principal, bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return Principal{}, false
		}
		t, ok := s.auth.lookup(strings.TrimSpace(tok))
		if !ok {
			return Principal{}, false
		}
		return Principal{Actor: t.id, Role: t.role}, true
	}
	if c, err := r.Cookie(SessionCookie); err == nil {
		return s.auth.session(c.Value, time.Now())
	}
	return Principal{}, false
}

// authed wraps a dashboard handler: no principal → redirect to the login
// form (browsers) or 401; a role below minRole → 403; a cookie-session
// POST must carry the session's CSRF token.
func (s *Server) authed(page, minRole string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, code: 200}
		defer func() { s.metrics.pages.WithLabelValues(page, strconv.Itoa(rec.code/100)+"xx").Inc() }()
		p, ok := s.identify(r)
		if !ok {
			if r.Method == http.MethodGet && r.Header.Get("Authorization") == "" && strings.Contains(r.Header.Get("Accept"), "text/html") {
				http.Redirect(rec, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			rec.Header().Set("WWW-Authenticate", `Bearer realm="closedloop"`)
			http.Error(rec, "authentication required: Authorization: Bearer <token>, or log in at /login", http.StatusUnauthorized)
			return
		}
		if roleRank[p.Role] < roleRank[minRole] {
			s.renderError(rec, r, p, http.StatusForbidden, fmt.Sprintf("Your role (%s) may not do this; it needs %s.", p.Role, minRole))
			return
		}
		if r.Method == http.MethodPost && p.CSRF != "" {
			if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(p.CSRF)) != 1 {
				s.renderError(rec, r, p, http.StatusForbidden, "The form is out of date (missing or wrong CSRF token): reload the page and try again.")
				return
			}
		}
		h(rec, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	}
}

// requireRole answers 403 unless the principal may export evidence.
func (s *Server) requireEvidenceRole(w http.ResponseWriter, r *http.Request, p Principal) bool {
	if p.CanExportEvidence() {
		return true
	}
	s.renderError(w, r, p, http.StatusForbidden, fmt.Sprintf("Evidence bundles are for the compliance and admin roles; yours is %s.", p.Role))
	return false
}

type statusRecorder struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.code, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// safeNext keeps a post-login redirect on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "login", pageData{Title: "Log in", Data: loginView{Next: safeNext(r.URL.Query().Get("next"))}})
}

type loginView struct {
	Next, Error string
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	next := safeNext(r.PostFormValue("next"))
	t, ok := s.auth.lookup(strings.TrimSpace(r.PostFormValue("token")))
	if !ok {
		time.Sleep(300 * time.Millisecond) // slow down guessing
		s.render(w, r, http.StatusUnauthorized, "login", pageData{Title: "Log in", Data: loginView{Next: next, Error: "That token is not valid."}})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: s.auth.newSession(t, time.Now()), Path: "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: isHTTPS(r), MaxAge: int(sessionTTL.Seconds())})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: isHTTPS(r), MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func isHTTPS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// maskID shortens an identifier for roles that see pseudonyms masked.
func maskID(s string) string {
	r := []rune(s)
	if len(r) <= 6 {
		return strings.Repeat("•", len(r))
	}
	return string(r[:6]) + "…"
}

func contextWithPrincipal(r *http.Request, p Principal) context.Context {
	return context.WithValue(r.Context(), principalKey{}, p)
}
