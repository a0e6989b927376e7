package serve

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Webhook outcomes counted in closedloop_webhook_requests_total.
const (
	OutcomeAccepted     = "accepted"
	OutcomeBadSignature = "bad_signature"
	OutcomeTooLarge     = "too_large"
	OutcomeUnconfigured = "unconfigured"
	OutcomeSpoolError   = "spool_error"
	OutcomeBadRequest   = "bad_request"
)

// metrics are the server's Prometheus series, on a registry of its own
// (several servers can live in one process, as in tests).
type metrics struct {
	reg         *prometheus.Registry
	webhooks    *prometheus.CounterVec
	ingested    *prometheus.CounterVec
	rejects     *prometheus.CounterVec
	skipped     *prometheus.CounterVec
	duplicates  prometheus.Counter
	drainBatch  prometheus.Histogram
	drainErrors prometheus.Counter
	jobDuration *prometheus.HistogramVec
	jobLastOK   *prometheus.GaugeVec
	jobRuns     *prometheus.CounterVec
	pages       *prometheus.CounterVec
}

func newMetrics(s *Server) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.webhooks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "closedloop_webhook_requests_total",
		Help: "Webhook requests by endpoint and outcome (accepted, bad_signature, too_large, unconfigured, spool_error, bad_request).",
	}, []string{"endpoint", "outcome"})
	m.ingested = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "closedloop_ingested_rows_total",
		Help: "Rows the spool drainer added to the store, by table (rejects included; duplicates excluded).",
	}, []string{"table"})
	m.rejects = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "closedloop_ingest_rejects_total",
		Help: "Spooled webhook bodies the collector rejected (stored in the rejects table), by endpoint.",
	}, []string{"endpoint"})
	m.skipped = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "closedloop_ingest_skipped_total",
		Help: "Spooled webhook bodies deliberately unused by the collector, by endpoint.",
	}, []string{"endpoint"})
	m.duplicates = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "closedloop_ingest_duplicate_records_total",
		Help: "Records of drained bodies already in the store (retries, re-drains after a crash).",
	})
	m.drainBatch = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "closedloop_spool_drain_batch_seconds",
		Help:    "Time to decode and load one batch of spooled bodies.",
		Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
	})
	m.drainErrors = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "closedloop_spool_drain_errors_total",
		Help: "Drain attempts that failed (the batch is retried).",
	})
	m.jobDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "closedloop_job_duration_seconds",
		Help:    "Duration of scheduled job runs.",
		Buckets: prometheus.ExponentialBuckets(0.1, 2, 12),
	}, []string{"job"})
	m.jobLastOK = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "closedloop_job_last_success_timestamp_seconds",
		Help: "Unix time of the last successful run of each scheduled job.",
	}, []string{"job"})
	m.jobRuns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "closedloop_job_runs_total",
		Help: "Scheduled job runs by outcome (success, failure).",
	}, []string{"job", "outcome"})
	m.pages = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "closedloop_dashboard_requests_total",
		Help: "Dashboard requests by page and HTTP status class.",
	}, []string{"page", "code"})
	lagBytes := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "closedloop_spool_lag_bytes",
		Help: "Bytes acknowledged to webhook senders but not yet drained into the store.",
	}, func() float64 { b, _ := s.spool.Lag(); return float64(b) })
	lagEvents := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "closedloop_spool_lag_events",
		Help: "Webhook bodies acknowledged but not yet drained into the store.",
	}, func() float64 { _, n := s.spool.Lag(); return float64(n) })
	acked := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "closedloop_spool_acknowledged_total",
		Help: "Webhook bodies made durable in the spool (and acknowledged) by this process.",
	}, func() float64 { return float64(s.spool.Acknowledged()) })
	torn := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "closedloop_spool_torn_lines_total",
		Help: "Torn tail lines skipped in segments of a crashed process (never acknowledged).",
	}, func() float64 { return float64(s.spool.TornLines.Load()) })
	m.reg.MustRegister(m.webhooks, m.ingested, m.rejects, m.skipped, m.duplicates, m.drainBatch, m.drainErrors,
		m.jobDuration, m.jobLastOK, m.jobRuns, m.pages, lagBytes, lagEvents, acked, torn,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
