package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// tableDocs describes what an analyst finds in each table.
var tableDocs = map[string]string{
	"messages":            "raw: one row per message per source (Meta, console, workflow); message_id joins sources",
	"message_statuses":    "raw: delivery statuses (sent, delivered, read, failed) with Meta error codes and pricing",
	"case_events":         "raw: case lifecycle (opened, handover, completed, resolved, reopened)",
	"writebacks":          "raw: writeback attempts to systems of record (idempotency_key groups retries)",
	"consent_events":      "raw: opt_in / opt_out per customer and channel",
	"template_events":     "raw: template approval state changes",
	"audit_events":        "raw: append-only audit hash chain",
	"actions":             "raw: in-message secure action telemetry",
	"rejects":             "inputs that could not be read, with file:line and reason",
	"schema_migrations":   "applied schema migrations",
	"fact_cases":          "fact: one row per case (dimensions, opened/handover/completed/resolved times)",
	"fact_messages":       "fact: one row per message id, linked to its case",
	"fact_message_status": "fact: final delivery status per message (read > delivered > failed > sent)",
	"fact_case_messages":  "fact: per-case message counts and first response times",
	"fact_writebacks":     "fact: one row per writeback (attempts grouped by idempotency_key)",
	"case_facts":          "fact: fact_cases plus outcome (handed_over, bot_resolved, agent_resolved, open) and writeback state",
	"fact_waits":          "fact: waiting periods with business time and SLA state (attained, breached, pending)",
	"fact_first_response": "fact: business time from opened to first bot/agent reply",
	"kpi_definitions":     "KPI definitions by name and version with the SHA-256 of their SQL",
	"transform_state":     "the cutoff and raw-table fingerprint of the last transform",
}

func newSchemaCmd(g *globals) *cobra.Command {
	var db string
	cmd := &cobra.Command{
		Use:   "schema --db FILE|DSN",
		Short: "Print the store's tables and views with their columns",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := openStore(cmd.Context(), db, false)
			if err != nil {
				return err
			}
			defer st.Close()
			q := `SELECT table_name, column_name, data_type
				FROM information_schema.columns WHERE table_schema = 'main' AND NOT starts_with(table_name, '_')
				ORDER BY table_name, ordinal_position`
			if st.Dialect() == "clickhouse" {
				// system.columns lists a table's columns in definition order.
				q = `SELECT table, name, type FROM system.columns
					WHERE database = currentDatabase() AND substring(table, 1, 1) != '_'`
			}
			rows, err := st.DB().QueryContext(cmd.Context(), q)
			if err != nil {
				return fmt.Errorf("reading schema: %w", err)
			}
			defer rows.Close()
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			cur := ""
			for rows.Next() {
				var t, c, typ string
				if err := rows.Scan(&t, &c, &typ); err != nil {
					return fmt.Errorf("reading schema: %w", err)
				}
				if t != cur {
					if cur != "" {
						fmt.Fprintln(w)
					}
					fmt.Fprintf(w, "%s\t— %s\n", t, tableDocs[t])
					cur = t
				}
				fmt.Fprintf(w, "  %s\t%s\n", c, typ)
			}
			if err := rows.Err(); err != nil {
				return err
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVar(&db, "db", "", "store: DuckDB file path or clickhouse://host:port/database")
	return cmd
}
