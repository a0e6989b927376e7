package serve

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/closedloop/closedloop/ingest/sendgrid"
	"github.com/closedloop/closedloop/ingest/twilio"
)

// SignatureHeader carries Meta's HMAC-SHA-256 of the raw body.
const SignatureHeader = "X-Hub-Signature-256"

// ChatwootTokenHeader is one of the places the Chatwoot token may come in
// (also ?token=, for a webhook URL configured in Chatwoot's settings).
const ChatwootTokenHeader = "X-Closedloop-Token"

// Sign returns the X-Hub-Signature-256 value of body under secret, as Meta
// computes it.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// validSignature checks header against the body in constant time.
func validSignature(secret, header string, body []byte) bool {
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(header), "sha256=")
	if !ok || secret == "" {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hmac.Equal(got, m.Sum(nil))
}

// equalSecret compares two secrets in constant time (over their digests,
// so the length of the expected one does not leak either).
func equalSecret(want, got string) bool {
	if want == "" {
		return false
	}
	a, b := sha256.Sum256([]byte(want)), sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// whatsappVerify answers Meta's subscription handshake.
func (s *Server) whatsappVerify(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("hub.mode") != "subscribe" || !equalSecret(s.secrets.metaVerify, q.Get("hub.verify_token")) {
		s.metrics.webhooks.WithLabelValues(EndpointWhatsApp, "verify_refused").Inc()
		http.Error(w, "verification refused", http.StatusForbidden)
		return
	}
	s.metrics.webhooks.WithLabelValues(EndpointWhatsApp, "verified").Inc()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, q.Get("hub.challenge"))
}

// whatsappEvent receives a signed delivery from Meta.
func (s *Server) whatsappEvent(w http.ResponseWriter, r *http.Request) {
	s.receive(w, r, EndpointWhatsApp, s.secrets.metaApp != "", func(body []byte) bool {
		return validSignature(s.secrets.metaApp, r.Header.Get(SignatureHeader), body)
	})
}

// chatwootEvent receives a Chatwoot webhook presenting the shared token.
func (s *Server) chatwootEvent(w http.ResponseWriter, r *http.Request) {
	s.receive(w, r, EndpointChatwoot, s.secrets.chatwoot != "", func([]byte) bool {
		tok := r.Header.Get(ChatwootTokenHeader)
		if tok == "" {
			tok = r.URL.Query().Get("token")
		}
		return equalSecret(s.secrets.chatwoot, tok)
	})
}

