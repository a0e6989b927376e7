package twilio

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/models"
	"github.com/closedloop/closedloop/pii"
)

// Accept keeps a verified body (durably, before the handler answers 200)
// or returns an error, which makes the handler answer 503 so that Twilio
// retries. closedloop serve passes its spool; Load decodes and stores at
// once.
type Accept func(r *http.Request, body []byte) error

// HandlerOptions configure Handler.
type HandlerOptions struct {
	// AuthToken keys the signature (from AuthTokenEnv). Empty: every
	// request is answered 503 "not configured".
	AuthToken string
	// PublicURL is the scheme and host Twilio posts to, as configured in
	// the Twilio console ("https://cx.example.com"); the request's path and
	// query are appended. Empty: taken from the request (X-Forwarded-Proto
	// and X-Forwarded-Host honoured), which is right unless a proxy
	// rewrites the host.
	PublicURL string
	// MaxBodyBytes bounds a body (default 1 MiB).
	MaxBodyBytes int64
	// Accept keeps verified bodies (required).
	Accept Accept
}

// Handler serves POST /webhooks/twilio: it checks X-Twilio-Signature over
// the full URL and the form parameters, then hands the raw body to Accept.
// Answers: 200 with an empty TwiML response (inbound messages get no
// automatic reply), 401 for a missing or wrong signature, 400 for a body
// that is not a form, 405 for other methods, 413 for a body over the
// limit, 503 when not configured or when Accept fails.
func Handler(o HandlerOptions) http.Handler {
	limit := o.MaxBodyBytes
	if limit <= 0 {
		limit = 1 << 20
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "use POST", http.StatusMethodNotAllowed)
			return
		}
		if o.AuthToken == "" || o.Accept == nil {
			http.Error(w, "this webhook is not configured on the server ("+AuthTokenEnv+" is not set)", http.StatusServiceUnavailable)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "reading the body failed", http.StatusBadRequest)
			return
		}
		params, err := url.ParseQuery(string(body))
		if err != nil {
			http.Error(w, "the body is not form-encoded", http.StatusBadRequest)
			return
		}
		if !VerifySignature(o.AuthToken, RequestURL(r, o.PublicURL), params, r.Header.Get(SignatureHeader)) {
			http.Error(w, "missing or invalid "+SignatureHeader, http.StatusUnauthorized)
			return
		}
		if err := o.Accept(r, body); err != nil {
			w.Header().Set("Retry-After", "5")
			http.Error(w, "could not store the event; retry later", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`)
	})
}

// RequestURL is the URL Twilio signed: publicURL (or the request's own
// scheme and host) followed by the request's path and query.
func RequestURL(r *http.Request, publicURL string) string {
	if publicURL != "" {
		return strings.TrimRight(publicURL, "/") + r.URL.RequestURI()
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p != "" {
		scheme = strings.TrimSpace(strings.Split(p, ",")[0])
	}
	host := r.Host
	if h := r.Header.Get("X-Forwarded-Host"); h != "" {
		host = strings.TrimSpace(strings.Split(h, ",")[0])
	}
	return scheme + "://" + host + r.URL.RequestURI()
}

// Load returns an Accept that decodes the body at once with the collector
// and stores its records (or a reject) through loader: for running the
// handler without closedloop serve's spool.
func Load(loader ingest.Loader, pseudo *pii.Pseudonymiser) Accept {
	return func(r *http.Request, body []byte) error {
		now := time.Now().UTC()
		ref := "webhook:twilio:" + requestID()
		recs, err := decodeBody(pseudo, now, ref, body)
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			return nil
		}
		_, err = loader.Load(r.Context(), recs)
		return err
	}
}

// decodeBody maps one webhook body to records, a reject when the
// collector refuses it, or nothing when it is deliberately skipped.
func decodeBody(pseudo *pii.Pseudonymiser, now time.Time, ref string, body []byte) ([]models.Record, error) {
	if pseudo == nil {
		return nil, errors.New("twilio: no pseudonymiser")
	}
	env := &ingest.Env{Pseudo: pseudo, Now: now}
	doc := ingest.Doc{Raw: body, Format: ingest.FormatForm, Ref: ref}
	var recs []models.Record
	err := Collector{}.Decode(env, doc, func(rec models.Record) {
		b := rec.Base()
		b.Source, b.SourceRef, b.IngestedAt = Name, ref, now
		recs = append(recs, rec)
	})
	switch {
	case errors.Is(err, ingest.ErrSkip):
		return nil, nil
	case err == nil:
		reason := ingest.CheckDecoded(doc, recs, now)
		if reason == "" {
			return recs, nil
		}
		err = errors.New(reason)
	}
	// The copy kept with the reject has the customer numbers pseudonymised.
	return []models.Record{ingest.NewReject(env, Name, ref, err.Error(), body)}, nil
}

func requestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
