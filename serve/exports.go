package serve

import (
	"archive/zip"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/closedloop/closedloop/audit"
	"github.com/closedloop/closedloop/store"
)

// packDownload serves the latest full week's pack: pack.html, or the whole
// pack directory as a zip (?format=zip). Every download is audited.
func (s *Server) packDownload(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	asZip := r.URL.Query().Get("format") == "zip"
	files, pk, err := s.packFiles(r.Context())
	if errors.Is(err, errNoEvents) {
		s.renderError(w, r, p, http.StatusNotFound, "The store holds no events yet, so there is no pack.")
		return
	}
	if err != nil {
		s.serverError(w, r, "generating the pack", err)
		return
	}
	name := "closedloop-pack-" + pk.Week
	format := "html"
	if asZip {
		format = "zip"
	}
	if err := audit.Append(r.Context(), s.locked, p.Actor, p.Role, "pack.download", "pack", pk.Week,
		map[string]any{"week": pk.Week, "as_of": pk.AsOf, "status": pk.Status, "format": format}); err != nil {
		s.serverError(w, r, "recording the download in the audit log", err)
		return
	}
	if !asZip {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.html"`)
		http.ServeFile(w, r, filepath.Join(files.Dir, files.HTML))
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.zip"`)
	if err := zipDir(w, files.Dir, name); err != nil {
		s.logf("streaming the pack zip: %v", err)
	}
}

// zipDir writes every file under dir into a zip, under prefix/.
func zipDir(w io.Writer, dir, prefix string) error {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			paths = append(paths, p)
		}
		return err
	})
	if err != nil {
		return err
	}
	sort.Strings(paths)
	zw := zip.NewWriter(w)
	for _, p := range paths {
		rel, _ := filepath.Rel(dir, p)
		f, err := zw.Create(prefix + "/" + filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if _, err := f.Write(b); err != nil {
			return err
		}
	}
	return zw.Close()
}

type evidenceView struct {
	From, To, CaseID, Error string
	Enabled                 bool
}

func (s *Server) evidenceForm(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if !s.requireEvidenceRole(w, r, p) {
		return
	}
	v := evidenceView{Enabled: s.opt.SigningKey != nil, CaseID: r.URL.Query().Get("case")}
	now := time.Now().In(s.loc)
	monday := now.AddDate(0, 0, -((int(now.Weekday())+6)%7)-7)
	v.From = monday.Format(time.DateOnly)
	v.To = monday.AddDate(0, 0, 7).Format(time.DateOnly)
	s.render(w, r, http.StatusOK, "evidence", pageData{Title: "Evidence bundle", Data: v})
}

// evidenceExport streams a signed evidence bundle (audit.Export records the
// export in the audit log itself).
func (s *Server) evidenceExport(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if !s.requireEvidenceRole(w, r, p) {
		return
	}
	if s.opt.SigningKey == nil {
		s.renderError(w, r, p, http.StatusServiceUnavailable, "Evidence export is not set up on this server (no signing key).")
		return
	}
	if s.cfg.PII.KeepRaw {
		s.renderError(w, r, p, http.StatusConflict, "This store keeps raw customer identifiers (pii.keep_raw), so bundles need --reveal: use `closedloop evidence` with a role in evidence.reveal_roles.")
		return
	}
	var scope audit.Scope
	var name string
	if c := strings.TrimSpace(r.PostFormValue("case")); c != "" {
		scope = audit.Scope{Kind: audit.ScopeCase, CaseID: c}
		name = "evidence-case-" + safeFileName(c)
	} else {
		fromS, toS := r.PostFormValue("from"), r.PostFormValue("to")
		from, err1 := time.ParseInLocation(time.DateOnly, fromS, s.loc)
		to, err2 := time.ParseInLocation(time.DateOnly, toS, s.loc)
		if err1 != nil || err2 != nil || !to.After(from) {
			s.renderError(w, r, p, http.StatusBadRequest, "Give a case id, or a period: from and to as YYYY-MM-DD with to after from (to is the day after the period).")
			return
		}
		scope = audit.PeriodScope(from, to)
		scope.FromDate, scope.ToDate, scope.Timezone = fromS, toS, s.loc.String()
		name = "evidence-" + fromS + "-" + toS
	}
	name += ".zip"
	lw := &lazyWriter{w: w, header: func(h http.Header) {
		h.Set("Content-Type", "application/zip")
		h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	}}
	var figs audit.FigureSource
	if s.opt.Figures != nil {
		figs = lockedFigures{s: s, inner: s.opt.Figures}
	}
	_, err := audit.Export(r.Context(), s.locked, lw, audit.ExportOptions{Scope: scope, Key: s.opt.SigningKey, Figures: figs,
		Actor: p.Actor, Role: p.Role, Output: name, TempDir: os.TempDir()})
	if err != nil {
		if lw.started {
			s.logf("streaming evidence bundle %s: %v", name, err)
			return
		}
		code := http.StatusInternalServerError
		if strings.Contains(err.Error(), "not in the store") {
			code = http.StatusNotFound
		}
		s.renderError(w, r, p, code, "The bundle could not be made: "+err.Error())
	}
}

// lockedFigures computes a bundle's KPI figures under the write lock (the
// facts may need rebuilding) on the store itself.
type lockedFigures struct {
	s     *Server
	inner audit.FigureSource
}

func (f lockedFigures) Figures(ctx context.Context, _ store.Store, from, to time.Time) ([]audit.Figure, error) {
	f.s.writeMu.Lock()
	defer f.s.writeMu.Unlock()
	return f.inner.Figures(ctx, f.s.st, from, to)
}

// lazyWriter sets the download headers on the first byte, so that a
// failure before it can still answer with an error page.
type lazyWriter struct {
	w       http.ResponseWriter
	header  func(http.Header)
	started bool
}

func (l *lazyWriter) Write(b []byte) (int, error) {
	if !l.started {
		l.started = true
		l.header(l.w.Header())
		l.w.WriteHeader(http.StatusOK)
	}
	return l.w.Write(b)
}

func safeFileName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}
