package main

import (
	"database/sql"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/closedloop/closedloop/audit"
	"github.com/closedloop/closedloop/transforms"
)

func init() { extraCommands = append(extraCommands, newStatusCmd) }

func newStatusCmd(g *globals) *cobra.Command {
	var db string
	cmd := &cobra.Command{
		Use:   "status --db FILE|DSN",
		Short: "Show sources and pull collectors with their freshness, rejects, the last transform and the audit chain",
		Long: "Per source: events, newest event, newest ingest and whether it is stale (older than\n" +
			"freshness.<source> in the configuration, default 26h, measured from now). Per pull collector:\n" +
			"last run, last success, lag (now − last success) and rows of the last run; a failed last run\n" +
			"or a lag beyond freshness.<collector> needs attention. Then rejects by\n" +
			"source, the facts' cutoff and whether they are current, and the audit chain's state.\n" +
			"Exit code 1 when a source is stale or the audit chain is broken.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := g.loadConfig()
			if err != nil {
				return err
			}
			st, err := openStore(cmd.Context(), db, false)
			if err != nil {
				return err
			}
			defer st.Close()
			ctx := cmd.Context()
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			now := time.Now().UTC()
			problems := 0

			fmt.Fprintln(w, "SOURCE\tEVENTS\tNEWEST EVENT\tLAST INGEST\tAGE\tLIMIT\tSTATE")
			rows, err := st.DB().QueryContext(ctx, `SELECT source, count(*), max(ts), max(ingested_at) FROM (
				SELECT source, ts, ingested_at FROM messages UNION ALL
				SELECT source, ts, ingested_at FROM message_statuses UNION ALL
				SELECT source, ts, ingested_at FROM case_events UNION ALL
				SELECT source, ts, ingested_at FROM writebacks UNION ALL
				SELECT source, ts, ingested_at FROM consent_events UNION ALL
				SELECT source, ts, ingested_at FROM template_events UNION ALL
				SELECT source, ts, ingested_at FROM actions) e
				GROUP BY source ORDER BY source`)
			if err != nil {
				return fmt.Errorf("reading sources: %w", err)
			}
			defer rows.Close()
			for rows.Next() {
				var src string
				var n int64
				var newest, ingested sql.NullTime
				if err := rows.Scan(&src, &n, &newest, &ingested); err != nil {
					return fmt.Errorf("reading sources: %w", err)
				}
				limit := cfg.FreshnessLimit(src)
				age := now.Sub(newest.Time)
				state := "fresh"
				if age > limit {
					state = "STALE"
					problems++
				}
				fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", src, n, newest.Time.UTC().Format(time.RFC3339),
					ingested.Time.UTC().Format(time.RFC3339), age.Round(time.Minute), limit, state)
			}
			if err := rows.Err(); err != nil {
				return err
			}
			rows.Close()
			problems += collectorStatus(ctx, w, st.DB(), cfg, now)

			fmt.Fprintln(w, "\nREJECTS BY SOURCE\tCOUNT")
			rr, err := st.DB().QueryContext(ctx, `SELECT source, count(*) FROM rejects GROUP BY source ORDER BY source`)
			if err != nil {
				return fmt.Errorf("reading rejects: %w", err)
			}
			total := 0
			for rr.Next() {
				var src string
				var n int
				if err := rr.Scan(&src, &n); err != nil {
					rr.Close()
					return err
				}
				total += n
				fmt.Fprintf(w, "%s\t%d\n", src, n)
			}
			rr.Close()
			if total == 0 {
				fmt.Fprintln(w, "(none)\t0")
			}

			fmt.Fprintln(w)
			s, ok, err := transforms.LoadState(ctx, st.DB())
			switch {
			case err != nil:
				return err
			case !ok:
				fmt.Fprintln(w, "facts:\tnot built yet (closedloop transform, or any kpi/report run)")
			default:
				cal, err := calendarsFor(cfg)
				if err != nil {
					return err
				}
				current := "stale: raw data or calendars changed since"
				if wm, err := transforms.CurrentWatermark(ctx, st, cal); err == nil && wm == s.Watermark {
					current = "current"
				}
				fmt.Fprintf(w, "facts:\tas of %s, built %s (%s), %s\n", s.AsOf.UTC().Format(time.RFC3339),
					s.BuiltAt.UTC().Format(time.RFC3339), s.Duration.Round(time.Millisecond), current)
			}
			rep, err := audit.VerifyStore(ctx, st)
			if err != nil {
				return err
			}
			if len(rep.Problems) > 0 {
				problems++
				var names []string
				for _, p := range rep.Problems {
					names = append(names, p.String())
				}
				fmt.Fprintf(w, "audit chain:\tBROKEN (%d links): %s\n", rep.Links, strings.Join(names, "; "))
			} else {
				fmt.Fprintf(w, "audit chain:\tintact (%d links)\n", rep.Links)
			}
			if err := w.Flush(); err != nil {
				return err
			}
			if problems > 0 {
				return &exitError{code: exitFailure, msg: fmt.Sprintf("%d problem(s) need attention", problems)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&db, "db", "", "store: DuckDB file path or clickhouse://host:port/database")
	return cmd
}
