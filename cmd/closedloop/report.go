package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/closedloop/closedloop/config"
	"github.com/closedloop/closedloop/diagnose"
	"github.com/closedloop/closedloop/reports"
	"github.com/closedloop/closedloop/store"
)

func init() { extraCommands = append(extraCommands, newReportCmd) }

type reportFlags struct {
	db, week, tz, out, asof, pilot, baseline string
	force, noPDF                             bool
}

func newReportCmd(g *globals) *cobra.Command {
	var f reportFlags
	cmd := &cobra.Command{
		Use:   "report --db FILE --week YYYY-Www [--tz ZONE] --out DIR [--force]",
		Short: "Write the weekly governance pack (HTML, figures.csv, drill-down CSVs, PDF when Chromium is installed)",
		Long: "Write the weekly governance pack for an ISO week into --out: pack.html (one self-contained\n" +
			"file that opens offline), figures.csv (every figure), drilldown/<kpi>.csv (the case ids behind\n" +
			"each figure) and pack.pdf when Chromium is installed. Figures are computed as of --asof\n" +
			"(default: the newest event), the only time printed in the pack, so the same store and week\n" +
			"give the same pack byte for byte. Sanity gates refuse a pack whose figures break an invariant;\n" +
			"--force publishes it stamped \"published with failing gates\".\n\n" +
			"A pilot comparison section is added when the configuration's pilot section (or --pilot and\n" +
			"--baseline) names two cohorts.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runReport(cmd, g, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.db, "db", "", "store: DuckDB file path or clickhouse://host:port/database")
	fl.StringVar(&f.week, "week", "", "ISO week to report, e.g. 2026-W09 (default: the last full week before the as-of)")
	fl.StringVar(&f.tz, "tz", "", "reporting time zone (IANA; default: report.timezone from config, else UTC)")
	fl.StringVar(&f.out, "out", "", "output directory (created if missing)")
	fl.StringVar(&f.asof, "asof", "", "cutoff (RFC 3339 or YYYY-MM-DD; default: the newest event)")
	fl.BoolVar(&f.force, "force", false, "publish even when sanity gates fail (the pack says so on its first page)")
	fl.BoolVar(&f.noPDF, "no-pdf", false, "do not print pack.pdf even when Chromium is installed")
	fl.StringVar(&f.pilot, "pilot", "", "pilot cohort selector for the pack's comparison section (default: pilot.pilot from config)")
	fl.StringVar(&f.baseline, "baseline", "", "baseline cohort selector (default: pilot.baseline from config)")
	return cmd
}

func runReport(cmd *cobra.Command, g *globals, f reportFlags) error {
	if f.out == "" {
		return usagef("--out is required (the directory the pack is written to)")
	}
	cfg, err := g.loadConfig()
	if err != nil {
		return err
	}
	tz := f.tz
	if tz == "" {
		tz = cfg.Report.Timezone
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return usagef("--tz %q is not an IANA time zone", tz)
	}
	if f.week != "" {
		if _, _, err := reports.ParseWeek(f.week, loc); err != nil {
			return usageError{err}
		}
	}
	for _, s := range []struct{ name, v string }{{"--pilot", f.pilot}, {"--baseline", f.baseline}} {
		if s.v != "" {
			if _, err := reports.ParseSelector(s.v); err != nil {
				return usagef("%s: %v", s.name, err)
			}
		}
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
	week := f.week
	if week == "" {
		week = reports.LastFullWeek(cutoff, loc)
	}
	files, pdfNote, p, err := writePack(cmd, cfg, st, week, loc, cutoff, f)
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "governance pack %s [%s, %s] %s, as of %s: %s\n", p.Week, p.From, p.To, p.Timezone, p.AsOf, p.Status)
	printPackFiles(cmd, files, pdfNote)
	return nil
}

// writePack builds the pack and writes it (and the PDF when it can).
func writePack(cmd *cobra.Command, cfg *config.Config, st store.Store, week string, loc *time.Location, cutoff time.Time, f reportFlags) (reports.Files, string, *reports.Pack, error) {
	cal, err := calendarsFor(cfg)
	if err != nil {
		return reports.Files{}, "", nil, err
	}
	pilot, baseline := f.pilot, f.baseline
	if pilot == "" && baseline == "" {
		pilot, baseline = cfg.Pilot.Pilot, cfg.Pilot.Baseline
	}
	var sources []string
	for s := range cfg.Freshness {
		sources = append(sources, s)
	}
	th := diagnose.ThresholdsFrom(cfg.Diagnose)
	p, err := reports.Build(cmd.Context(), st, reports.Options{
		Week: week, Loc: loc, AsOf: cutoff, Calendars: cal,
		WarnOnly: cfg.Gates.WarnOnly, Force: f.force,
		Pilot: pilot, Baseline: baseline,
		FreshnessLimit: cfg.FreshnessLimit, Sources: sortedStrings(sources),
		Config:       cfg,
		ScaleMinWins: cfg.Diagnose.ScaleGateMinWins, Diagnose: &th, DiagnoseDays: cfg.Diagnose.Days,
	})
	var ge *reports.GateError
	if errors.As(err, &ge) {
		return reports.Files{}, "", nil, err
	}
	if err != nil {
		return reports.Files{}, "", nil, err
	}
	files, err := reports.Write(f.out, p)
	if err != nil {
		return files, "", nil, err
	}
	pdfNote := ""
	pdf := filepath.Join(f.out, "pack.pdf")
	switch chromium, ok := reports.FindChromium(); {
	case f.noPDF:
		pdfNote = "no PDF (--no-pdf)"
		_ = os.Remove(pdf)
	case !ok:
		pdfNote = "no PDF: Chromium is not installed (apt-get install chromium, or set CLOSEDLOOP_CHROMIUM)"
		_ = os.Remove(pdf)
	default:
		if err := reports.PrintPDF(cmd.Context(), chromium, filepath.Join(f.out, files.HTML), pdf); err != nil {
			pdfNote = "no PDF: " + err.Error()
		}
	}
	return files, pdfNote, p, nil
}

func printPackFiles(cmd *cobra.Command, files reports.Files, pdfNote string) {
	w := cmd.OutOrStdout()
	fmt.Fprintln(w, "wrote:")
	fmt.Fprintf(w, "  pack         %s\n", filepath.Join(files.Dir, files.HTML))
	fmt.Fprintf(w, "  figures      %s\n", filepath.Join(files.Dir, files.Figures))
	fmt.Fprintf(w, "  drill-downs  %s (%d files)\n", filepath.Join(files.Dir, "drilldown"), len(files.Drilldown))
	if pdfNote == "" {
		fmt.Fprintf(w, "  pdf          %s\n", filepath.Join(files.Dir, "pack.pdf"))
	} else {
		fmt.Fprintf(w, "  note: %s\n", pdfNote)
	}
}

func sortedStrings(s []string) []string {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}
