package main

import (
	"fmt"
	"io"
	"os"
	"os/user"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/closedloop/closedloop/audit"
)

func init() { extraCommands = append(extraCommands, newAuditCmd) }

// auditIdentity names who runs this command, for the audit log: the actor
// is $CLOSEDLOOP_ACTOR or the OS user; the role is $CLOSEDLOOP_ROLE.
func auditIdentity() (actor, role string) {
	actor = strings.TrimSpace(os.Getenv("CLOSEDLOOP_ACTOR"))
	if actor == "" {
		if u, err := user.Current(); err == nil {
			actor = u.Username
		}
	}
	if actor == "" {
		actor = "unknown"
	}
	return actor, strings.TrimSpace(os.Getenv("CLOSEDLOOP_ROLE"))
}

func newAuditCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Work with the hash-chained audit log",
	}
	var db string
	verify := &cobra.Command{
		Use:   "verify --db FILE|DSN",
		Short: "Walk the audit chain and name the first broken link",
		Long: "Walk every audit_events row in order (ts, audit_id, event_id), recompute each link's\n" +
			"hash = sha256(prev_hash || canonical JSON of the event), and check that every prev_hash\n" +
			"is the hash of an earlier link and that no two links follow the same one. Imported logs\n" +
			"and closedloop's own (source closedloop) are separate chains in the same table.\n" +
			"Exit code 1 when a link is broken.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := openStore(cmd.Context(), db, true)
			if err != nil {
				return err
			}
			defer st.Close()
			rep, err := audit.VerifyStore(cmd.Context(), st)
			if err != nil {
				return err
			}
			if !writeChainReport(cmd.OutOrStdout(), db, rep) {
				return &exitError{code: exitFailure}
			}
			return nil
		},
	}
	verify.Flags().StringVar(&db, "db", "", "store: DuckDB file path or clickhouse://host:port/database")
	cmd.AddCommand(verify)
	return cmd
}

// writeChainReport prints a chain walk; it returns whether the chain is intact.
func writeChainReport(w io.Writer, name string, rep audit.ChainReport) bool {
	var srcs []string
	for s, n := range rep.Sources {
		srcs = append(srcs, fmt.Sprintf("%s %d", s, n))
	}
	sort.Strings(srcs)
	fmt.Fprintf(w, "audit chain of %s: %d links (%s), %d chain(s)\n", name, rep.Links, strings.Join(srcs, ", "), rep.Geneses)
	if rep.OK() {
		fmt.Fprintln(w, "INTACT: every hash recomputed from its fields and prev_hash; every link follows an earlier link; no forks")
		for _, h := range rep.Heads {
			fmt.Fprintf(w, "  chain head %s\n", h)
		}
		return true
	}
	p := rep.Problems[0]
	fmt.Fprintf(w, "BROKEN at link %d: audit_id %s (event_id %s, ts %s, source %s)\n", p.Index+1, p.Link.AuditID, p.Link.EventID, audit.FormatTime(p.Link.TS), p.Link.Source)
	switch p.Kind {
	case audit.ChainContent:
		fmt.Fprintln(w, "  content changed: the stored fields do not hash to the stored hash")
		fmt.Fprintf(w, "  stored hash    %s\n  expected hash  %s (recomputed from the stored fields and prev_hash %q)\n", p.Stored, p.Expected, p.Link.PrevHash)
	case audit.ChainPrevHash:
		fmt.Fprintln(w, "  prev_hash mismatch: it is the hash of no earlier link (a link before it was deleted or rewritten, or never ingested)")
		fmt.Fprintf(w, "  stored prev_hash    %s\n", p.Stored)
		if p.Expected != "" {
			fmt.Fprintf(w, "  expected prev_hash  %s\n", p.Expected)
		}
	default:
		fmt.Fprintf(w, "  %s\n", p.Kind)
	}
	if p.Detail != "" {
		fmt.Fprintf(w, "  %s\n", p.Detail)
	}
	if len(rep.Problems) > 1 {
		fmt.Fprintf(w, "%d broken links in all:\n", len(rep.Problems))
		for i, q := range rep.Problems {
			if i == 20 {
				fmt.Fprintf(w, "  … and %d more\n", len(rep.Problems)-i)
				break
			}
			fmt.Fprintf(w, "  %s\n", q)
		}
	}
	return false
}
