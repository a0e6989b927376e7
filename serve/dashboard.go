package serve

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/closedloop/closedloop/diagnose"
	"github.com/closedloop/closedloop/reports"
	"github.com/closedloop/closedloop/transforms"
)

// dashboard caches the packs behind the dashboard pages: a pack is rebuilt
// when the facts moved to a new cutoff or it is older than Options.Refresh.
type dashboard struct {
	s     *Server
	mu    sync.Mutex
	packs map[string]cachedPack // by week
}

type cachedPack struct {
	p    *reports.Pack
	asof time.Time
	at   time.Time
}

func newDashboard(s *Server) *dashboard { return &dashboard{s: s, packs: map[string]cachedPack{}} }

func (d *dashboard) invalidate() {
	d.mu.Lock()
	d.packs = map[string]cachedPack{}
	d.mu.Unlock()
}

// errNoEvents is shown as an empty dashboard rather than an error.
var errNoEvents = errors.New("the store holds no events yet")

// cutoffLocked picks the as-of of the figures: the facts' own cutoff while
// they are fresh, else the newest event. Call with writeMu held.
func (s *Server) cutoffLocked(ctx context.Context) (time.Time, error) {
	state, ok, err := transforms.LoadState(ctx, s.st.DB())
	if err == nil && ok && time.Since(state.BuiltAt) < s.opt.Refresh {
		return state.AsOf, nil
	}
	newest, err := transforms.NewestEvent(ctx, s.st.DB())
	if err != nil {
		if strings.Contains(err.Error(), "no events") {
			return time.Time{}, errNoEvents
		}
		return time.Time{}, err
	}
	return newest.UTC().Truncate(time.Millisecond), nil
}

// pack returns the pack of week ("" = the week of the cutoff), its week
// and its exact as-of, building it (and the facts) when the cache is stale.
func (d *dashboard) pack(ctx context.Context, week string) (*reports.Pack, string, time.Time, error) {
	s := d.s
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	asof, err := s.cutoffLocked(ctx)
	if err != nil {
		return nil, week, asof, err
	}
	if week == "" {
		week = reports.WeekOf(asof.In(s.loc))
	}
	d.mu.Lock()
	c, ok := d.packs[week]
	d.mu.Unlock()
	if ok && c.asof.Equal(asof) && time.Since(c.at) < s.opt.Refresh {
		return c.p, week, asof, nil
	}
	p, err := s.buildPack(ctx, week, asof)
	if err != nil {
		return nil, week, asof, err
	}
	d.mu.Lock()
	d.packs[week] = cachedPack{p: p, asof: asof, at: time.Now()}
	d.mu.Unlock()
	return p, week, asof, nil
}

