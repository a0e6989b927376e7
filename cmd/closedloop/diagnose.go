package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/closedloop/closedloop/diagnose"
	"github.com/closedloop/closedloop/transforms"
)

func init() { extraCommands = append(extraCommands, newDiagnoseCmd) }

type diagnoseFlags struct {
	db, format, asof, tz string
	days                 int
}

func newDiagnoseCmd(g *globals) *cobra.Command {
	var f diagnoseFlags
	cmd := &cobra.Command{
		Use:   "diagnose --db FILE [--days 30] [--format table|json]",
		Short: "Which workflow to automate next: resolution fit of every workflow and case category, ranked with reasons",
		Long: "Weigh every workflow and every case category over the cases opened in the last --days days\n" +
			"before the cutoff (default: the newest event) for \"resolution fit\":\n" +
			"  share      its share of all cases in the window (good: at least diagnose.min_routine_share, 15%)\n" +
			"  paths      how many distinct outcome paths — the ordered kinds of a case's events, e.g.\n" +
			"             opened>handover>resolved — cover 80% of its cases with an outcome, most frequent\n" +
			"             first, ties by name (good: at most diagnose.max_outcome_paths, 4)\n" +
			"  identity   median identity steps (identity_validated + identity_failed actions) per completed\n" +
			"             case (good: at most diagnose.max_identity_steps, 2; n/a without actions data)\n" +
			"  trigger    what starts its cases (first event and first message)\n" +
			"  closed     a completion event and a writeback target exist (without a writeback the loop is\n" +
			"             not closed)\n" +
			"Candidates are ranked: ready first, then good fits whose loop is not closed, then the rest;\n" +
			"each row ends with a one-line reason.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runDiagnose(cmd, g, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.db, "db", "", "store: DuckDB file path")
	fl.IntVar(&f.days, "days", 0, "window: cases opened in the last N days before the cutoff (default: diagnose.days from config, 30)")
	fl.StringVar(&f.format, "format", "table", "table or json")
	fl.StringVar(&f.asof, "asof", "", "cutoff (RFC 3339 or YYYY-MM-DD; default: the newest event)")
	fl.StringVar(&f.tz, "tz", "", "time zone the window is printed in (IANA; default: report.timezone from config)")
	return cmd
}

func runDiagnose(cmd *cobra.Command, g *globals, f diagnoseFlags) error {
	cfg, err := g.loadConfig()
	if err != nil {
		return err
	}
	if f.format != "table" && f.format != "json" {
		return usagef("--format %q: use table or json", f.format)
	}
	days := f.days
	if days == 0 {
		days = cfg.Diagnose.Days
	}
	if days < 1 || days > 3660 {
		return usagef("--days %d: use a number of days from 1 to 3660", days)
	}
	tz := f.tz
	if tz == "" {
		tz = cfg.Report.Timezone
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return usagef("--tz %q is not an IANA time zone", tz)
	}
	st, err := openStore(cmd.Context(), f.db, false)
	if err != nil {
		return err
	}
	defer st.Close()
	cutoff, err := resolveCutoff(cmd, st, f.asof)
	if err != nil {
		return err
	}
	cal, err := calendarsFor(cfg)
	if err != nil {
		return err
	}
	if _, err := transforms.Ensure(cmd.Context(), st, cal, cutoff); err != nil {
		return err
	}
	cutoff = cutoff.UTC().Truncate(time.Millisecond)
	// The window ends with the cutoff itself (a case opened at the cutoff
	// counts); days are local calendar days, so a DST change is no hour off.
	to := cutoff.Add(time.Millisecond)
	from := cutoff.In(loc).AddDate(0, 0, -days)
	res, err := diagnose.Run(cmd.Context(), st, diagnose.ThresholdsFrom(cfg.Diagnose), from, to, cutoff, loc)
	if err != nil {
		return err
	}
	res.Days = days
	res.To = cutoff.In(loc).Format(time.RFC3339)
	w := cmd.OutOrStdout()
	if f.format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	return writeDiagnosisTable(w, res)
}

func writeDiagnosisTable(w io.Writer, r *diagnose.Result) error {
	th := r.Thresholds
	fmt.Fprintf(w, "resolution fit of %d cases opened in the %d days before %s (%s)\n", r.Cases, r.Days, r.AsOf, r.Timezone)
	fmt.Fprintf(w, "good first candidate: share ≥ %s, at most %d outcome paths cover %s of its cases, median identity steps ≤ %d, completion event and writeback target\n\n",
		diagnose.Percent(th.MinShare), th.MaxPaths, diagnose.Percent(th.Coverage), th.MaxIdentitySteps)
	if len(r.Candidates) == 0 {
		fmt.Fprintln(w, "no case was opened in the window")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RANK\tKIND\tNAME\tCASES\tSHARE\tPATHS@"+diagnose.Percent(th.Coverage)+"\tID STEPS\tTRIGGER\tWRITEBACK\tVERDICT")
	for _, c := range r.Candidates {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Rank, c.Kind, c.Name, c.Cases,
			mark(diagnose.Percent(c.Share), c.ShareOK), mark(pathsText(c), c.PathsOK), idText(c), triggerText(c),
			writebackText(c), c.Verdict)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nreasons:")
	for _, c := range r.Candidates {
		fmt.Fprintf(w, "%2d. %s\n", c.Rank, c.Reason)
	}
	if r.Note != "" {
		fmt.Fprintf(w, "\nnote: %s\n", r.Note)
	}
	fmt.Fprintln(w, "(✗ marks a figure that misses its threshold; paths count cases that reached an outcome: completed or resolved)")
	return nil
}

func mark(s string, ok bool) string {
	if ok {
		return s
	}
	return s + " ✗"
}

func pathsText(c diagnose.Candidate) string {
	if c.OutcomeCases == 0 {
		return "—"
	}
	return fmt.Sprintf("%d of %d", c.Paths, c.DistinctPaths)
}

func idText(c diagnose.Candidate) string {
	if c.IdentitySteps == nil {
		return "n/a"
	}
	return mark(fmt.Sprint(*c.IdentitySteps), c.IdentityOK)
}

func triggerText(c diagnose.Candidate) string {
	if len(c.Triggers) == 0 {
		return "—"
	}
	t := c.Triggers[0]
	s := fmt.Sprintf("%s (%s)", t.Key, diagnose.Percent(float64(t.Cases)/float64(c.Cases)))
	if n := len(c.Triggers) - 1; n > 0 {
		s += fmt.Sprintf(" +%d", n)
	}
	return s
}

func writebackText(c diagnose.Candidate) string {
	var parts []string
	if !c.HasCompletion {
		parts = append(parts, "no completion")
	}
	if len(c.Writeback) == 0 {
		parts = append(parts, "no writeback")
	} else {
		parts = append(parts, strings.Join(c.Writeback, ","))
	}
	return mark(strings.Join(parts, "; "), c.Closed)
}
