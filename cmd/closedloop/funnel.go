package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/closedloop/closedloop/reports"
	"github.com/closedloop/closedloop/transforms"
)

func init() { extraCommands = append(extraCommands, newFunnelCmd) }

// FallbackWait implements transforms.FunnelSettings: the funnel facts use
// the configured funnel.fallback_wait.
func (c configCalendars) FallbackWait() time.Duration {
	return time.Duration(c.cfg.Funnel.FallbackWait)
}

type funnelFlags struct {
	db, workflow, from, to, tz, asof, format string
}

func newFunnelCmd(g *globals) *cobra.Command {
	var f funnelFlags
	cmd := &cobra.Command{
		Use:   "funnel --db FILE|DSN --workflow W [--from DATE --to DATE] [--format table|json]",
		Short: "A workflow's funnel: triggered → delivered → read → action started → identity validated → completed → written back",
		Long: "Print the funnel of a workflow's cases opened in [from, to) (default: the last full\n" +
			"week before the cutoff): each step's cases and drop-off, the fallback and deflection\n" +
			"rates, completion by channel sequence and the messaging cost per completed case\n" +
			"(pricing in the configuration). A step counts when its own event happened by the\n" +
			"cutoff, whatever the order of the events. --workflow all prints every workflow.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runFunnel(cmd, g, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.db, "db", "", "store: DuckDB file path or clickhouse://host:port/database")
	fl.StringVar(&f.workflow, "workflow", "", "workflow name, or all")
	fl.StringVar(&f.from, "from", "", "first day of the period (YYYY-MM-DD, inclusive; default: the last full week)")
	fl.StringVar(&f.to, "to", "", "day after the period (YYYY-MM-DD, exclusive)")
	fl.StringVar(&f.tz, "tz", "", "reporting time zone (IANA; default: report.timezone from config, else UTC)")
	fl.StringVar(&f.asof, "asof", "", "cutoff (RFC 3339 or YYYY-MM-DD; default: the newest event)")
	fl.StringVar(&f.format, "format", "table", "table or json")
	return cmd
}

func runFunnel(cmd *cobra.Command, g *globals, f funnelFlags) error {
	if f.workflow == "" {
		return usagef("--workflow is required (a workflow name, or all)")
	}
	if f.format != "table" && f.format != "json" {
		return usagef("--format %q: use table or json", f.format)
	}
	if (f.from == "") != (f.to == "") {
		return usagef("give both --from and --to, or neither (the last full week)")
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
	var from, to time.Time
	if f.from != "" {
		if from, to, err = period(f.from, f.to, loc); err != nil {
			return err
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
	if f.from == "" {
		if from, to, err = reports.ParseWeek(reports.LastFullWeek(cutoff, loc), loc); err != nil {
			return err
		}
	}
	cal, err := calendarsFor(cfg)
	if err != nil {
		return err
	}
	if _, err := transforms.Ensure(cmd.Context(), st, cal, cutoff); err != nil {
		return err
	}
	req := transforms.Request{From: from, To: to, Cutoff: cutoff, Loc: loc}
	opt := transforms.FunnelOptions{Pricing: cfg.Pricing, FallbackWait: time.Duration(cfg.Funnel.FallbackWait)}
	var funnels []transforms.FunnelResult
	if f.workflow == "all" {
		if funnels, err = transforms.Funnels(cmd.Context(), st, req, opt); err != nil {
			return err
		}
	} else {
		fr, err := transforms.Funnel(cmd.Context(), st, req, f.workflow, opt)
		if err != nil {
			return err
		}
		if fr.Steps[0].Cases == 0 {
			known, _ := transforms.Funnels(cmd.Context(), st, req, opt)
			var names []string
			for _, k := range known {
				names = append(names, k.Workflow)
			}
			if len(names) == 0 {
				names = []string{"none"}
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "note: no %s case was opened in the period (workflows with cases: %s)\n", f.workflow, strings.Join(names, ", "))
		}
		funnels = []transforms.FunnelResult{fr}
	}
	w := cmd.OutOrStdout()
	if f.format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if f.workflow == "all" {
			if funnels == nil {
				funnels = []transforms.FunnelResult{}
			}
			return enc.Encode(map[string]any{"timezone": tz, "funnels": funnels})
		}
		return enc.Encode(funnels[0])
	}
	for i, fr := range funnels {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if err := writeFunnelTable(w, fr, from, to, tz); err != nil {
			return err
		}
	}
	return nil
}

func pctOf(v *float64) string {
	if v == nil {
		return "—"
	}
	return strconv.FormatFloat(*v*100, 'f', 1, 64) + "%"
}

func writeFunnelTable(w io.Writer, fr transforms.FunnelResult, from, to time.Time, tz string) error {
	name := fr.Workflow
	if name == "" {
		name = "all workflows"
	}
	fmt.Fprintf(w, "Funnel %s: cases opened [%s, %s) %s, as of %s\n\n", name, from.Format("2006-01-02"), to.Format("2006-01-02"), tz, fr.Cutoff)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tCASES\tOF TRIGGERED\tDROPPED\tWITHOUT PREVIOUS")
	for i, s := range fr.Steps {
		dropped, without := "", ""
		if i > 0 {
			dropped, without = strconv.FormatInt(s.Dropped, 10), strconv.FormatInt(s.WithoutPrevious, 10)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", s.Step, s.Cases, pctOf(s.Share), dropped, without)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	triggered := fr.Steps[0].Cases
	var why []string
	for _, c := range fr.FallbackWhy {
		why = append(why, fmt.Sprintf("%s %d", c.Key, c.Count))
	}
	fmt.Fprintf(w, "\nfallback rate    %s (%d of %d; wait %s", pctOf(fr.FallbackRate), fr.Fallback, triggered, time.Duration(fr.FallbackWait*float64(time.Second)))
	if len(why) > 0 {
		fmt.Fprintf(w, "; %s", strings.Join(why, ", "))
	}
	fmt.Fprintf(w, ")\ndeflection rate  %s (%d of %d completed with no handover and no agent message)\n\n", pctOf(fr.DeflectionRate), fr.Deflected, triggered)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CHANNEL SEQUENCE\tCASES\tCOMPLETED\tCOMPLETION")
	for _, s := range fr.Sequences {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", s.Sequence, s.Cases, s.Completed, pctOf(s.Completion))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	c := fr.Cost
	per := "—"
	if c.PerCompleted != nil {
		per = fmt.Sprintf("%.4f", *c.PerCompleted)
	}
	fmt.Fprintf(w, "\ncost (%s)  total %.4f = WhatsApp %.4f + SMS %.4f + e-mail %.4f; %d completed; per completed case %s\n",
		c.Currency, c.Total, c.WhatsApp, c.SMS, c.Email, c.Completed, per)
	for _, l := range c.Lines {
		if l.Channel == "whatsapp" && l.Billable == 0 {
			continue // free (service) and failed messages
		}
		what := l.Channel
		if l.Category != "" {
			what += " " + l.Category
		}
		if l.Country != "" {
			what += " " + l.Country
		}
		note := ""
		if l.Unpriced {
			note = "  (no rate configured)"
		}
		fmt.Fprintf(w, "  %-28s %6d messages, %6d billed × %.4f = %.4f%s\n", what, l.Messages, l.Billable, l.Rate, l.Cost, note)
	}
	return nil
}