// asofAttr renders a cutoff with the store's millisecond precision.
func asofAttr(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

// buildPack builds a pack as `closedloop report --force` would (the
// dashboard shows failing gates rather than refusing). writeMu held.
func (s *Server) buildPack(ctx context.Context, week string, asof time.Time) (*reports.Pack, error) {
	var sources []string
	for src := range s.cfg.Freshness {
		sources = append(sources, src)
	}
	sort.Strings(sources)
	// The configuration gives the funnel, cost and governance sections their
	// rate card, register of numbers and pickup targets, as in the pack.
	th := diagnose.ThresholdsFrom(s.cfg.Diagnose)
	p, err := reports.Build(ctx, s.st, reports.Options{
		Week: week, Loc: s.loc, AsOf: asof, Calendars: s.opt.Calendars,
		WarnOnly: s.cfg.Gates.WarnOnly, Force: true,
		FreshnessLimit: s.cfg.FreshnessLimit, Sources: sources,
		Config: s.cfg, ScaleMinWins: s.cfg.Diagnose.ScaleGateMinWins, Diagnose: &th, DiagnoseDays: s.cfg.Diagnose.Days,
	})
	if err != nil {
		return nil, fmt.Errorf("building the pack of %s: %w", week, err)
	}
	return p, nil
}

// figuresAt computes req at asof on facts built for asof. writeMu held.
func (s *Server) figuresAt(ctx context.Context, req transforms.Request) ([]transforms.Figure, error) {
	state, ok, err := transforms.LoadState(ctx, s.st.DB())
	if err != nil {
		return nil, err
	}
	if !ok || !state.AsOf.Equal(req.Cutoff.UTC().Truncate(time.Millisecond)) {
		if _, err := transforms.Ensure(ctx, s.st, s.opt.Calendars, req.Cutoff); err != nil {
			return nil, err
		}
	}
	return transforms.Compute(ctx, s.st, req)
}

// Tile is one KPI of the dashboard's headline.
type Tile struct {
	KPI, Label, Display, Previous, Change, Movement, Target, Status string
	Value, PrevValue                                                *float64
	Numerator                                                       int64
	Denominator                                                     *int64
	Immature                                                        bool
	Link                                                            string
}

type dashView struct {
	Week, PrevWeek, Period, AsOf, AsOfLocal, Status, Timezone string
	Weeks                                                     []string
	Tiles                                                     []Tile
	Charts                                                    []chartView
	Queues                                                    []reports.QueueRow
	Findings                                                  []findingView
	Quality                                                   reports.DataQuality
	Live                                                      liveView
	Empty                                                     string
	PackWeek                                                  string
	Workflows                                                 workflowsView
}

type findingView struct {
	Label, Explain string
	Count, Of      int64
	Items          []findingItem
	More           int
}

type findingItem struct {
	TS, CaseID, CaseLink, Message, Detail string
}

type liveView struct {
	LagBytes, LagEvents, Acknowledged int64
	DrainError                        string
}

func (s *Server) liveView() liveView {
	b, n := s.spool.Lag()
	lv := liveView{LagBytes: b, LagEvents: n, Acknowledged: s.spool.Acknowledged()}
	if p := s.drainErr.Load(); p != nil {
		lv.DrainError = *p
	}
	return lv
}

func (s *Server) dashboardPage(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	week := r.URL.Query().Get("week")
	if week != "" {
		if _, _, err := reports.ParseWeek(week, s.loc); err != nil {
			s.renderError(w, r, p, http.StatusBadRequest, err.Error())
			return
		}
	}
	pk, week, asof, err := s.dash.pack(r.Context(), week)
	v := dashView{Week: week, Live: s.liveView(), Timezone: s.loc.String()}
	if errors.Is(err, errNoEvents) {
		v.Empty = "No events yet: webhooks and `closedloop ingest` fill the store; the figures appear with the first events."
		s.render(w, r, http.StatusOK, "dashboard", pageData{Title: "Dashboard", Data: v})
		return
	}
	if err != nil {
		s.serverError(w, r, "building the dashboard", err)
		return
	}
	v.Period, v.AsOf, v.AsOfLocal, v.Status, v.Weeks = pk.Period, asofAttr(asof), pk.AsOfLocal, pk.Status, pk.Weeks
	if len(pk.Weeks) >= 2 {
		v.PrevWeek = pk.Weeks[len(pk.Weeks)-2]
	}
	kinds := map[string]transforms.Kind{}
	for _, h := range pk.Headline {
		kinds[h.KPI] = transforms.Kind(h.Kind)
		v.Tiles = append(v.Tiles, Tile{KPI: h.KPI, Label: h.Label, Display: h.Display,
			Previous: reports.Display(transforms.Kind(h.Kind), h.Previous), Change: h.Change, Movement: h.Movement,
			Target: h.Target, Status: h.Status, Value: h.Value, PrevValue: h.Previous, Numerator: h.Numerator,
			Denominator: h.Denominator, Immature: h.Immature,
			Link: "/kpi/" + h.KPI + "?week=" + week})
	}
	v.Queues = pk.Queues
	v.Quality = pk.Quality
	for _, f := range pk.Findings {
		fv := findingView{Label: f.Label, Explain: f.Explain, Count: f.Count, Of: f.Of}
		for i, it := range f.Items {
			if i == 20 {
				fv.More = len(f.Items) - i
				break
			}
			msg := it.Message
			if !p.FullPseudonyms() {
				msg = maskID(msg)
			}
			fv.Items = append(fv.Items, findingItem{TS: it.TS, CaseID: it.CaseID, CaseLink: caseLink(it.CaseID), Message: msg, Detail: it.Detail})
		}
		v.Findings = append(v.Findings, fv)
	}
	v.Workflows = newWorkflowsView(pk, p)
	v.Charts = dashboardCharts(pk, kinds)
	v.PackWeek = reports.LastFullWeek(asof, s.loc)
	s.render(w, r, http.StatusOK, "dashboard", pageData{Title: "Dashboard " + week, Data: v})
}

func caseLink(id string) string {
	if id == "" {
		return ""
	}
	return "/case/" + urlPathEscape(id)
}

// kpiView is the drill-down page of one figure.
type kpiView struct {
	KPI, Label, Definition, Week, Period, AsOf, Display, Target, Unit string
	Version                                                           int
	Value                                                             *float64
	Numerator                                                         int64
	Denominator                                                       *int64
	NumCases, OtherCases                                              []caseRef
	NumCaseCount, DenCaseCount, OtherCount                            int
	MoreNum, MoreOther                                                int
	Breakdown                                                         []transforms.Count
	Immature                                                          bool
}

type caseRef struct{ ID, Link string }

const drillCap = 500

func (s *Server) kpiPage(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	name := r.PathValue("name")
	week := r.URL.Query().Get("week")
	if week != "" {
		if _, _, err := reports.ParseWeek(week, s.loc); err != nil {
			s.renderError(w, r, p, http.StatusBadRequest, err.Error())
			return
		}
	}
	pk, week, asof, err := s.dash.pack(r.Context(), week)
	if errors.Is(err, errNoEvents) {
		s.renderError(w, r, p, http.StatusNotFound, "The store holds no events yet.")
		return
	}
	if err != nil {
		s.serverError(w, r, "building the figures", err)
		return
	}
	from, to, _ := reports.ParseWeek(week, s.loc)
	var figs []transforms.Figure
	err = s.WithWriteLock(func() error {
		var err error
		figs, err = s.figuresAt(r.Context(), transforms.Request{From: from, To: to, Cutoff: asof, Loc: s.loc, Only: []string{name}})
		return err
	})
	if err != nil {
		s.serverError(w, r, "computing "+name, err)
		return
	}
	var f *transforms.Figure
	for i := range figs {
		if figs[i].KPI == name && figs[i].Group == "" {
			f = &figs[i]
		}
	}
	if f == nil {
		s.renderError(w, r, p, http.StatusNotFound, fmt.Sprintf("There is no KPI %q.", name))
		return
	}
	v := kpiView{KPI: f.KPI, Label: reports.Label(f.KPI), Definition: f.Definition, Week: week, Period: pk.Period,
		AsOf: asofAttr(asof), Display: reports.Display(f.Kind, f.Value), Target: reports.TargetText(f.Kind, f.KPI),
		Unit: f.Unit, Version: f.Version, Value: f.Value, Numerator: f.Numerator, Denominator: f.Denominator,
		Breakdown: f.Breakdown, Immature: f.Immature, NumCaseCount: len(f.NumeratorCases), DenCaseCount: len(f.DenominatorCases)}
	inNum := map[string]bool{}
	for i, c := range f.NumeratorCases {
		inNum[c] = true
		if i < drillCap {
			v.NumCases = append(v.NumCases, caseRef{ID: c, Link: caseLink(c)})
		} else {
			v.MoreNum++
		}
	}
	for _, c := range f.DenominatorCases {
		if inNum[c] {
			continue
		}
		v.OtherCount++
		if len(v.OtherCases) < drillCap {
			v.OtherCases = append(v.OtherCases, caseRef{ID: c, Link: caseLink(c)})
		} else {
			v.MoreOther++
		}
	}
	s.render(w, r, http.StatusOK, "kpi", pageData{Title: v.Label + " " + week, Data: v})
}

// packFiles returns the directory of the latest full week's pack,
// generating it into the cache when the figures moved on.
func (s *Server) packFiles(ctx context.Context) (reports.Files, *reports.Pack, error) {
	s.writeMu.Lock()
	asof, err := s.cutoffLocked(ctx)
	s.writeMu.Unlock()
	if err != nil {
		return reports.Files{}, nil, err
	}
	week := reports.LastFullWeek(asof, s.loc)
	pk, _, asof, err := s.dash.pack(ctx, week)
	if err != nil {
		return reports.Files{}, nil, err
	}
	dir := filepath.Join(s.opt.PackDir, fmt.Sprintf("%s-%d", week, asof.UnixMilli()))
	html := filepath.Join(dir, "pack.html")
	if _, err := os.Stat(html); err == nil {
		return reports.Files{Dir: dir, HTML: "pack.html", Figures: "figures.csv"}, pk, nil
	}
	if err := os.MkdirAll(s.opt.PackDir, 0o750); err != nil {
		return reports.Files{}, nil, err
	}
	tmp, err := os.MkdirTemp(s.opt.PackDir, ".pack-*.tmp")
	if err != nil {
		return reports.Files{}, nil, err
	}
	defer os.RemoveAll(tmp)
	files, err := reports.Write(tmp, pk)
	if err != nil {
		return files, nil, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(html); serr != nil {
			return files, nil, err
		}
	}
	// Older generations of the cache are of no use any more.
	if old, _ := filepath.Glob(filepath.Join(s.opt.PackDir, "*-*")); len(old) > 0 {
		for _, o := range old {
			if o != dir && !strings.HasSuffix(o, ".tmp") {
				os.RemoveAll(o)
			}
		}
	}
	files.Dir = dir
	return files, pk, nil
}
