// Package serve is `closedloop serve`: the webhook receiver (Meta's
// WhatsApp Cloud API, Chatwoot, Twilio and SendGrid), the authenticated
// dashboard, and the health, readiness and Prometheus endpoints, around
// one open store.
//
// Webhook bodies are acknowledged only once they are fsynced to a local
// append-only spool (spool.go); a drainer goroutine decodes them with the
// same collectors as `closedloop ingest` and loads them into the store,
// then advances a durable checkpoint. Every write to the store (drains,
// scheduled jobs, audit records, fact rebuilds) is serialised by one mutex;
// dashboard reads of raw tables run concurrently.
package serve

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/closedloop/closedloop/audit"
	"github.com/closedloop/closedloop/config"
	"github.com/closedloop/closedloop/ingest/sendgrid"
	"github.com/closedloop/closedloop/models"
	"github.com/closedloop/closedloop/pii"
	"github.com/closedloop/closedloop/store"
	"github.com/closedloop/closedloop/transforms"

	_ "github.com/closedloop/closedloop/ingest/all" // the collectors
)

// Options configure a Server.
type Options struct {
	// Store is the open store (the caller closes it after Close).
	Store store.Store
	// Config supplies tokens, secret variable names, the reporting time
	// zone and the pack settings (nil: defaults).
	Config *config.Config
	// Calendars give business time and SLA targets (nil: always open, 15 min).
	Calendars transforms.Calendars
	// Pseudo pseudonymises customer ids at ingest (required).
	Pseudo *pii.Pseudonymiser
	// SpoolDir is the spool directory (required).
	SpoolDir string
	// SegmentBytes is the spool segment size (default DefaultSegmentBytes).
	SegmentBytes int64
	// PackDir caches packs generated for download (default: SpoolDir/../packs-cache).
	PackDir string
	// SigningKey signs evidence bundles; nil disables evidence export.
	SigningKey ed25519.PrivateKey
	// Figures supplies the KPI figures of period evidence bundles.
	Figures audit.FigureSource
	// Refresh is how old the facts behind the dashboard may get before a
	// page view rebuilds them (default 1 minute).
	Refresh time.Duration
	// DrainBatchBytes bounds one drain batch (default 4 MiB).
	DrainBatchBytes int64
	// Getenv reads secrets (default os.Getenv).
	Getenv func(string) string
	// Log receives operational messages (default os.Stderr).
	Log io.Writer

	// drainDelay (tests) pauses between a batch's load and its checkpoint,
	// widening the window in which a crash makes the next drain repeat it.
	drainDelay time.Duration
}

// Server is one running `closedloop serve`.
type Server struct {
	opt     Options
	cfg     *config.Config
	st      store.Store
	locked  *lockedStore
	writeMu sync.Mutex // serialises every write to the store
	spool   *Spool
	metrics *metrics
	auth    *authenticator
	secrets secrets
	mux     *http.ServeMux
	loc     *time.Location
	// twilio and sendgrid are the collectors' webhook handlers (nil when
	// their secret is not set).
	twilio, sendgrid http.Handler
	dash             *dashboard

	drainMu   sync.Mutex // one drain at a time
	drainStop chan struct{}
	drainDone chan struct{}
	drainBeat atomic.Int64 // unix nanos of the drainer's last loop
	drainErr  atomic.Pointer[string]
	started   atomic.Bool
	closeOnce sync.Once
	logMu     sync.Mutex
}

type secrets struct {
	metaVerify, metaApp, chatwoot string
	// twilio is the auth token keying X-Twilio-Signature; sendgrid the
	// Event Webhook's verification key.
	twilio   string
	sendgrid *ecdsa.PublicKey
}

