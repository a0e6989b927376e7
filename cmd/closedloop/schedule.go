package main

import (
	"context"
	"fmt"
	"io"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/spf13/cobra"

	"github.com/closedloop/closedloop/audit"
	"github.com/closedloop/closedloop/config"
	"github.com/closedloop/closedloop/reports"
	"github.com/closedloop/closedloop/store"
	"github.com/closedloop/closedloop/transforms"
)

func init() { extraCommands = append(extraCommands, newScheduleCmd) }

// scheduledJob is one named job the scheduler can run.
type scheduledJob struct {
	name string
	spec string
	run  func(ctx context.Context) (string, error)
}

func newScheduleCmd(g *globals) *cobra.Command {
	var db, packDir string
	cmd := &cobra.Command{
		Use:   "schedule --db FILE|DSN [--packs DIR]",
		Short: "Run the transform, pull collectors and weekly pack on the cron schedules of the configuration until stopped",
		Long: "Runs schedules.transform, schedules.collect (the configured pull collectors) and\n" +
			"schedules.weekly_pack (robfig/cron expressions, CRON_TZ= allowed)\n" +
			"until interrupted. A job never overlaps itself; every run is recorded in the audit log\n" +
			"with its outcome.",
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
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			jobs := scheduleJobs(cmd, cfg, st, packDir)
			if len(jobs) == 0 {
				return usagef("no schedules configured: set schedules.transform, schedules.collect (with collectors) and/or schedules.weekly_pack in the configuration")
			}
			return runScheduler(ctx, cmd.OutOrStdout(), st, jobs)
		},
	}
	cmd.Flags().StringVar(&db, "db", "", "store: DuckDB file path or clickhouse://host:port/database")
	cmd.Flags().StringVar(&packDir, "packs", "packs", "directory for weekly packs")
	return cmd
}

func scheduleJobs(cmd *cobra.Command, cfg *config.Config, st store.Store, packDir string) []scheduledJob {
	var jobs []scheduledJob
	if cfg.Schedules.Transform != "" {
		jobs = append(jobs, scheduledJob{name: "transform", spec: cfg.Schedules.Transform, run: func(ctx context.Context) (string, error) {
			cutoff, err := transforms.NewestEvent(ctx, st.DB())
			if err != nil {
				return "", err
			}
			cal, err := calendarsFor(cfg)
			if err != nil {
				return "", err
			}
			s, err := transforms.Run(ctx, st, cal, cutoff)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("facts as of %s in %s", s.AsOf.Format(time.RFC3339), s.Duration.Round(time.Millisecond)), nil
		}})
	}
	if cfg.Schedules.Collect != "" && len(cfg.Collectors.Names()) > 0 {
		jobs = append(jobs, scheduledJob{name: "collect", spec: cfg.Schedules.Collect, run: collectJob(cmd, cfg, st)})
	}
	if cfg.Schedules.WeeklyPack != "" {
		jobs = append(jobs, scheduledJob{name: "weekly_pack", spec: cfg.Schedules.WeeklyPack, run: func(ctx context.Context) (string, error) {
			loc, err := time.LoadLocation(cfg.Report.Timezone)
			if err != nil {
				return "", err
			}
			cutoff, err := transforms.NewestEvent(ctx, st.DB())
			if err != nil {
				return "", err
			}
			week := reports.LastFullWeek(cutoff, loc)
			out := filepath.Join(packDir, week)
			files, note, p, err := writePack(cmd, cfg, st, week, loc, cutoff, reportFlags{out: out})
			if err != nil {
				return "", err
			}
			msg := fmt.Sprintf("pack %s (%s) in %s", p.Week, p.Status, filepath.Join(out, files.HTML))
			if note != "" {
				msg += "; " + note
			}
			return msg, nil
		}})
	}
	return jobs
}

// runScheduler runs jobs on their schedules until ctx ends. Jobs share one
// store, so runs are serialised; a job still running when its next tick
// comes is skipped, never run twice at once.
func runScheduler(ctx context.Context, out io.Writer, st store.Store, jobs []scheduledJob) error {
	var storeMu sync.Mutex
	// A stop signal lets the running job finish (and be recorded) rather
	// than abandoning it half-way.
	jobCtx := context.WithoutCancel(ctx)
	logger := cron.PrintfLogger(logAdapter{out})
	c := cron.New(cron.WithParser(cron.NewParser(cron.Minute|cron.Hour|cron.Dom|cron.Month|cron.Dow|cron.Descriptor)),
		cron.WithChain(cron.Recover(logger), cron.SkipIfStillRunning(logger)))
	for _, j := range jobs {
		j := j
		if _, err := c.AddFunc(j.spec, func() {
			storeMu.Lock()
			defer storeMu.Unlock()
			runJob(jobCtx, out, st, j)
		}); err != nil {
			return usagef("schedule %s %q: %v", j.name, j.spec, err)
		}
		fmt.Fprintf(out, "scheduled %s: %s\n", j.name, j.spec)
	}
	c.Start()
	<-ctx.Done()
	<-c.Stop().Done()
	return nil
}

// runJob runs one job and records the run and its outcome in the audit log.
func runJob(ctx context.Context, out io.Writer, st store.Store, j scheduledJob) {
	start := time.Now()
	msg, err := j.run(ctx)
	outcome := "success"
	details := map[string]any{"job": j.name, "duration_ms": time.Since(start).Milliseconds()}
	if err != nil {
		outcome = "failure"
		details["error"] = err.Error()
		fmt.Fprintf(out, "%s %s failed: %v\n", time.Now().UTC().Format(time.RFC3339), j.name, err)
	} else {
		details["result"] = msg
		fmt.Fprintf(out, "%s %s ok: %s\n", time.Now().UTC().Format(time.RFC3339), j.name, msg)
	}
	details["outcome"] = outcome
	if aerr := audit.Append(ctx, st, "closedloop-scheduler", "system", "scheduled_run", "job", j.name, details); aerr != nil {
		fmt.Fprintf(out, "recording %s run in the audit log: %v\n", j.name, aerr)
	}
}

type logAdapter struct{ w io.Writer }

func (l logAdapter) Printf(format string, a ...any) { fmt.Fprintf(l.w, format+"\n", a...) }
