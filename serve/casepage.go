package serve

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/closedloop/closedloop/audit"
)

func urlPathEscape(s string) string { return url.PathEscape(s) }

// TimelineRow is one event of a case's timeline.
type TimelineRow struct {
	TS     time.Time
	When   string
	Kind   string // message, status, case, writeback, action, audit
	What   string
	Detail string
	Source string
}

type caseView struct {
	ID                          string
	Customers                   []string
	Queue, Category, Workflow   string
	Opened, LastEvent           string
	Rows                        []TimelineRow
	Messages, Statuses, Events  int
	Writebacks, Actions, Audits int
	Masked                      bool
}

// pseudonymRe finds customer pseudonyms in free text (audit details).
var pseudonymRe = regexp.MustCompile(`c_[0-9a-f]{32}`)

func (s *Server) casePage(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	id := r.PathValue("id")
	if id == "" || len(id) > 200 {
		s.renderError(w, r, p, http.StatusNotFound, "No such case.")
		return
	}
	v, found, err := s.caseTimeline(r.Context(), id)
	if err != nil {
		s.serverError(w, r, "reading case "+id, err)
		return
	}
	if !found {
		s.renderError(w, r, p, http.StatusNotFound, fmt.Sprintf("Case %q is not in the store.", id))
		return
	}
	// The view is recorded before anything of the case is shown.
	if err := audit.Append(r.Context(), s.locked, p.Actor, p.Role, "case.view", "case", id,
		map[string]any{"path": r.URL.Path, "masked": !p.FullPseudonyms()}); err != nil {
		s.serverError(w, r, "recording the case view in the audit log", err)
		return
	}
	if !p.FullPseudonyms() {
		v.mask()
	}
	s.render(w, r, http.StatusOK, "case", pageData{Title: "Case " + id, Data: v})
}

// mask hides customer pseudonyms and message ids for the viewer role.
func (v *caseView) mask() {
	v.Masked = true
	repl := map[string]string{}
	for i, c := range v.Customers {
		repl[c] = maskID(c)
		v.Customers[i] = maskID(c)
	}
	for i := range v.Rows {
		row := &v.Rows[i]
		for orig, m := range repl {
			row.What = strings.ReplaceAll(row.What, orig, m)
			row.Detail = strings.ReplaceAll(row.Detail, orig, m)
		}
		row.Detail = pseudonymRe.ReplaceAllStringFunc(row.Detail, maskID)
		row.What = maskWamids(row.What)
		row.Detail = maskWamids(row.Detail)
	}
}

var wamidRe = regexp.MustCompile(`wamid\.[A-Za-z0-9_=+/.-]+`)

// maskWamids shortens WhatsApp message ids (they encode the phone number).
func maskWamids(s string) string {
	return wamidRe.ReplaceAllStringFunc(s, func(m string) string { return "wamid…" + m[max(len(m)-6, 6):] })
}

type rowScanner interface {
	Next() bool
	Scan(...any) error
	Err() error
	Close() error
}