// New opens the spool and prepares the handlers; Start begins draining.
func New(opt Options) (*Server, error) {
	if opt.Store == nil {
		return nil, errors.New("serve: no store")
	}
	if opt.Pseudo == nil {
		return nil, errors.New("serve: no pseudonymiser")
	}
	if opt.SpoolDir == "" {
		return nil, errors.New("serve: no spool directory")
	}
	if opt.Config == nil {
		opt.Config = config.Default()
	}
	if opt.Calendars == nil {
		opt.Calendars = transforms.AlwaysOpen{Target: config.DefaultSLATarget}
	}
	if opt.Getenv == nil {
		opt.Getenv = os.Getenv
	}
	if opt.Log == nil {
		opt.Log = os.Stderr
	}
	if opt.Refresh <= 0 {
		opt.Refresh = time.Minute
	}
	if opt.DrainBatchBytes <= 0 {
		opt.DrainBatchBytes = 4 << 20
	}
	if opt.PackDir == "" {
		opt.PackDir = opt.SpoolDir + "-packs"
	}
	loc, err := time.LoadLocation(opt.Config.Report.Timezone)
	if err != nil {
		return nil, fmt.Errorf("report.timezone: %w", err)
	}
	sp, err := OpenSpool(opt.SpoolDir, opt.SegmentBytes)
	if err != nil {
		return nil, err
	}
	s := &Server{opt: opt, cfg: opt.Config, st: opt.Store, spool: sp, loc: loc,
		drainStop: make(chan struct{}), drainDone: make(chan struct{})}
	s.locked = &lockedStore{Store: opt.Store, mu: &s.writeMu}
	sc := opt.Config.Serve
	s.secrets = secrets{
		metaVerify: opt.Getenv(sc.MetaVerifyTokenEnv),
		metaApp:    opt.Getenv(sc.MetaAppSecretEnv),
		chatwoot:   opt.Getenv(sc.ChatwootTokenEnv),
		twilio:     opt.Getenv(sc.TwilioAuthTokenEnv),
	}
	sgKey := opt.Getenv(sc.SendGridPublicKeyEnv)
	if sgKey != "" {
		if s.secrets.sendgrid, err = sendgrid.ParsePublicKey(sgKey); err != nil {
			sp.Close()
			return nil, fmt.Errorf("reading $%s (serve.sendgrid_public_key_env): %w", sc.SendGridPublicKeyEnv, err)
		}
	}
	if err := s.collectorWebhooks(); err != nil {
		sp.Close()
		return nil, err
	}
	for _, w := range []struct{ v, env, what string }{
		{s.secrets.metaVerify, sc.MetaVerifyTokenEnv, "Meta's verification handshake is refused"},
		{s.secrets.metaApp, sc.MetaAppSecretEnv, "WhatsApp webhook deliveries are refused"},
		{s.secrets.chatwoot, sc.ChatwootTokenEnv, "Chatwoot webhook deliveries are refused"},
		{s.secrets.twilio, sc.TwilioAuthTokenEnv, "Twilio webhook deliveries are refused"},
		{sgKey, sc.SendGridPublicKeyEnv, "SendGrid webhook deliveries are refused"},
	} {
		if w.v == "" {
			s.logf("warning: $%s is not set: %s", w.env, w.what)
		}
	}
	s.auth, err = newAuthenticator(opt.Config.Serve.Tokens, opt.Getenv, s.logf)
	if err != nil {
		sp.Close()
		return nil, err
	}
	s.metrics = newMetrics(s)
	s.dash = newDashboard(s)
	s.routes()
	return s, nil
}

func (s *Server) logf(format string, a ...any) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	fmt.Fprintf(s.opt.Log, "%s %s\n", time.Now().UTC().Format(time.RFC3339), fmt.Sprintf(format, a...))
}

// Handler is the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.mux }

// Spool is the server's spool.
func (s *Server) Spool() *Spool { return s.spool }

// Store returns a view of the store whose Load takes the server's write
// lock: give it to code that writes through Load (audit records) while the
// server runs.
func (s *Server) Store() store.Store { return s.locked }

// WithWriteLock runs fn holding the store's write lock.
func (s *Server) WithWriteLock(fn func() error) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return fn()
}

// RunJob runs one scheduled job under the write lock and records its
// duration and outcome in the metrics.
func (s *Server) RunJob(ctx context.Context, name string, run func(context.Context) (string, error)) (string, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	start := time.Now()
	msg, err := run(ctx)
	s.metrics.jobDuration.WithLabelValues(name).Observe(time.Since(start).Seconds())
	if err != nil {
		s.metrics.jobRuns.WithLabelValues(name, "failure").Inc()
	} else {
		s.metrics.jobRuns.WithLabelValues(name, "success").Inc()
		s.metrics.jobLastOK.WithLabelValues(name).SetToCurrentTime()
	}
	// Rebuilt facts invalidate the dashboard's cached packs.
	s.dash.invalidate()
	return msg, err
}

// Start begins draining the spool into the store.
func (s *Server) Start() {
	if s.started.Swap(true) {
		return
	}
	s.drainBeat.Store(time.Now().UnixNano())
	go s.drainLoop()
}

// Serve answers HTTP on ln until ctx ends, then shuts down gracefully:
// stops accepting, lets in-flight requests finish (up to 30 s), and
// drains the spool (Close). The store stays open for the caller to close.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.Start()
	hs := &http.Server{Handler: s.mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second,
		IdleTimeout: 120 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = hs.Shutdown(sctx)
		cancel()
		<-errc
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return errors.Join(err, s.Close())
}

// Close stops taking webhook bodies, drains what the spool holds into the
// store and stops the drainer. Call it after the HTTP server has stopped.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.spool.Close()
		if s.started.Load() {
			close(s.drainStop)
			<-s.drainDone
		}
		// Whatever is left (the drainer may have stopped on an error).
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		err = s.DrainAll(ctx)
		if err == nil {
			err = s.spool.Retire()
		}
	})
	return err
}

// lockedStore is the store seen by code that writes through Load while the
// server runs: each Load takes the server's write lock.
type lockedStore struct {
	store.Store
	mu *sync.Mutex
}

func (l *lockedStore) Load(ctx context.Context, recs []models.Record) (map[models.Table]int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.Store.Load(ctx, recs)
}

// DB is the store's pool for queries.
func (l *lockedStore) DB() *sql.DB { return l.Store.DB() }

// ready checks the store and the drainer.
func (s *Server) ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	var one int
	if err := s.st.DB().QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("store not reachable: %v", err)
	}
	if err := s.spool.Err(); err != nil {
		return err
	}
	if !s.started.Load() {
		return errors.New("spool drainer not started")
	}
	select {
	case <-s.drainDone:
		return errors.New("spool drainer stopped")
	default:
	}
	if p := s.drainErr.Load(); p != nil {
		return fmt.Errorf("spool drainer failing: %s", *p)
	}
	if age := time.Since(time.Unix(0, s.drainBeat.Load())); age > 5*time.Minute {
		return fmt.Errorf("spool drainer silent for %s", age.Round(time.Second))
	}
	return nil
}