// receive reads a bounded body, checks it, spools it durably and only then
// answers 200. Nothing that fails a check is stored.
func (s *Server) receive(w http.ResponseWriter, r *http.Request, endpoint string, configured bool, valid func([]byte) bool) {
	count := func(outcome string) { s.metrics.webhooks.WithLabelValues(endpoint, outcome).Inc() }
	if !configured {
		count(OutcomeUnconfigured)
		http.Error(w, "this webhook is not configured on the server (its secret is not set)", http.StatusServiceUnavailable)
		return
	}
	limit := s.cfg.Serve.MaxBodyBytes
	if limit <= 0 {
		limit = 1 << 20
	}
	if r.ContentLength > limit {
		count(OutcomeTooLarge)
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			count(OutcomeTooLarge)
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		count(OutcomeBadRequest)
		http.Error(w, "reading the body failed", http.StatusBadRequest)
		return
	}
	if !valid(body) {
		count(OutcomeBadSignature)
		http.Error(w, "missing or invalid signature", http.StatusUnauthorized)
		return
	}
	id, err := s.spoolBody(endpoint, body)
	if err != nil {
		w.Header().Set("Retry-After", "5")
		http.Error(w, "could not store the event; retry later", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("X-Request-Id", id)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, "EVENT_RECEIVED")
}

// spoolBody appends a verified body to the spool (fsynced when it returns
// nil) and counts the outcome; it returns the request id.
func (s *Server) spoolBody(endpoint string, body []byte) (string, error) {
	id := newRequestID()
	if err := s.spool.Append(NewSpoolRecord(endpoint, id, time.Now(), body)); err != nil {
		s.metrics.webhooks.WithLabelValues(endpoint, OutcomeSpoolError).Inc()
		s.logf("spooling a %s webhook: %v", endpoint, err)
		return "", fmt.Errorf("spooling a %s webhook: %w", endpoint, err)
	}
	s.metrics.webhooks.WithLabelValues(endpoint, OutcomeAccepted).Inc()
	return id, nil
}

// spoolAccept is the Accept of a collector's webhook handler: the verified
// body goes to the spool, which the drainer loads like any other.
func (s *Server) spoolAccept(endpoint string) func(*http.Request, []byte) error {
	return func(_ *http.Request, body []byte) error {
		_, err := s.spoolBody(endpoint, body)
		return err
	}
}

// collectorWebhooks builds the endpoints whose collector brings its own
// handler (reading, bounding and verifying the body): Twilio's
// X-Twilio-Signature and SendGrid's signed Event Webhook. A nil handler
// means the endpoint's secret is not set.
func (s *Server) collectorWebhooks() error {
	sc := s.cfg.Serve
	if s.secrets.twilio != "" {
		o := twilio.HandlerOptions{AuthToken: s.secrets.twilio, MaxBodyBytes: sc.MaxBodyBytes,
			Accept: s.spoolAccept(EndpointTwilio)}
		if sc.TwilioPublicURL == "" {
			s.twilio = twilio.Handler(o)
		} else {
			u, err := url.Parse(sc.TwilioPublicURL)
			if err != nil || u.Scheme == "" || u.Host == "" {
				return fmt.Errorf("serve.twilio_public_url: %q is not an absolute http(s) URL", sc.TwilioPublicURL)
			}
			o.PublicURL = u.Scheme + "://" + u.Host
			s.twilio = signedAt(twilio.Handler(o), u)
		}
	}
	if s.secrets.sendgrid != nil {
		s.sendgrid = sendgrid.Handler(sendgrid.HandlerOptions{PublicKey: s.secrets.sendgrid, MaxBodyBytes: sc.MaxBodyBytes,
			MaxSkew: time.Duration(sc.SendGridMaxSkew), Accept: s.spoolAccept(EndpointSendGrid)})
	}
	return nil
}

// signedAt makes Twilio's handler check signatures against public, the
// webhook URL exactly as set in the Twilio console. The handler signs its
// PublicURL (public's scheme and host) followed by the request's path and
// query, so the request it is given carries public's path and query in
// place of those that reached serve, which a proxy may have rewritten.
func signedAt(h http.Handler, public *url.URL) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := *r.URL
		u.Path, u.RawPath, u.RawQuery, u.ForceQuery = public.Path, public.RawPath, public.RawQuery, public.ForceQuery
		r2 := r.WithContext(r.Context())
		r2.URL = &u
		h.ServeHTTP(w, r2)
	})
}

// twilioEvent receives a Twilio status callback or inbound message.
func (s *Server) twilioEvent(w http.ResponseWriter, r *http.Request) {
	s.viaCollector(w, r, EndpointTwilio, s.cfg.Serve.TwilioAuthTokenEnv, s.twilio)
}

// sendgridEvent receives a batch of SendGrid events.
func (s *Server) sendgridEvent(w http.ResponseWriter, r *http.Request) {
	s.viaCollector(w, r, EndpointSendGrid, s.cfg.Serve.SendGridPublicKeyEnv, s.sendgrid)
}

// viaCollector runs a collector's handler and counts what it answered
// (accepted and spool errors are counted by spoolBody).
func (s *Server) viaCollector(w http.ResponseWriter, r *http.Request, endpoint, env string, h http.Handler) {
	if h == nil {
		s.metrics.webhooks.WithLabelValues(endpoint, OutcomeUnconfigured).Inc()
		http.Error(w, "this webhook is not configured on the server ($"+env+" is not set)", http.StatusServiceUnavailable)
		return
	}
	rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
	h.ServeHTTP(rec, r)
	outcome := map[int]string{
		http.StatusUnauthorized:          OutcomeBadSignature,
		http.StatusForbidden:             OutcomeBadSignature,
		http.StatusRequestEntityTooLarge: OutcomeTooLarge,
		http.StatusBadRequest:            OutcomeBadRequest,
		http.StatusMethodNotAllowed:      OutcomeBadRequest,
	}[rec.code]
	if outcome != "" {
		s.metrics.webhooks.WithLabelValues(endpoint, outcome).Inc()
	}
}
