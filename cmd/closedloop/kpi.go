package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/closedloop/closedloop/store"
	"github.com/closedloop/closedloop/transforms"
)

type kpiFlags struct {
	db, from, to, tz, by, format, explain, asof string
}

func newKPICmd(g *globals) *cobra.Command {
	var f kpiFlags
	cmd := &cobra.Command{
		Use:   "kpi --db FILE|DSN --from DATE --to DATE [--tz ZONE] [--by DIM] [--format table|json|csv]",
		Short: "Compute the service KPIs for a period [from, to)",
		Long: "Compute every KPI of the catalogue for cases and messages in [from, to) in the\n" +
			"reporting time zone, as of a cutoff (default: the newest event). Facts are rebuilt\n" +
			"first when the store changed. --explain KPI lists the cases behind a figure.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runKPI(cmd, g, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.db, "db", "", "store: DuckDB file path or clickhouse://host:port/database")
	fl.StringVar(&f.from, "from", "", "first day of the period (YYYY-MM-DD, inclusive)")
	fl.StringVar(&f.to, "to", "", "day after the period (YYYY-MM-DD, exclusive)")
	fl.StringVar(&f.tz, "tz", "", "reporting time zone (IANA; default: report.timezone from config, else UTC)")
	fl.StringVar(&f.by, "by", "", "cut by queue, category, workflow or week")
	fl.StringVar(&f.format, "format", "table", "table, json or csv")
	fl.StringVar(&f.explain, "explain", "", "list the case ids behind one KPI's numerator and denominator")
	fl.StringVar(&f.asof, "asof", "", "cutoff (RFC 3339 or YYYY-MM-DD; default: the newest event)")
	return cmd
}

// period parses [from, to) dates at local midnight in the zone.
func period(from, to string, loc *time.Location) (time.Time, time.Time, error) {
	if from == "" || to == "" {
		return time.Time{}, time.Time{}, usagef("--from and --to are required (YYYY-MM-DD)")
	}
	f, err := time.ParseInLocation("2006-01-02", from, loc)
	if err != nil {
		return time.Time{}, time.Time{}, usagef("--from %q is not a date like 2026-03-02", from)
	}
	t, err := time.ParseInLocation("2006-01-02", to, loc)
	if err != nil {
		return time.Time{}, time.Time{}, usagef("--to %q is not a date like 2026-03-09", to)
	}
	if !t.After(f) {
		return time.Time{}, time.Time{}, usagef("--to (%s) must be after --from (%s)", to, from)
	}
	return f, t, nil
}

func runKPI(cmd *cobra.Command, g *globals, f kpiFlags) error {
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
	from, to, err := period(f.from, f.to, loc)
	if err != nil {
		return err
	}
	if f.by != "" && !slices.Contains(transforms.Dimensions, f.by) {
		return usagef("--by %q: use one of %s", f.by, strings.Join(transforms.Dimensions, ", "))
	}
	if f.format != "table" && f.format != "json" && f.format != "csv" {
		return usagef("--format %q: use table, json or csv", f.format)
	}
	st, err := openStore(cmd.Context(), f.db, false)
	if err != nil {
		return err
	}
	defer st.Close()
	figs, cutoff, err := computeKPIs(cmd, g, st, f.asof, transforms.Request{From: from, To: to, Loc: loc, By: f.by})
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	if f.explain != "" {
		return explain(w, figs, f.explain)
	}
	switch f.format {
	case "json":
		return writeKPIJSON(w, figs, from, to, cutoff, tz, f.by)
	case "csv":
		return writeKPICSV(w, figs)
	}
	fmt.Fprintf(w, "KPIs for [%s, %s) %s, as of %s\n\n", from.Format("2006-01-02"), to.Format("2006-01-02"), tz, cutoff.Format(time.RFC3339))
	return writeKPITable(w, figs, f.by != "")
}

// computeKPIs refreshes the facts for the cutoff and evaluates every KPI.
func computeKPIs(cmd *cobra.Command, g *globals, st store.Store, asof string, req transforms.Request) ([]transforms.Figure, time.Time, error) {
	cfg, err := g.loadConfig()
	if err != nil {
		return nil, time.Time{}, err
	}
	cutoff, err := resolveCutoff(cmd, st, asof)
	if err != nil {
		return nil, time.Time{}, err
	}
	cal, err := calendarsFor(cfg)
	if err != nil {
		return nil, time.Time{}, err
	}
	if _, err := transforms.Ensure(cmd.Context(), st, cal, cutoff); err != nil {
		return nil, time.Time{}, err
	}
	req.Cutoff = cutoff
	figs, err := transforms.Compute(cmd.Context(), st, req)
	return figs, cutoff, err
}

// formatValue renders a figure's value for people: rates as percentages,
// durations in seconds with a readable form, counts as integers.
func formatValue(f transforms.Figure) string {
	if f.Value == nil {
		return "—"
	}
	v := *f.Value
	switch f.Kind {
	case transforms.KindRate:
		return strconv.FormatFloat(v*100, 'f', 1, 64) + "%"
	case transforms.KindPercentile:
		return humanSeconds(v)
	default:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
}

func humanSeconds(s float64) string {
	d := time.Duration(s * float64(time.Second)).Round(time.Second)
	switch {
	case d < time.Minute:
		return d.String()
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%.1fd", d.Hours()/24)
	}
}

func writeKPITable(w io.Writer, figs []transforms.Figure, grouped bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if grouped {
		fmt.Fprintln(tw, "KPI\tGROUP\tVALUE\tNUMERATOR\tDENOMINATOR\tVERSION\tNOTE")
	} else {
		fmt.Fprintln(tw, "KPI\tVALUE\tNUMERATOR\tDENOMINATOR\tVERSION\tNOTE")
	}
	for _, f := range figs {
		den := "—"
		if f.Denominator != nil {
			den = strconv.FormatInt(*f.Denominator, 10)
		}
		note := ""
		if f.Immature {
			note = "immature"
		}
		if len(f.Breakdown) > 0 {
			var parts []string
			for i, b := range f.Breakdown {
				if i == 3 {
					parts = append(parts, "…")
					break
				}
				parts = append(parts, fmt.Sprintf("%s:%d", b.Key, b.Count))
			}
			note = strings.TrimSpace(note + " " + strings.Join(parts, " "))
		}
		if grouped {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\tv%d\t%s\n", f.KPI, f.Group, formatValue(f), f.Numerator, den, f.Version, note)
		} else {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\tv%d\t%s\n", f.KPI, formatValue(f), f.Numerator, den, f.Version, note)
		}
	}
	return tw.Flush()
}

type kpiJSON struct {
	From     string              `json:"from"`
	To       string              `json:"to"`
	Timezone string              `json:"timezone"`
	Cutoff   string              `json:"cutoff"`
	By       string              `json:"by,omitempty"`
	KPIs     []transforms.Figure `json:"kpis"`
}

func writeKPIJSON(w io.Writer, figs []transforms.Figure, from, to, cutoff time.Time, tz, by string) error {
	if figs == nil {
		figs = []transforms.Figure{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(kpiJSON{From: from.Format(time.RFC3339), To: to.Format(time.RFC3339), Timezone: tz,
		Cutoff: cutoff.UTC().Format(time.RFC3339Nano), By: by, KPIs: figs})
}

func writeKPICSV(w io.Writer, figs []transforms.Figure) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"kpi", "group", "value", "numerator", "denominator", "version", "immature", "unit"})
	for _, f := range figs {
		val, den := "", ""
		if f.Value != nil {
			val = strconv.FormatFloat(*f.Value, 'f', -1, 64)
		}
		if f.Denominator != nil {
			den = strconv.FormatInt(*f.Denominator, 10)
		}
		_ = cw.Write([]string{f.KPI, f.Group, val, strconv.FormatInt(f.Numerator, 10), den,
			strconv.Itoa(f.Version), strconv.FormatBool(f.Immature), f.Unit})
	}
	cw.Flush()
	return cw.Error()
}

func explain(w io.Writer, figs []transforms.Figure, name string) error {
	found := false
	for _, f := range figs {
		if f.KPI != name {
			continue
		}
		found = true
		group := ""
		if f.Group != "" {
			group = " [" + f.Group + "]"
		}
		fmt.Fprintf(w, "%s%s v%d = %s — %s\n", f.KPI, group, f.Version, formatValue(f), f.Definition)
		fmt.Fprintf(w, "numerator cases (%d):\n", len(f.NumeratorCases))
		for _, c := range f.NumeratorCases {
			fmt.Fprintln(w, "  "+c)
		}
		fmt.Fprintf(w, "denominator cases (%d):\n", len(f.DenominatorCases))
		for _, c := range f.DenominatorCases {
			fmt.Fprintln(w, "  "+c)
		}
	}
	if !found {
		var names []string
		for _, f := range figs {
			if !slices.Contains(names, f.KPI) {
				names = append(names, f.KPI)
			}
		}
		return usagef("--explain %q: no such KPI (known: %s)", name, strings.Join(names, ", "))
	}
	return nil
}
