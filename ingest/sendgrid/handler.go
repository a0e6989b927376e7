package sendgrid

import (
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/models"
	"github.com/closedloop/closedloop/pii"
)

// Accept keeps a verified body (durably, before the handler answers 200)
// or returns an error, which makes the handler answer 503 so that SendGrid
// retries. closedloop serve passes its spool; Load decodes and stores at
// once.
type Accept func(r *http.Request, body []byte) error

// HandlerOptions configure Handler.
type HandlerOptions struct {
	// PublicKey verifies signatures (ParsePublicKey of PublicKeyEnv). Nil:
	// every request is answered 503 "not configured".
	PublicKey *ecdsa.PublicKey
	// MaxSkew, when positive, refuses a timestamp header further than this
	// from the server's clock (replays of old deliveries). Zero: no check,
	// as in SendGrid's own helpers; replays are harmless anyway because
	// events are stored once per event_id.
	MaxSkew time.Duration
	// MaxBodyBytes bounds a body (default 4 MiB: SendGrid batches up to
	// a few thousand events).
	MaxBodyBytes int64
	// Accept keeps verified bodies (required).
	Accept Accept
	// Now is the clock for MaxSkew (default time.Now).
	Now func() time.Time
}

// Handler serves POST /webhooks/sendgrid: it checks the Signed Event
// Webhook signature (ECDSA P-256 over the timestamp header followed by the
// raw body) and hands the body to Accept. Answers: 200, 401 for a missing
// or wrong signature or timestamp, 405 for other methods, 413 over the
// limit, 503 when not configured or when Accept fails.
func Handler(o HandlerOptions) http.Handler {
	limit := o.MaxBodyBytes
	if limit <= 0 {
		limit = 4 << 20
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "use POST", http.StatusMethodNotAllowed)
			return
		}
		if o.PublicKey == nil || o.Accept == nil {
			http.Error(w, "this webhook is not configured on the server ("+PublicKeyEnv+" is not set)", http.StatusServiceUnavailable)
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
		ts := r.Header.Get(TimestampHeader)
		if !VerifySignature(o.PublicKey, body, r.Header.Get(SignatureHeader), ts) {
			http.Error(w, "missing or invalid "+SignatureHeader, http.StatusUnauthorized)
			return
		}
		if o.MaxSkew > 0 {
			sec, err := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
			if err != nil || now().Sub(time.Unix(sec, 0)).Abs() > o.MaxSkew {
				http.Error(w, TimestampHeader+" is too far from the server's clock", http.StatusUnauthorized)
				return
			}
		}
		if err := o.Accept(r, body); err != nil {
			w.Header().Set("Retry-After", "5")
			http.Error(w, "could not store the events; retry later", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// Load returns an Accept that decodes the body at once with the collector
// and stores its records (or a reject) through loader: for running the
// handler without closedloop serve's spool.
func Load(loader ingest.Loader, pseudo *pii.Pseudonymiser) Accept {
	return func(r *http.Request, body []byte) error {
		now := time.Now().UTC()
		ref := "webhook:sendgrid:" + requestID()
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

func decodeBody(pseudo *pii.Pseudonymiser, now time.Time, ref string, body []byte) ([]models.Record, error) {
	if pseudo == nil {
		return nil, errors.New("sendgrid: no pseudonymiser")
	}
	env := &ingest.Env{Pseudo: pseudo, Now: now}
	doc := ingest.Doc{Raw: body, Format: ingest.FormatJSON, Ref: ref}
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
	// The body is not kept with the reject: ingest's redaction knows phone
	// numbers, not e-mail addresses.
	rej := &models.Reject{Reason: emailRE.ReplaceAllString(err.Error(), "[email]"),
		Raw: fmt.Sprintf("%d bytes (webhook body not kept: it holds e-mail addresses)", len(body))}
	rej.Source, rej.SourceRef, rej.IngestedAt = Name, ref, now
	rej.EventID = models.HashID(Name, ref, rej.Reason, rej.Raw)
	return []models.Record{rej}, nil
}

func requestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
