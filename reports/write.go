package reports

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"time"
)

// Files names what Write produced, relative to the output directory.
type Files struct {
	Dir       string
	HTML      string
	Figures   string
	Drilldown []string
}

// Write renders the pack into dir: pack.html, figures.csv and
// drilldown/<kpi>.csv. Earlier drill-down CSVs in dir are replaced.
func Write(dir string, p *Pack) (Files, error) {
	f := Files{Dir: dir, HTML: "pack.html", Figures: "figures.csv"}
	html, err := p.HTML()
	if err != nil {
		return f, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "drilldown"), 0o755); err != nil {
		return f, fmt.Errorf("creating the output directory: %w", err)
	}
	old, _ := filepath.Glob(filepath.Join(dir, "drilldown", "*.csv"))
	for _, o := range old {
		if err := os.Remove(o); err != nil {
			return f, err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, f.HTML), html, 0o644); err != nil {
		return f, err
	}
	if err := os.WriteFile(filepath.Join(dir, f.Figures), p.FiguresCSV(), 0o644); err != nil {
		return f, err
	}
	drills := p.DrilldownCSVs()
	names := make([]string, 0, len(drills))
	for k := range drills {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		path := csvPath(k)
		if err := os.WriteFile(filepath.Join(dir, path), drills[k], 0o644); err != nil {
			return f, err
		}
		f.Drilldown = append(f.Drilldown, path)
	}
	return f, nil
}

// FiguresCSV is every figure of the pack: the reported week overall, per
// queue and per workflow, and every trend week overall.
func (p *Pack) FiguresCSV() []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"week", "kpi", "group", "value", "numerator", "denominator", "version", "immature"})
	for _, f := range p.Figures {
		val, den := "", ""
		if f.Value != nil {
			val = strconv.FormatFloat(*f.Value, 'f', -1, 64)
		}
		if f.Denominator != nil {
			den = strconv.FormatInt(*f.Denominator, 10)
		}
		_ = w.Write([]string{f.Week, f.KPI, f.Group, val, strconv.FormatInt(f.Numerator, 10), den,
			strconv.Itoa(f.Version), strconv.FormatBool(f.Immature)})
	}
	w.Flush()
	return buf.Bytes()
}

// DrilldownCSVs returns, per KPI, the case ids behind its figures of the
// reported week: one row per group and case, flagged numerator and/or
// denominator.
func (p *Pack) DrilldownCSVs() map[string][]byte {
	out := map[string]*bytes.Buffer{}
	writers := map[string]*csv.Writer{}
	for _, d := range p.drill {
		w, ok := writers[d.kpi]
		if !ok {
			out[d.kpi] = &bytes.Buffer{}
			w = csv.NewWriter(out[d.kpi])
			writers[d.kpi] = w
			_ = w.Write([]string{"week", "kpi", "group", "case_id", "numerator", "denominator"})
		}
		num := map[string]bool{}
		for _, c := range d.num {
			num[c] = true
		}
		all := map[string]bool{}
		for _, c := range d.den {
			all[c] = true
		}
		for _, c := range d.num {
			all[c] = true
		}
		ids := make([]string, 0, len(all))
		for c := range all {
			ids = append(ids, c)
		}
		sort.Strings(ids)
		inDen := map[string]bool{}
		for _, c := range d.den {
			inDen[c] = true
		}
		for _, c := range ids {
			_ = w.Write([]string{p.Week, d.kpi, d.group, c, strconv.FormatBool(num[c]), strconv.FormatBool(inDen[c])})
		}
	}
	res := map[string][]byte{}
	for k, w := range writers {
		w.Flush()
		res[k] = out[k].Bytes()
	}
	p.findingCSVs(res)
	return res
}

// FindChromium returns the path of a Chromium or Chrome binary: the
// CLOSEDLOOP_CHROMIUM variable, else the first of chromium,
// chromium-browser, google-chrome on PATH.
func FindChromium() (string, bool) {
	if p := os.Getenv("CLOSEDLOOP_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(n); err == nil {
			return p, true
		}
	}
	return "", false
}

// ChromiumFlags keep headless Chromium off the network and out of the
// user's profile.
var ChromiumFlags = []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
	"--no-first-run", "--disable-component-update", "--disable-sync", "--disable-default-apps", "--mute-audio"}

// PrintPDF prints htmlPath to pdfPath with headless Chromium.
func PrintPDF(ctx context.Context, chromium, htmlPath, pdfPath string) error {
	abs, err := filepath.Abs(htmlPath)
	if err != nil {
		return err
	}
	absPDF, err := filepath.Abs(pdfPath)
	if err != nil {
		return err
	}
	profile, err := os.MkdirTemp("", "closedloop-chromium-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(profile)
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	args := append(append([]string{}, ChromiumFlags...), "--user-data-dir="+profile, "--no-pdf-header-footer",
		"--run-all-compositor-stages-before-draw", "--virtual-time-budget=10000",
		"--print-to-pdf="+absPDF, "file://"+filepath.ToSlash(abs))
	cmd := exec.CommandContext(ctx, chromium, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("printing the pack with %s: %w\n%s", chromium, err, lastLines(out, 8))
	}
	if fi, err := os.Stat(absPDF); err != nil || fi.Size() == 0 {
		return fmt.Errorf("printing the pack with %s produced no PDF\n%s", chromium, lastLines(out, 8))
	}
	return nil
}

func lastLines(b []byte, n int) string {
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
