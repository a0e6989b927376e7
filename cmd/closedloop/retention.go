package main

import (
	"fmt"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/closedloop/closedloop/audit"
	"github.com/closedloop/closedloop/config"
	"github.com/closedloop/closedloop/models"
)

func init() { extraCommands = append(extraCommands, newRetentionCmd) }

func newRetentionCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "retention",
		Short: "Apply the retention policy",
	}
	var db, maxAge string
	var dryRun bool
	apply := &cobra.Command{
		Use:   "apply --db FILE|DSN [--max-age DURATION] [--dry-run]",
		Short: "Delete events older than the retention age, leaving tombstones",
		Long: "Delete the events older than --max-age (default: retention.max_age from config; Go\n" +
			"durations, 400 days = 9600h) from every event table and rejects. Each deleted row leaves\n" +
			"a tombstone (table_name, event_id, ts, leaf_hash, deleted_at) whose leaf_hash is the\n" +
			"row's Merkle leaf in evidence bundles, so earlier bundles can still be matched against\n" +
			"the store. audit_events is never deleted, so the audit chain stays whole. The run is\n" +
			"recorded in the audit log. --dry-run only counts.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := g.loadConfig()
			if err != nil {
				return err
			}
			age := time.Duration(cfg.Retention.MaxAge)
			if maxAge != "" {
				if age, err = time.ParseDuration(maxAge); err != nil {
					return usagef("--max-age %q is not a duration like 2160h (there is no day unit: 90 days is 2160h)", maxAge)
				}
			} else {
				maxAge = age.String()
			}
			if age <= 0 {
				return usagef("no retention age: give --max-age (e.g. 9600h) or set retention.max_age in the configuration")
			}
			if age < config.MinRetention {
				return usagef("--max-age %s would delete almost everything; use at least %s", age, config.MinRetention)
			}
			st, err := openStore(cmd.Context(), db, false)
			if err != nil {
				return err
			}
			defer st.Close()
			actor, role := auditIdentity()
			cutoff := time.Now().Add(-age)
			res, err := audit.ApplyRetention(cmd.Context(), st, audit.RetentionOptions{Cutoff: cutoff, MaxAge: maxAge, Actor: actor, Role: role, DryRun: dryRun})
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			verb := "deleted"
			if dryRun {
				verb = "would delete"
			}
			fmt.Fprintf(w, "retention: events older than %s (max age %s)\n", audit.FormatTime(res.Cutoff), maxAge)
			tables := make([]models.Table, 0, len(res.Deleted))
			for t := range res.Deleted {
				tables = append(tables, t)
			}
			sort.Slice(tables, func(i, j int) bool { return tables[i] < tables[j] })
			for _, t := range tables {
				fmt.Fprintf(w, "  %-17s %8d %s\n", t, res.Deleted[t], verb)
			}
			if dryRun {
				fmt.Fprintf(w, "dry run: %d events would be deleted; nothing changed\n", res.Total)
				return nil
			}
			fmt.Fprintf(w, "%d events deleted, %d tombstones written; audit_events kept whole\n", res.Total, res.Total)
			fmt.Fprintf(w, "recorded in the audit log as %s\n", res.Link.AuditID)
			return nil
		},
	}
	apply.Flags().StringVar(&db, "db", "", "store: DuckDB file path or clickhouse://host:port/database")
	apply.Flags().StringVar(&maxAge, "max-age", "", "delete events older than this (e.g. 9600h; default retention.max_age)")
	apply.Flags().BoolVar(&dryRun, "dry-run", false, "count what would be deleted, change nothing")
	cmd.AddCommand(apply)
	return cmd
}
