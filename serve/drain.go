package serve

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/models"
)

// Endpoint names, as spooled and as labelled in the metrics.
const (
	EndpointWhatsApp = "whatsapp"
	EndpointChatwoot = "chatwoot"
	EndpointTwilio   = "twilio"
	EndpointSendGrid = "sendgrid"
)

// endpointSource is the collector that decodes an endpoint's bodies and
// the format the bodies arrive in.
type endpointSource struct {
	collector string
	format    ingest.Format
}

var endpointSources = map[string]endpointSource{
	EndpointWhatsApp: {"meta", ingest.FormatJSON},
	EndpointChatwoot: {"chatwoot", ingest.FormatJSON},
	// Twilio posts application/x-www-form-urlencoded bodies, read as a
	// .form file is.
	EndpointTwilio:   {"twilio", ingest.FormatForm},
	EndpointSendGrid: {"sendgrid", ingest.FormatJSON},
}

// collectorFor names the collector that decodes an endpoint's bodies and
// their format.
func collectorFor(endpoint string) (ingest.Collector, ingest.Format, bool) {
	src, ok := endpointSources[endpoint]
	if !ok {
		return nil, 0, false
	}
	col, ok := ingest.Lookup(src.collector)
	return col, src.format, ok
}

// SourceRef is the provenance stamped on rows from a webhook body: stable
// for a request, so re-draining it gives the same rows (rejects included).
func SourceRef(endpoint, requestID string) string { return "webhook:" + endpoint + ":" + requestID }

// drainLoop drains whenever the spool signals new records (and every
// second regardless), until Close.
func (s *Server) drainLoop() {
	defer close(s.drainDone)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	backoff := time.Duration(0)
	for {
		s.drainBeat.Store(time.Now().UnixNano())
		select {
		case <-s.drainStop:
			return
		case <-s.spool.Notify():
		case <-tick.C:
		}
		if backoff > 0 {
			select {
			case <-s.drainStop:
				return
			case <-time.After(backoff):
			}
		}
		err := s.DrainAll(context.Background())
		if err != nil {
			msg := err.Error()
			s.drainErr.Store(&msg)
			s.metrics.drainErrors.Inc()
			s.logf("draining the spool: %v (retrying)", err)
			backoff = min(max(2*backoff, time.Second), 30*time.Second)
			continue
		}
		s.drainErr.Store(nil)
		backoff = 0
		// Caught up: let the drained segment go so that raw bodies do not
		// linger on disk (they hold message texts and phone numbers).
		if cur, size := s.spool.durableEnd(); size > 0 && s.spool.Checkpoint() == (Checkpoint{Segment: cur, Offset: size}) {
			s.spool.RequestRotate()
		}
	}
}

// DrainAll loads every durable spool record into the store. Drains never
// overlap (the loop and a caller such as Close take turns).
func (s *Server) DrainAll(ctx context.Context) error {
	s.drainMu.Lock()
	defer s.drainMu.Unlock()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := s.drainOnce(ctx)
		if err != nil {
			return err
		}
		if !n {
			return nil
		}
		s.drainBeat.Store(time.Now().UnixNano())
	}
}

// drainOnce loads one batch; false when there was nothing to drain.
func (s *Server) drainOnce(ctx context.Context) (bool, error) {
	b, ok, err := s.spool.readBatch(s.opt.DrainBatchBytes)
	if err != nil || !ok {
		return false, err
	}
	start := time.Now()
	recs, stats := s.decodeBatch(b)
	if len(recs) > 0 {
		s.writeMu.Lock()
		added, err := s.st.Load(ctx, recs)
		s.writeMu.Unlock()
		if err != nil {
			return false, fmt.Errorf("loading %d records: %w", len(recs), err)
		}
		stored := 0
		for t, n := range added {
			s.metrics.ingested.WithLabelValues(string(t)).Add(float64(n))
			if t != models.TableRejects {
				stored += n
			}
		}
		s.metrics.duplicates.Add(float64(max(stats.events-stored, 0)))
	}
	for ep, n := range stats.rejects {
		s.metrics.rejects.WithLabelValues(ep).Add(float64(n))
	}
	for ep, n := range stats.skipped {
		s.metrics.skipped.WithLabelValues(ep).Add(float64(n))
	}
	if s.opt.drainDelay > 0 {
		time.Sleep(s.opt.drainDelay)
	}
	if err := s.spool.commitCheckpoint(b.next, b.lines); err != nil {
		return false, fmt.Errorf("advancing the spool checkpoint: %w", err)
	}
	s.metrics.drainBatch.Observe(time.Since(start).Seconds())
	return true, nil
}

type decodeStats struct {
	events  int
	rejects map[string]int
	skipped map[string]int
}

// decodeBatch maps spooled bodies to records with the endpoint's collector;
// a body the collector refuses becomes a reject, as in `closedloop ingest`.
func (s *Server) decodeBatch(b batch) ([]models.Record, decodeStats) {
	st := decodeStats{rejects: map[string]int{}, skipped: map[string]int{}}
	var out []models.Record
	reject := func(source, ref, reason string, raw []byte, at time.Time) {
		// The same reject as `closedloop ingest` writes: customer numbers in
		// the kept copy are replaced by their pseudonyms, text is valid UTF-8.
		r := ingest.NewReject(&ingest.Env{Pseudo: s.opt.Pseudo, Now: models.UTCms(at)}, source, ref, reason, raw)
		out = append(out, r)
	}
	for _, bl := range b.bad {
		if bl.torn {
			// Never acknowledged: the sender retries it.
			s.logf("spool %s: skipping a torn line of %d bytes left by a crash", bl.ref, len(bl.raw))
			continue
		}
		reject("spool", bl.ref, "unreadable spool line: "+bl.err.Error(), bl.raw, time.Now())
		st.rejects["spool"]++
	}
	for _, rec := range b.records {
		ref := SourceRef(rec.Endpoint, rec.RequestID)
		col, format, ok := collectorFor(rec.Endpoint)
		if !ok {
			reject("spool", ref, fmt.Sprintf("unknown webhook endpoint %q", rec.Endpoint), rec.Raw(), rec.ReceivedAt)
			st.rejects[rec.Endpoint]++
			continue
		}
		env := &ingest.Env{Pseudo: s.opt.Pseudo, Now: rec.ReceivedAt}
		doc := ingest.Doc{Raw: rec.Raw(), Format: format, Ref: ref}
		start := len(out)
		err := col.Decode(env, doc, func(r models.Record) {
			m := r.Base()
			m.Source = col.Name()
			if m.SourceRef == "" {
				m.SourceRef = ref
			}
			m.IngestedAt = models.UTCms(rec.ReceivedAt)
			out = append(out, r)
		})
		if err == nil {
			// Checks the pipeline applies after decoding (valid UTF-8, no
			// timestamps far in the future): a body failing them becomes a
			// reject instead of a batch the store refuses for ever.
			if reason := ingest.CheckDecoded(doc, out[start:], rec.ReceivedAt); reason != "" {
				out = out[:start]
				reject(col.Name(), ref, reason, rec.Raw(), rec.ReceivedAt)
				st.rejects[rec.Endpoint]++
				continue
			}
			st.events += len(out) - start
			continue
		}
		out = out[:start]
		if errors.Is(err, ingest.ErrSkip) {
			st.skipped[rec.Endpoint]++
			continue
		}
		reject(col.Name(), ref, err.Error(), rec.Raw(), rec.ReceivedAt)
		st.rejects[rec.Endpoint]++
	}
	return out, st
}
