package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/closedloop/closedloop/calendar"
	"github.com/closedloop/closedloop/config"
	"github.com/closedloop/closedloop/reports"
	"github.com/closedloop/closedloop/store"
	"github.com/closedloop/closedloop/transforms"
)

func newTransformCmd(g *globals) *cobra.Command {
	var db, asof string
	var full bool
	cmd := &cobra.Command{
		Use:   "transform --db FILE|DSN [--asof TS] [--full]",
		Short: "Update the per-case facts the KPIs read, as of a cutoff (default: the newest event)",
		Long: "Update the per-case facts the KPIs read, as of a cutoff (default: the newest event).\n" +
			"When the previous build allows it (DuckDB store, same transform SQL and calendars, cutoff\n" +
			"not earlier, raw tables only grown), only the cases that can have changed are recomputed;\n" +
			"the facts are the same as a full rebuild. --full rebuilds everything.",
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
			cutoff, err := resolveCutoff(cmd, st, asof)
			if err != nil {
				return err
			}
			cal, err := calendarsFor(cfg)
			if err != nil {
				return err
			}
			s, err := transforms.Update(cmd.Context(), st, cal, cutoff, full)
			if err != nil {
				return err
			}
			if s.Incremental {
				fmt.Fprintf(cmd.OutOrStdout(), "facts updated as of %s in %s (incremental: %d cases recomputed)\n", s.AsOf.Format(time.RFC3339), s.Duration.Round(time.Millisecond), s.Cases)
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "facts rebuilt as of %s in %s\n", s.AsOf.Format(time.RFC3339), s.Duration.Round(time.Millisecond))
			}
			return checkGatesAfterTransform(cmd, cfg, st, cal, s.AsOf)
		},
	}
	cmd.Flags().StringVar(&db, "db", "", "store: DuckDB file path or clickhouse://host:port/database")
	cmd.Flags().StringVar(&asof, "asof", "", "cutoff (RFC 3339 or YYYY-MM-DD; default: the newest event)")
	cmd.Flags().BoolVar(&full, "full", false, "rebuild every fact instead of updating the cases that changed")
	return cmd
}

// resolveCutoff parses --asof or falls back to the newest event.
func resolveCutoff(cmd *cobra.Command, st store.Store, asof string) (time.Time, error) {
	if asof == "" {
		return transforms.NewestEvent(cmd.Context(), st.DB())
	}
	if t, err := time.Parse(time.RFC3339, asof); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", asof); err == nil {
		return t, nil
	}
	return time.Time{}, usagef("--asof %q is neither RFC 3339 nor YYYY-MM-DD", asof)
}

// calendarsFor adapts the configuration's queue calendars (SPEC §4) to
// what the transforms ask: business time and the SLA target per queue.
func calendarsFor(cfg *config.Config) (transforms.Calendars, error) {
	set, err := calendar.NewSet(cfg)
	if err != nil {
		return nil, fmt.Errorf("building queue calendars: %w", err)
	}
	return configCalendars{cfg: cfg, set: set}, nil
}

type configCalendars struct {
	cfg *config.Config
	set *calendar.Set
}

func (c configCalendars) BusinessTime(queue string, from, to time.Time) time.Duration {
	return c.set.For(queue).BusinessTime(from, to)
}

func (c configCalendars) SLATarget(queue string) time.Duration { return c.cfg.SLATarget(queue) }

// Fingerprint identifies the queue and calendar configuration the facts
// were built with.
func (c configCalendars) Fingerprint() string {
	b, _ := json.Marshal(struct {
		Q any
		C any
	}{c.cfg.Queues, c.cfg.Calendars})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// checkGatesAfterTransform runs the sanity gates (SPEC §3) on the last full
// week of the new facts, so a broken invariant is seen when the facts are
// built, not only when a pack is refused. Exit code 1 when a blocking gate
// fails; the offending figures are printed.
func checkGatesAfterTransform(cmd *cobra.Command, cfg *config.Config, st store.Store, cal transforms.Calendars, asof time.Time) error {
	loc, err := time.LoadLocation(cfg.Report.Timezone)
	if err != nil {
		return err
	}
	var sources []string
	for s := range cfg.Freshness {
		sources = append(sources, s)
	}
	week := reports.LastFullWeek(asof, loc)
	gates, err := reports.Gates(cmd.Context(), st, reports.Options{
		Week: week, Loc: loc, AsOf: asof, Calendars: cal, Weeks: 8,
		WarnOnly: cfg.Gates.WarnOnly, FreshnessLimit: cfg.FreshnessLimit, Sources: sortedStrings(sources),
	})
	if err != nil {
		return fmt.Errorf("checking sanity gates: %w", err)
	}
	w := cmd.OutOrStdout()
	failed := 0
	for _, g := range gates {
		state := "ok"
		switch {
		case !g.OK && g.Blocking:
			state = "FAILED"
			failed++
		case !g.OK:
			state = "warning"
		}
		fmt.Fprintf(w, "gate %-18s %-8s %s (%s)\n", g.Name, state, g.Rule, g.Detail)
	}
	if failed > 0 {
		return &exitError{code: exitFailure, msg: fmt.Sprintf("%d sanity gate(s) failed on week %s: packs will be refused unless --force", failed, week)}
	}
	return nil
}
