package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/closedloop/closedloop/reports"
	"github.com/closedloop/closedloop/transforms"
)

func init() { extraCommands = append(extraCommands, newCompareCmd) }

type compareFlags struct {
	db, pilot, baseline, from, to, tz, format, asof string
}

func newCompareCmd(g *globals) *cobra.Command {
	var f compareFlags
	cmd := &cobra.Command{
		Use:   "compare --db FILE --pilot SELECTOR --baseline SELECTOR --from DATE --to DATE [--format table|json]",
		Short: "Compare a pilot cohort with a baseline: rates with 95% Wilson intervals and a two-proportion test",
		Long: "Compare two cohorts of cases opened in [from, to) on completion, exception (handover of a\n" +
			"workflow case), handover, writeback success and manual wrap-up. Each rate comes with its 95%\n" +
			"Wilson interval; differences are tested with the pooled two-proportion z-test. Time to\n" +
			"resolution (opened to completed) compares medians with the Mann–Whitney U test. A cohort too\n" +
			"small to decide (under 30 cases, or under 5 expected successes or failures) is said so, with\n" +
			"the cases per cohort that would decide (80% power to detect the observed difference at α = 0.05,\n" +
			"and those minimums).\n\n" +
			"Scale gate: the pilot is ready to scale when it is significantly better (α = 0.05) on at least\n" +
			"diagnose.scale_gate_min_wins (default 3) of completion, time to resolution, writeback success,\n" +
			"exception rate and manual wrap-up, and significantly worse on none; otherwise the verdict names\n" +
			"what holds it back and how many more cases per cohort would decide. One reasoning line per measure.\n\n" +
			"Selectors: key=value[,key=value…] with keys workflow, queue, category (exact match),\n" +
			"after (or since) and before (YYYY-MM-DD, local midnight in --tz, compared with opened_at).\n" +
			"Examples: workflow=promise_to_pay   queue=collections   workflow=promise_to_pay,before=2026-10-01",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runCompare(cmd, g, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.db, "db", "", "store: DuckDB file path or clickhouse://host:port/database")
	fl.StringVar(&f.pilot, "pilot", "", "pilot cohort selector (default: pilot.pilot from config)")
	fl.StringVar(&f.baseline, "baseline", "", "baseline cohort selector (default: pilot.baseline from config)")
	fl.StringVar(&f.from, "from", "", "first day of the period (YYYY-MM-DD, inclusive)")
	fl.StringVar(&f.to, "to", "", "day after the period (YYYY-MM-DD, exclusive)")
	fl.StringVar(&f.tz, "tz", "", "reporting time zone (IANA; default: report.timezone from config, else UTC)")
	fl.StringVar(&f.format, "format", "table", "table or json")
	fl.StringVar(&f.asof, "asof", "", "cutoff (RFC 3339 or YYYY-MM-DD; default: the newest event)")
	return cmd
}

func runCompare(cmd *cobra.Command, g *globals, f compareFlags) error {
	cfg, err := g.loadConfig()
	if err != nil {
		return err
	}
	if f.format != "table" && f.format != "json" {
		return usagef("--format %q: use table or json", f.format)
	}
	if f.pilot == "" && f.baseline == "" {
		f.pilot, f.baseline = cfg.Pilot.Pilot, cfg.Pilot.Baseline
	}
	if f.pilot == "" || f.baseline == "" {
		return usagef("--pilot and --baseline are required (or a pilot section in the configuration), e.g. --pilot workflow=promise_to_pay --baseline workflow=address_update")
	}
	ps, err := reports.ParseSelector(f.pilot)
	if err != nil {
		return usagef("--pilot: %v", err)
	}
	bs, err := reports.ParseSelector(f.baseline)
	if err != nil {
		return usagef("--baseline: %v", err)
	}
	if ps.String() == bs.String() {
		return usagef("--pilot and --baseline select the same cohort (%s)", ps)
	}
	tz := f.tz
	if tz == "" {
		tz = cfg.Report.Timezone
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return usagef("--tz %q is not an IANA time zone", tz)
	}
	from, to, err := period(f.from, f.to, loc)
	if err != nil {
		return err
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
	c, err := reports.CompareGate(cmd.Context(), st, ps, bs, from, to, cutoff, loc, cfg.Diagnose.ScaleGateMinWins)
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	if f.format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(c)
	}
	return writeComparisonTable(w, c)
}

func writeComparisonTable(w io.Writer, c *reports.Comparison) error {
	fmt.Fprintf(w, "pilot    %s (%d cases)\nbaseline %s (%d cases)\n", c.Pilot, c.PilotN, c.Baseline, c.BaseN)
	fmt.Fprintf(w, "cases opened [%s, %s) %s, as of %s\n", c.From, c.To, c.Timezone, c.AsOf)
	if c.Overlap > 0 {
		fmt.Fprintf(w, "note: %d cases belong to both cohorts, so the cohorts are not independent\n", c.Overlap)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "METRIC\tPILOT\t95% CI\tBASELINE\t95% CI\tDIFF\tP\tVERDICT\tNEEDED/COHORT")
	for _, m := range c.Metrics {
		fmt.Fprintf(tw, "%s (%s is better)\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.Label, m.Better,
			propText(m.Pilot), ciText(m.Pilot), propText(m.Baseline), ciText(m.Baseline),
			diffText(m.Diff), pText(m.P), m.Verdict, neededText(m.Needed))
	}
	d := c.TimeToResolution
	fmt.Fprintf(tw, "%s (%s is better)\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Label, d.Better,
		medianCell(d.PilotMedian, d.PilotN), "—", medianCell(d.BaselineMedian, d.BaselineN), "—",
		durDiff(d.DiffMedian), pText(d.P), d.Verdict, neededText(d.Needed))
	if err := tw.Flush(); err != nil {
		return err
	}
	var notes []string
	for _, m := range c.Metrics {
		if m.TooSmall != "" {
			n := fmt.Sprintf("%s: too small to decide (%s)", m.Label, m.TooSmall)
			if m.Needed != nil {
				n += fmt.Sprintf("; detecting the observed difference needs about %d cases per cohort", *m.Needed)
			} else {
				n += "; no difference was observed, so no sample size can be given"
			}
			notes = append(notes, n)
		}
	}
	if d.TooSmall != "" {
		notes = append(notes, fmt.Sprintf("%s: too small to decide (%s)", d.Label, d.TooSmall))
	}
	if len(notes) > 0 {
		fmt.Fprintln(w, "\n"+strings.Join(notes, "\n"))
	}
	g := c.Gate
	fmt.Fprintf(w, "\nscale gate: ready when significantly better on at least %d of %d measures and significantly worse on none\n",
		g.MinWins, len(g.Measures))
	for _, line := range g.Reasoning {
		fmt.Fprintf(w, "  %s\n", line)
	}
	fmt.Fprintln(w, "(Wilson score intervals; pooled two-proportion z-test and Mann–Whitney U test with normal approximation, two-sided, α = 0.05;")
	fmt.Fprintln(w, " NEEDED/COHORT: cases per cohort that would decide: 80% power to detect the observed difference, and the tests' minimums of")
	fmt.Fprintln(w, " 30 cases and 5 expected successes and failures; handover is shown but not weighed by the gate)")
	return nil
}

func medianCell(v *float64, n int64) string {
	if v == nil {
		return "— (0)"
	}
	return fmt.Sprintf("median %s (%d)", reports.Duration(*v), n)
}

func durDiff(v *float64) string {
	if v == nil {
		return "—"
	}
	if *v < 0 {
		return "-" + reports.Duration(-*v)
	}
	return "+" + reports.Duration(*v)
}

func propText(p reports.Proportion) string {
	if p.Rate == nil {
		return fmt.Sprintf("— (0/%d)", p.N)
	}
	return fmt.Sprintf("%.1f%% (%d/%d)", *p.Rate*100, p.X, p.N)
}

func ciText(p reports.Proportion) string {
	if p.N == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f–%.1f%%", p.Lo*100, p.Hi*100)
}

func diffText(d *float64) string {
	if d == nil {
		return "—"
	}
	return fmt.Sprintf("%+.1f pp", *d*100)
}

func pText(p *float64) string {
	switch {
	case p == nil:
		return "—"
	case *p < 0.001:
		return "<0.001"
	}
	return fmt.Sprintf("%.3f", *p)
}

func neededText(n *int64) string {
	if n == nil {
		return "—"
	}
	return fmt.Sprint(*n)
}
