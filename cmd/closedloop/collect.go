package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/closedloop/closedloop/audit"
	"github.com/closedloop/closedloop/config"
	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/ingest/chatwootapi"
	"github.com/closedloop/closedloop/ingest/dropfolder"
	"github.com/closedloop/closedloop/ingest/metagraph"
	"github.com/closedloop/closedloop/ingest/pull"
	"github.com/closedloop/closedloop/store"
	"github.com/closedloop/closedloop/store/duckdb"
)

// The DuckDB store keeps collector state with its rows.
var _ pull.StateStore = (*duckdb.Store)(nil)

// collectNow is the collectors' clock (tests fix it).
var collectNow = time.Now

func init() {
	extraCommands = append(extraCommands, newCollectCmd)
	tableDocs["collector_state"] = "pull collectors' cursors and checkpoints (collector, key, value), advanced with the rows they cover"
	tableDocs["collector_freshness"] = "per pull collector: last run, its outcome and error, last success (lag = now − last_success_at), rows of the last run"
	tableDocs["collector_taken_files"] = "view: files the drop-folder collectors took (path, size, mtime, sha256, documents, rejected)"
	tableDocs["template_metrics_daily"] = "Meta template analytics per template and UTC day: sent, delivered, read, clicked, cost (replaced when re-collected)"
	tableDocs["template_changes"] = "every observed change of a Meta template's status, category or quality score"
}