// caseTimeline reads everything the store knows about a case.
func (s *Server) caseTimeline(ctx context.Context, id string) (caseView, bool, error) {
	db := s.st.DB()
	v := caseView{ID: id}
	customers := map[string]bool{}
	add := func(row TimelineRow) {
		row.When = row.TS.In(s.loc).Format("2006-01-02 15:04:05 MST")
		v.Rows = append(v.Rows, row)
	}
	query := func(q string, args []any, each func(rs *sql.Rows) error) error {
		rs, err := db.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			if err := each(rs); err != nil {
				return err
			}
		}
		return rs.Err()
	}

	// Case events.
	err := query(`SELECT event, ts, coalesce(customer_id,''), coalesce(queue,''), coalesce(category,''), coalesce(workflow,''),
		coalesce(actor,''), coalesce(reason,''), coalesce(closure_tag,''), source FROM case_events WHERE case_id = ? ORDER BY ts, event_id`,
		[]any{id}, func(rs *sql.Rows) error {
			var ev, cust, queue, cat, wf, actor, reason, tag, src string
			var ts time.Time
			if err := rs.Scan(&ev, &ts, &cust, &queue, &cat, &wf, &actor, &reason, &tag, &src); err != nil {
				return err
			}
			if cust != "" {
				customers[cust] = true
			}
			if queue != "" {
				v.Queue = queue
			}
			if cat != "" {
				v.Category = cat
			}
			if wf != "" {
				v.Workflow = wf
			}
			if ev == "opened" && v.Opened == "" {
				v.Opened = ts.In(s.loc).Format("2006-01-02 15:04 MST")
			}
			var det []string
			for _, kv := range [][2]string{{"queue", queue}, {"actor", actor}, {"reason", reason}, {"closure tag", tag}} {
				if kv[1] != "" {
					det = append(det, kv[0]+": "+kv[1])
				}
			}
			v.Events++
			add(TimelineRow{TS: ts, Kind: "case", What: "case " + ev, Detail: strings.Join(det, " · "), Source: src})
			return nil
		})
	if err != nil {
		return v, false, fmt.Errorf("case events: %w", err)
	}

	// Messages: those naming the case, and those the facts linked to it.
	msgQuery := `SELECT message_id, coalesce(customer_id,''), direction, sender_type, kind, coalesce(template_name,''), ts, source
		FROM messages WHERE case_id = ? OR message_id IN (SELECT message_id FROM fact_messages WHERE case_id = ?) ORDER BY ts, event_id`
	args := []any{id, id}
	if !s.tableExists(ctx, "fact_messages") {
		msgQuery = `SELECT message_id, coalesce(customer_id,''), direction, sender_type, kind, coalesce(template_name,''), ts, source
			FROM messages WHERE case_id = ? ORDER BY ts, event_id`
		args = []any{id}
	}
	type msg struct {
		row     TimelineRow
		sources []string
	}
	msgs := map[string]*msg{}
	var order []string
	err = query(msgQuery, args, func(rs *sql.Rows) error {
		var mid, cust, dir, sender, kind, tmpl, src string
		var ts time.Time
		if err := rs.Scan(&mid, &cust, &dir, &sender, &kind, &tmpl, &ts, &src); err != nil {
			return err
		}
		if cust != "" {
			customers[cust] = true
		}
		if m, ok := msgs[mid]; ok {
			if !contains(m.sources, src) {
				m.sources = append(m.sources, src)
			}
			if ts.Before(m.row.TS) {
				m.row.TS = ts
			}
			return nil
		}
		what := fmt.Sprintf("%s %s message (%s)", dir, sender, kind)
		if tmpl != "" {
			what += " template " + tmpl
		}
		msgs[mid] = &msg{row: TimelineRow{TS: ts, Kind: "message", What: what, Detail: mid}, sources: []string{src}}
		order = append(order, mid)
		return nil
	})
	if err != nil {
		return v, false, fmt.Errorf("messages: %w", err)
	}
	for _, mid := range order {
		m := msgs[mid]
		m.row.Source = strings.Join(m.sources, ", ")
		v.Messages++
		add(m.row)
	}

	// Delivery statuses of those messages.
	for i := 0; i < len(order); i += 500 {
		chunk := order[i:min(i+500, len(order))]
		ph := strings.TrimSuffix(strings.Repeat("?,", len(chunk)), ",")
		cargs := make([]any, len(chunk))
		for j, c := range chunk {
			cargs[j] = c
		}
		err = query(`SELECT message_id, status, ts, coalesce(error_code,''), coalesce(error_title,''), source FROM message_statuses
			WHERE message_id IN (`+ph+`) ORDER BY ts, event_id`, cargs, func(rs *sql.Rows) error {
			var mid, st, code, title, src string
			var ts time.Time
			if err := rs.Scan(&mid, &st, &ts, &code, &title, &src); err != nil {
				return err
			}
			det := mid
			if code != "" {
				det += " · error " + code
				if title != "" {
					det += " " + title
				}
			}
			v.Statuses++
			add(TimelineRow{TS: ts, Kind: "status", What: "status " + st, Detail: det, Source: src})
			return nil
		})
		if err != nil {
			return v, false, fmt.Errorf("statuses: %w", err)
		}
	}

	// Writebacks into systems of record.
	err = query(`SELECT coalesce(target_system,''), coalesce(action,''), attempt, status, manual, ts, coalesce(error,''), source
		FROM writebacks WHERE case_id = ? ORDER BY ts, event_id`, []any{id}, func(rs *sql.Rows) error {
		var sys, action, st, errText, src string
		var attempt int
		var manual bool
		var ts time.Time
		if err := rs.Scan(&sys, &action, &attempt, &st, &manual, &ts, &errText, &src); err != nil {
			return err
		}
		what := fmt.Sprintf("writeback %s %s: %s", sys, action, st)
		det := fmt.Sprintf("attempt %d", attempt)
		if manual {
			det += " · manual"
		}
		if errText != "" {
			det += " · " + errText
		}
		v.Writebacks++
		add(TimelineRow{TS: ts, Kind: "writeback", What: what, Detail: det, Source: src})
		return nil
	})
	if err != nil {
		return v, false, fmt.Errorf("writebacks: %w", err)
	}

	// Workflow actions.
	err = query(`SELECT coalesce(workflow,''), coalesce(step,''), coalesce(channel,''), coalesce(customer_id,''), ts, source
		FROM actions WHERE case_id = ? ORDER BY ts, event_id`, []any{id}, func(rs *sql.Rows) error {
		var wf, step, ch, cust, src string
		var ts time.Time
		if err := rs.Scan(&wf, &step, &ch, &cust, &ts, &src); err != nil {
			return err
		}
		if cust != "" {
			customers[cust] = true
		}
		v.Actions++
		add(TimelineRow{TS: ts, Kind: "action", What: "action " + step, Detail: strings.Trim(wf+" · "+ch, " ·"), Source: src})
		return nil
	})
	if err != nil {
		return v, false, fmt.Errorf("actions: %w", err)
	}

	if v.Events+v.Messages+v.Writebacks+v.Actions == 0 {
		return v, false, nil
	}
	for c := range customers {
		v.Customers = append(v.Customers, c)
	}
	sort.Strings(v.Customers)

	// Audit entries naming the case or its customers.
	ids := append([]string{id}, v.Customers...)
	var conds []string
	var aargs []any
	for _, x := range ids {
		q, err := audit.CanonicalJSON(x)
		if err != nil {
			return v, false, err
		}
		conds = append(conds, "object_id = ?", `details LIKE ? ESCAPE '\'`)
		aargs = append(aargs, x, "%"+likeEscape(string(q))+"%")
	}
	err = query(`SELECT ts, coalesce(actor,''), coalesce(actor_role,''), action, coalesce(object_type,''), coalesce(object_id,''),
		coalesce(details,''), audit_id FROM audit_events WHERE `+strings.Join(conds, " OR ")+` ORDER BY ts, audit_id, event_id`,
		aargs, func(rs *sql.Rows) error {
			var ts time.Time
			var actor, role, action, otype, oid, details, aid string
			if err := rs.Scan(&ts, &actor, &role, &action, &otype, &oid, &details, &aid); err != nil {
				return err
			}
			who := actor
			if role != "" {
				who += " (" + role + ")"
			}
			v.Audits++
			add(TimelineRow{TS: ts, Kind: "audit", What: fmt.Sprintf("%s by %s", action, who),
				Detail: strings.TrimSpace(otype + " " + oid + " " + details), Source: aid})
			return nil
		})
	if err != nil {
		return v, false, fmt.Errorf("audit entries: %w", err)
	}
	sort.SliceStable(v.Rows, func(i, j int) bool { return v.Rows[i].TS.Before(v.Rows[j].TS) })
	if n := len(v.Rows); n > 0 {
		v.LastEvent = v.Rows[n-1].When
	}
	return v, true, nil
}

func (s *Server) tableExists(ctx context.Context, name string) bool {
	var n int
	err := s.st.DB().QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_name = ?`, name).Scan(&n)
	return err == nil && n > 0
}

func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
