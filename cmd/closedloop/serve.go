package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/closedloop/closedloop/audit"
	"github.com/closedloop/closedloop/config"
	"github.com/closedloop/closedloop/serve"
)

func init() { extraCommands = append(extraCommands, newServeCmd) }

type serveFlags struct {
	db, addr, spool, packs string
}

func newServeCmd(g *globals) *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve --db FILE|DSN [--addr HOST:PORT]",
		Short: "Run the webhook receiver, the dashboard and the scheduler until stopped",
		Long: "Serve WhatsApp (Meta) and Chatwoot webhooks, the dashboard and the schedules.\n\n" +
			"  GET  /webhooks/whatsapp   Meta's verification handshake ($CLOSEDLOOP_META_VERIFY_TOKEN)\n" +
			"  POST /webhooks/whatsapp   deliveries signed with X-Hub-Signature-256 ($CLOSEDLOOP_META_APP_SECRET)\n" +
			"  POST /webhooks/chatwoot   deliveries with ?token= or X-Closedloop-Token ($CLOSEDLOOP_CHATWOOT_TOKEN)\n" +
			"  /                         dashboard (bearer token or /login; roles from serve.tokens)\n" +
			"  /healthz /readyz /metrics operations, without authentication\n\n" +
			"A webhook is answered 200 only once its body is fsynced to the spool (serve.spool_dir);\n" +
			"the spool is drained into the store in batches, so a crash after the 200 loses nothing\n" +
			"and retried deliveries are stored once. schedules.transform and schedules.weekly_pack run\n" +
			"inside the server. SIGINT/SIGTERM: stop accepting, finish requests, drain the spool, exit.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runServe(cmd, g, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.db, "db", "", "store: DuckDB file path")
	fl.StringVar(&f.addr, "addr", "", "listen address (default: serve.addr from config, else 127.0.0.1:8080)")
	fl.StringVar(&f.spool, "spool", "", "spool directory (default: serve.spool_dir, else the DuckDB path + .spool)")
	fl.StringVar(&f.packs, "packs", "packs", "directory for the weekly packs of the schedule")
	return cmd
}

func runServe(cmd *cobra.Command, g *globals, f serveFlags) error {
	cfg, err := g.loadConfig()
	if err != nil {
		return err
	}
	addr := f.addr
	if addr == "" {
		addr = cfg.Serve.Addr
	}
	spoolDir := f.spool
	if spoolDir == "" {
		spoolDir = cfg.Serve.SpoolDir
	}
	if spoolDir == "" {
		if f.db == "" || strings.Contains(f.db, "://") {
			spoolDir = "closedloop-spool"
		} else {
			spoolDir = f.db + ".spool"
		}
	}
	stderr := cmd.ErrOrStderr()
	warn := func(s string) { fmt.Fprintln(stderr, s) }
	ps, err := pseudonymiser(cfg, f.db, warn)
	if err != nil {
		return err
	}
	cal, err := calendarsFor(cfg)
	if err != nil {
		return err
	}
	// Evidence export signs with the configured key; without one the
	// dashboard says export is not set up (serve never creates keys).
	keyPath := cfg.Evidence.SigningKeyFile
	if keyPath == "" {
		keyPath = config.DefaultSigningKeyFile
	}
	key, kerr := audit.ReadPrivateKeyFile(keyPath)
	if kerr != nil {
		if !errors.Is(kerr, fs.ErrNotExist) {
			return fmt.Errorf("evidence signing key %s: %w", keyPath, kerr)
		}
		warn(fmt.Sprintf("warning: no evidence signing key at %s (closedloop keygen --out %s): evidence export is disabled", keyPath, keyPath))
		key = nil
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	st, err := openStore(cmd.Context(), f.db, false)
	if err != nil {
		ln.Close()
		return err
	}
	defer st.Close()

	srv, err := serve.New(serve.Options{Store: st, Config: cfg, Calendars: cal, Pseudo: ps, SpoolDir: spoolDir,
		SigningKey: key,
		Figures:    kpiFigures{g: g, cfg: cfg}, Log: stderr})
	if err != nil {
		ln.Close()
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	// The schedules run inside the server, each run holding the store's
	// write lock and recorded in the metrics and the audit log.
	jobs := scheduleJobs(cmd, cfg, st, f.packs)
	for i := range jobs {
		name, run := jobs[i].name, jobs[i].run
		jobs[i].run = func(ctx context.Context) (string, error) { return srv.RunJob(ctx, name, run) }
	}
	schedDone := make(chan error, 1)
	if len(jobs) > 0 {
		go func() { schedDone <- runScheduler(ctx, stderr, srv.Store(), jobs) }()
	} else {
		schedDone <- nil
	}
	fmt.Fprintf(cmd.OutOrStdout(), "closedloop serve: listening on http://%s (spool %s)\n", ln.Addr(), spoolDir)
	serr := srv.Serve(ctx, ln)
	stop()
	schedErr := <-schedDone
	if serr == nil {
		fmt.Fprintln(cmd.OutOrStdout(), "closedloop serve: stopped; the spool is drained")
	}
	return errors.Join(serr, schedErr)
}