func newCollectCmd(g *globals) *cobra.Command {
	var db, only string
	cmd := &cobra.Command{
		Use:   "collect --db FILE|DSN [--collector NAME]",
		Short: "Run the configured pull collectors once (Chatwoot API, Meta templates and analytics, drop folders)",
		Long: "Runs the collectors of the configuration's collectors section once, one after the other,\n" +
			"each from where its last committed checkpoint ended: conversations and messages changed in\n" +
			"Chatwoot, Meta's message templates (status, category, quality) and their daily analytics,\n" +
			"and files landed in drop folders. Cursors are stored with the rows they cover, so a run\n" +
			"that is interrupted resumes with no gap and no duplicate. `schedule` (and serve) run the\n" +
			"same on schedules.collect. Secrets come from the configuration or the environment and are\n" +
			"never printed. Exit code 1 when a collector failed (the others still run).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := g.loadConfig()
			if err != nil {
				return err
			}
			names := cfg.Collectors.Names()
			if len(names) == 0 {
				return usagef("no pull collectors configured: add a collectors section (see closedloop.example.yaml)")
			}
			if only != "" && !hasName(names, only) {
				return usagef("unknown --collector %q (configured: %s)", only, strings.Join(names, ", "))
			}
			st, err := openStore(cmd.Context(), db, false)
			if err != nil {
				return err
			}
			defer st.Close()
			results, err := runCollect(cmd.Context(), cfg, st, db, only, cmd.OutOrStdout())
			if err != nil {
				return err
			}
			failed := 0
			for _, r := range results {
				if r.Err != nil {
					failed++
				}
			}
			if failed > 0 {
				return &exitError{code: exitFailure, msg: fmt.Sprintf("%d of %d collector(s) failed", failed, len(results))}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&db, "db", "", "store: DuckDB file path (pull collectors need the DuckDB store for now)")
	cmd.Flags().StringVar(&only, "collector", "", "run only this collector (a name under collectors)")
	return cmd
}

func hasName(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// runCollect runs the configured collectors (or only one), prints a line
// per collector as it finishes, and records the run in the audit log.
func runCollect(ctx context.Context, cfg *config.Config, st store.Store, dsn, only string, out io.Writer) ([]pull.Result, error) {
	ss, ok := st.(pull.StateStore)
	if !ok {
		return nil, fmt.Errorf("%w; --db names a %s store", pull.ErrNoStateStore, st.Dialect())
	}
	ps, err := pseudonymiser(cfg, dsn, func(s string) { fmt.Fprintln(os.Stderr, s) })
	if err != nil {
		return nil, err
	}
	collectors, broken := buildCollectors(cfg, only)
	var results []pull.Result
	for _, b := range broken {
		fmt.Fprintln(out, b)
		results = append(results, b)
	}
	results = append(results, pull.RunAll(ctx, pull.Options{
		Store:    ss,
		Now:      collectNow,
		Env:      func() *ingest.Env { return &ingest.Env{Pseudo: ps} },
		OnResult: func(r pull.Result) { fmt.Fprintln(out, r) },
	}, collectors)...)
	details := map[string]any{}
	for _, r := range results {
		d := map[string]any{"kind": r.Kind, "ok": r.Err == nil, "duration_ms": r.Duration.Milliseconds()}
		added := map[string]int{}
		for t, n := range r.Added {
			added[string(t)] = n
		}
		d["added"] = added
		if r.Err != nil {
			d["error"] = pull.Redact(r.Err.Error())
		}
		details[r.Name] = d
	}
	if err := audit.Append(context.WithoutCancel(ctx), st, "closedloop", "system", "collect", "run", only, details); err != nil {
		return results, fmt.Errorf("recording the collect run in the audit log: %w", err)
	}
	return results, nil
}

// buildCollectors turns the configuration into collectors; a collector
// that cannot be built (its token is not set) is returned as a failed
// result so that the others still run.
func buildCollectors(cfg *config.Config, only string) ([]pull.Collector, []pull.Result) {
	cc := cfg.Collectors
	httpCfg := func(rate float64) pull.ClientConfig {
		return pull.ClientConfig{Timeout: time.Duration(cc.Timeout), MaxRetries: cc.MaxRetries, RateLimit: rate}
	}
	var out []pull.Collector
	var broken []pull.Result
	fail := func(name, kind string, err error) {
		broken = append(broken, pull.Result{Name: name, Kind: kind, Err: err})
	}
	token := func(kind, name, literal, env string) (string, error) {
		t := config.Secret(literal, env)
		if t == "" {
			return "", fmt.Errorf("collectors.%s.%s: no token: $%s is not set (or set token)", kind, name, env)
		}
		return t, nil
	}
	for _, name := range cc.Names() {
		if only != "" && name != only {
			continue
		}
		if c, ok := cc.ChatwootAPI[name]; ok {
			tok, err := token("chatwoot_api", name, c.Token, c.TokenEnv)
			if err != nil {
				fail(name, chatwootapi.Kind, err)
				continue
			}
			col, err := chatwootapi.New(chatwootapi.Config{Name: name, BaseURL: c.BaseURL, AccountID: c.AccountID,
				InboxIDs: c.InboxIDs, Token: tok, Overlap: time.Duration(c.Overlap), HTTP: httpCfg(c.RateLimit)})
			if err != nil {
				fail(name, chatwootapi.Kind, err)
				continue
			}
			out = append(out, col)
		}
		if m, ok := cc.MetaGraph[name]; ok {
			tok, err := token("meta_graph", name, m.Token, m.TokenEnv)
			if err != nil {
				fail(name, metagraph.Kind, err)
				continue
			}
			col, err := metagraph.New(metagraph.Config{Name: name, BaseURL: m.BaseURL, APIVersion: m.APIVersion, WABAID: m.WABAID,
				Token: tok, Analytics: !m.SkipAnalytics, BackfillDays: m.BackfillDays, Currency: m.Currency, HTTP: httpCfg(m.RateLimit)})
			if err != nil {
				fail(name, metagraph.Kind, err)
				continue
			}
			out = append(out, col)
		}
		if d, ok := cc.DropFolders[name]; ok {
			col, err := dropfolder.New(dropfolder.Config{Name: name, Paths: d.Paths, Source: d.Source,
				Settle: time.Duration(d.Settle), Patterns: d.Patterns})
			if err != nil {
				fail(name, dropfolder.Kind, err)
				continue
			}
			out = append(out, col)
		}
	}
	return out, broken
}

// collectJob is the scheduled "collect" job (schedules.collect).
func collectJob(cmd *cobra.Command, cfg *config.Config, st store.Store) func(ctx context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		dsn, _ := cmd.Flags().GetString("db")
		var buf strings.Builder
		results, err := runCollect(ctx, cfg, st, dsn, "", &buf)
		if err != nil {
			return "", err
		}
		var parts, failed []string
		for _, r := range results {
			parts = append(parts, fmt.Sprintf("%s +%d", r.Name, r.Rows()))
			if r.Err != nil {
				failed = append(failed, r.Err.Error())
			}
		}
		msg := strings.Join(parts, ", ")
		if len(failed) > 0 {
			return msg, fmt.Errorf("%s", strings.Join(failed, "; "))
		}
		return msg, nil
	}
}

// collectorStatus prints the pull collectors' freshness for `status` and
// returns how many need attention (a failed last run, or no success within
// freshness.<collector>). Stores without collector_freshness print nothing.
func collectorStatus(ctx context.Context, w *tabwriter.Writer, db *sql.DB, cfg *config.Config, now time.Time) int {
	rows, err := db.QueryContext(ctx, `SELECT collector, kind, last_run_at, last_run_ok, last_error, last_success_at, rows_last_run
		FROM collector_freshness ORDER BY collector`)
	if err != nil {
		return 0
	}
	defer rows.Close()
	type row struct {
		name, kind       string
		lastRun          time.Time
		ok               bool
		lastErr          sql.NullString
		lastSuccess      sql.NullTime
		rowsLast         int64
		configured, seen bool
	}
	var list []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.name, &r.kind, &r.lastRun, &r.ok, &r.lastErr, &r.lastSuccess, &r.rowsLast); err != nil {
			return 0
		}
		list = append(list, r)
	}
	seen := map[string]bool{}
	for _, r := range list {
		seen[r.name] = true
	}
	for _, n := range cfg.Collectors.Names() {
		if !seen[n] {
			list = append(list, row{name: n, configured: true})
		}
	}
	if len(list) == 0 {
		return 0
	}
	sort.Slice(list, func(i, j int) bool { return list[i].name < list[j].name })
	problems := 0
	fmt.Fprintln(w, "\nCOLLECTOR\tKIND\tLAST RUN\tLAST SUCCESS\tLAG\tROWS (LAST RUN)\tLIMIT\tSTATE")
	for _, r := range list {
		limit := cfg.FreshnessLimit(r.name)
		if r.configured {
			problems++
			fmt.Fprintf(w, "%s\t\tnever\tnever\t\t\t%s\tNEVER RUN (closedloop collect)\n", r.name, limit)
			continue
		}
		last, lag := "never", "-"
		state := "fresh"
		if r.lastSuccess.Valid {
			last = r.lastSuccess.Time.UTC().Format(time.RFC3339)
			d := now.Sub(r.lastSuccess.Time)
			lag = d.Round(time.Minute).String()
			if d > limit {
				state = "STALE"
			}
		} else {
			state = "STALE"
		}
		if !r.ok {
			msg := r.lastErr.String
			if len(msg) > 160 {
				msg = msg[:160] + "…"
			}
			state = "FAILED: " + msg
		}
		if state != "fresh" {
			problems++
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", r.name, r.kind, r.lastRun.UTC().Format(time.RFC3339), last, lag, r.rowsLast, limit, state)
	}
	return problems
}
