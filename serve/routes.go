package serve

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/closedloop/closedloop/config"
	"github.com/closedloop/closedloop/dashboards"
	"github.com/closedloop/closedloop/reports"
)

func (s *Server) routes() {
	m := http.NewServeMux()
	// Webhooks: their own signature or token checks.
	m.HandleFunc("GET /webhooks/whatsapp", s.whatsappVerify)
	m.HandleFunc("POST /webhooks/whatsapp", s.whatsappEvent)
	m.HandleFunc("POST /webhooks/chatwoot", s.chatwootEvent)
	m.HandleFunc("POST /webhooks/twilio", s.twilioEvent)
	m.HandleFunc("POST /webhooks/sendgrid", s.sendgridEvent)
	// Operations: no authentication.
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	m.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := s.ready(r.Context()); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "not ready:", err)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	m.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	// Login.
	m.HandleFunc("GET /login", s.secure(s.loginForm))
	m.HandleFunc("POST /login", s.secure(s.login))
	// Everything else needs a token or a session.
	viewer := config.RoleViewer
	m.HandleFunc("POST /logout", s.secure(s.authed("logout", viewer, s.logout)))
	m.HandleFunc("GET /{$}", s.secure(s.authed("dashboard", viewer, s.dashboardPage)))
	m.HandleFunc("GET /kpi/{name}", s.secure(s.authed("kpi", viewer, s.kpiPage)))
	m.HandleFunc("GET /case/{id}", s.secure(s.authed("case", viewer, s.casePage)))
	m.HandleFunc("GET /pack/latest", s.secure(s.authed("pack", viewer, s.packDownload)))
	m.HandleFunc("GET /evidence", s.secure(s.authed("evidence", config.RoleCompliance, s.evidenceForm)))
	m.HandleFunc("POST /evidence", s.secure(s.authed("evidence", config.RoleCompliance, s.evidenceExport)))
	m.HandleFunc("GET /assets/{file}", s.secure(s.authed("assets", viewer, s.asset)))
	m.HandleFunc("/", s.secure(s.authed("other", viewer, func(w http.ResponseWriter, r *http.Request) {
		s.renderError(w, r, principalOf(r), http.StatusNotFound, "There is no page "+r.URL.Path+".")
	})))
	s.mux = m
}

// secure sets the headers every HTML response carries: no framing, no
// sniffing, and a policy that allows only this server's own scripts.
func (s *Server) secure(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cache-Control", "no-store")
		h(w, r)
	}
}

var startTime = time.Now()

// asset serves the embedded stylesheet and scripts (echarts included).
func (s *Server) asset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	var b []byte
	var err error
	if name == "echarts.min.js" {
		b = reports.EChartsJS()
		if b == nil {
			err = fs.ErrNotExist
		}
	} else {
		b, err = fs.ReadFile(dashboards.Assets, "assets/"+name)
	}
	if err != nil {
		http.NotFound(w, r)
		return
	}
	switch {
	case strings.HasSuffix(name, ".js"):
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case strings.HasSuffix(name, ".css"):
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	}
	w.Header().Set("Cache-Control", "private, max-age=3600")
	http.ServeContent(w, r, name, startTime, bytes.NewReader(b))
}

// pageData is what every page template receives.
type pageData struct {
	Title  string
	User   Principal
	Authed bool
	Charts bool // the page loads echarts
	Data   any
}

var funcs = template.FuncMap{
	"deref": func(p *int64) int64 {
		if p == nil {
			return 0
		}
		return *p
	},
	"hasden": func(p *int64) bool { return p != nil },
	"rawvalue": func(p *float64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p, 'g', -1, 64)
	},
	"bytes": func(n int64) string {
		switch {
		case n >= 1<<20:
			return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
		case n >= 1<<10:
			return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
		}
		return fmt.Sprintf("%d B", n)
	},
	"pct": func(p *float64) string {
		if p == nil {
			return "—"
		}
		return strconv.FormatFloat(*p*100, 'f', 1, 64) + "%"
	},
	"secs": func(p *float64) string {
		if p == nil {
			return "—"
		}
		return reports.Duration(*p)
	},
}

// pages are parsed once: each page template with the layout.
var pages = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range []string{"dashboard", "kpi", "case", "login", "evidence", "error"} {
		out[name] = template.Must(template.New("layout.tmpl").Funcs(funcs).ParseFS(dashboards.Templates,
			"templates/layout.tmpl", "templates/"+name+".tmpl"))
	}
	return out
}()

func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, name string, d pageData) {
	if p, ok := r.Context().Value(principalKey{}).(Principal); ok {
		d.User, d.Authed = p, true
	}
	d.Charts = name == "dashboard"
	var buf bytes.Buffer
	if err := pages[name].Execute(&buf, d); err != nil {
		s.logf("rendering %s: %v", name, err)
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

type errorView struct {
	Code    int
	Status  string
	Message string
}

func (s *Server) renderError(w http.ResponseWriter, r *http.Request, p Principal, code int, msg string) {
	if !strings.Contains(r.Header.Get("Accept"), "text/html") {
		http.Error(w, msg, code)
		return
	}
	if p.Role != "" {
		r = r.WithContext(contextWithPrincipal(r, p))
	}
	s.render(w, r, code, "error", pageData{Title: http.StatusText(code), Data: errorView{Code: code, Status: http.StatusText(code), Message: msg}})
}

func (s *Server) serverError(w http.ResponseWriter, r *http.Request, what string, err error) {
	s.logf("%s: %v", what, err)
	s.renderError(w, r, principalOf(r), http.StatusInternalServerError, what+" failed: "+err.Error())
}
