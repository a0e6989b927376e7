package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/closedloop/closedloop/config"
	"github.com/closedloop/closedloop/gen"
	"github.com/closedloop/closedloop/reports"
	"github.com/closedloop/closedloop/transforms"
)

func newDemoCmd(g *globals) *cobra.Command {
	var out string
	var cases int
	cmd := &cobra.Command{
		Use:   "demo [--out DIR]",
		Short: "Generate a realistic operation, ingest it, compute the KPIs and print last week's figures",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			start := time.Now()
			w := cmd.OutOrStdout()
			cfg, err := g.loadConfig()
			if err != nil {
				return err
			}
			if cfg.Path == "" {
				// Without a configuration the demo measures SLA against the
				// simulated queues' real opening hours, and leaves the file
				// beside the store for the user to read and reuse.
				yml := gen.DemoConfigYAML()
				if cfg, err = config.Parse([]byte(yml)); err != nil {
					return fmt.Errorf("parsing the demo configuration: %w", err)
				}
				if err := os.MkdirAll(out, 0o755); err != nil {
					return fmt.Errorf("creating %s: %w", out, err)
				}
				cfgPath := filepath.Join(out, "closedloop.yaml")
				if err := os.WriteFile(cfgPath, []byte(yml), 0o644); err != nil {
					return fmt.Errorf("writing %s: %w", cfgPath, err)
				}
				cfg.Path = cfgPath
				g.configPath = cfgPath
			}
			inputs := filepath.Join(out, "inputs")
			dbPath := filepath.Join(out, "closedloop.duckdb")
			// A demo always starts from scratch so its figures are reproducible.
			for _, p := range []string{inputs, dbPath, dbPath + ".wal"} {
				if err := os.RemoveAll(p); err != nil {
					return fmt.Errorf("clearing previous demo output %s: %w", p, err)
				}
			}
			end := gen.MondayOnOrBefore(time.Now())
			fmt.Fprintf(w, "1/4 generating %d cases over 12 weeks ending %s …\n", cases, end.Format("2006-01-02"))
			bar := newProgress(int64(cases), "generating")
			res, err := gen.Generate(cmd.Context(), gen.Options{Out: inputs, Cases: cases, Seed: 1, Weeks: 12, End: end,
				Progress: func(done, total int) { bar.Set(int64(done), "") }})
			bar.Finish()
			if err != nil {
				return err
			}
			printGenResult(cmd, res)

			fmt.Fprintln(w, "2/4 ingesting …")
			st, err := openStore(cmd.Context(), dbPath, false)
			if err != nil {
				return err
			}
			defer st.Close()
			sum, err := runIngest(cmd.Context(), cfg, st, dbPath, "auto", []string{inputs})
			if err != nil {
				return err
			}
			fmt.Fprintln(w, "   "+sum.String())
			if err := recordIngest(cmd.Context(), st, "auto", []string{inputs}, sum); err != nil {
				return err
			}

			fmt.Fprintln(w, "3/4 computing KPIs …")
			loc, err := time.LoadLocation(cfg.Report.Timezone)
			if err != nil {
				return err
			}
			from := end.AddDate(0, 0, -7)
			figs, cutoff, err := computeKPIs(cmd, g, st, "", transforms.Request{From: from, To: end, Loc: loc})
			if err != nil {
				return err
			}
			y, wk := from.ISOWeek()
			fmt.Fprintf(w, "\nLast full week %d-W%02d [%s, %s) %s, as of %s\n\n", y, wk, from.Format("2006-01-02"), end.Format("2006-01-02"),
				cfg.Report.Timezone, cutoff.Format(time.RFC3339))
			if err := writeKPITable(w, figs, false); err != nil {
				return err
			}
			fmt.Fprintln(w, "\n4/4 writing the governance pack …")
			packDir := filepath.Join(out, "pack")
			files, pdfNote, pack, err := writePack(cmd, cfg, st, reports.WeekOf(from), loc, cutoff, reportFlags{out: packDir, force: true})
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "   week %s: %s\n", pack.Week, pack.Status)
			fmt.Fprintf(w, "\nwrote:\n  inputs  %s\n  store   %s\n", inputs, dbPath)
			fmt.Fprintf(w, "  pack    %s  (open it in a browser; figures.csv and drilldown/ beside it)\n", filepath.Join(packDir, files.HTML))
			if pdfNote == "" {
				fmt.Fprintf(w, "  pdf     %s\n", filepath.Join(packDir, "pack.pdf"))
			} else {
				fmt.Fprintf(w, "  note: %s\n", pdfNote)
			}
			fmt.Fprintf(w, "done in %s\n", time.Since(start).Round(100*time.Millisecond))
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "closedloop-demo", "output directory")
	cmd.Flags().IntVar(&cases, "cases", 20000, "cases to simulate")
	return cmd
}
