package main

import (
	"fmt"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/closedloop/closedloop/gen"
)

func newGenCmd(g *globals) *cobra.Command {
	var o gen.Options
	var end string
	cmd := &cobra.Command{
		Use:   "gen --out DIR [--cases N] [--seed S] [--weeks W]",
		Short: "Simulate a WhatsApp service operation and write its events in the real source formats",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Out == "" {
				return usagef("--out is required")
			}
			if end != "" {
				t, err := time.Parse("2006-01-02", end)
				if err != nil {
					return usagef("--end %q is not a date like 2026-11-23", end)
				}
				o.End = t
			}
			bar := newProgress(int64(o.Cases), "generating")
			o.Progress = func(done, total int) { bar.Set(int64(done), "") }
			res, err := gen.Generate(cmd.Context(), o)
			bar.Finish()
			if err != nil {
				return err
			}
			printGenResult(cmd, res)
			return nil
		},
	}
	cmd.Flags().StringVar(&o.Out, "out", "", "output directory")
	cmd.Flags().IntVar(&o.Cases, "cases", gen.DefaultCases, "number of cases to simulate")
	cmd.Flags().Int64Var(&o.Seed, "seed", 1, "random seed (same seed, same bytes)")
	cmd.Flags().IntVar(&o.Weeks, "weeks", gen.DefaultWeeks, "weeks of activity")
	cmd.Flags().StringVar(&end, "end", "", "end of the simulated period, exclusive (default: the Monday on or before today, UTC)")
	return cmd
}

func printGenResult(cmd *cobra.Command, res gen.Result) {
	var kinds []string
	total := 0
	for k, v := range res.Events {
		if !containsDot(k) {
			kinds = append(kinds, k)
			total += v
		}
	}
	sort.Strings(kinds)
	fmt.Fprintf(cmd.OutOrStdout(), "generated %d cases, %d lines (%d deliberately malformed) in %d files\n", res.Cases, total, res.Malformed, len(res.Files))
	for _, k := range kinds {
		fmt.Fprintf(cmd.OutOrStdout(), "  %-10s %9d\n", k, res.Events[k])
	}
}

func containsDot(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return true
		}
	}
	return false
}
