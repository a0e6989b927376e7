package reports

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/closedloop/closedloop/store"
	"github.com/closedloop/closedloop/transforms"
)

// querier runs the pack's own queries on the facts and raw tables. Every
// KPI-derived list runs the KPI's own SQL, so a list never disagrees with
// its figure.
type querier struct {
	st   store.Store
	ctx  context.Context
	asof time.Time
	defs []transforms.Definition
}

func (q *querier) def(name string) (transforms.Definition, error) {
	for _, d := range q.defs {
		if d.Name == name {
			return d, nil
		}
	}
	return transforms.Definition{}, fmt.Errorf("KPI %s is not in the catalogue", name)
}

func (q *querier) rows(what, query string, args ...any) (*sql.Rows, error) {
	rs, err := q.st.DB().QueryContext(q.ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("pack: reading %s: %w", what, err)
	}
	return rs, nil
}

// reasonCounts scans (key, count) rows.
func reasonCounts(what string, rs *sql.Rows) ([]Reason, error) {
	defer rs.Close()
	var out []Reason
	for rs.Next() {
		var r Reason
		if err := rs.Scan(&r.Key, &r.Count); err != nil {
			return nil, fmt.Errorf("pack: reading %s: %w", what, err)
		}
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("pack: reading %s: %w", what, err)
	}
	return out, nil
}

// handoverReasons counts the first handover reason of bot-handled cases
// opened in [from, to) that were handed over (agent_handover_rate's units).
func (q *querier) handoverReasons(from, to time.Time) ([]Reason, error) {
	d, err := q.def("agent_handover_rate")
	if err != nil {
		return nil, err
	}
	rs, err := q.rows("handover reasons", `SELECT coalesce(CAST(detail AS VARCHAR), 'no_reason') AS k, count(*) AS n
		FROM (`+d.SQL+`) u WHERE num GROUP BY 1 ORDER BY 2 DESC, 1`, from.UTC(), to.UTC(), q.asof)
	if err != nil {
		return nil, err
	}
	return reasonCounts("handover reasons", rs)
}

// findingItems lists the numerator units of a governance KPI.
func (q *querier) findingItems(kpi string, from, to time.Time) ([]FindingItem, error) {
	d, err := q.def(kpi)
	if err != nil {
		return nil, err
	}
	rs, err := q.rows(kpi, `SELECT period_ts, coalesce(case_id, ''), unit_id, coalesce(CAST(detail AS VARCHAR), '')
		FROM (`+d.SQL+`) u WHERE num ORDER BY period_ts, unit_id`, from.UTC(), to.UTC(), q.asof)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := []FindingItem{}
	for rs.Next() {
		var it FindingItem
		var ts time.Time
		if err := rs.Scan(&ts, &it.CaseID, &it.Message, &it.Detail); err != nil {
			return nil, fmt.Errorf("pack: reading %s: %w", kpi, err)
		}
		it.TS = ts.UTC().Format("2006-01-02T15:04:05Z")
		out = append(out, it)
	}
	return out, rs.Err()
}

// errorTitles maps each error code to its most frequent title in the
// statuses Meta sent.
func (q *querier) errorTitles() (map[string]string, error) {
	rs, err := q.rows("error titles", `SELECT error_code, error_title, count(*) AS n FROM message_statuses
		WHERE status = 'failed' AND error_code IS NOT NULL AND error_title IS NOT NULL AND error_title <> ''
		GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2`)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := map[string]string{}
	for rs.Next() {
		var code, title string
		var n int64
		if err := rs.Scan(&code, &title, &n); err != nil {
			return nil, err
		}
		if _, ok := out[code]; !ok {
			out[code] = title
		}
	}
	return out, rs.Err()
}

// writebacks summarises writebacks first attempted in [from, to) by target
// system, as of the cutoff.
func (q *querier) writebacks(from, to time.Time) ([]Writeback, error) {
	rs, err := q.rows("writebacks", `SELECT coalesce(target_system, '(none)') AS s, count(*),
			count(*) FILTER (WHERE succeeded), count(*) FILTER (WHERE NOT succeeded),
			count(*) FILTER (WHERE attempts > 1), coalesce(sum(attempts), 0), count(*) FILTER (WHERE manual)
		FROM fact_writebacks WHERE first_attempt_at >= $1 AND first_attempt_at < $2
		GROUP BY 1 ORDER BY 1`, from.UTC(), to.UTC())
	if err != nil {
		return nil, err
	}
	var out []Writeback
	for rs.Next() {
		var w Writeback
		if err := rs.Scan(&w.System, &w.Total, &w.Succeeded, &w.Failed, &w.Retried, &w.Attempts, &w.Manual); err != nil {
			rs.Close()
			return nil, fmt.Errorf("pack: reading writebacks: %w", err)
		}
		out = append(out, w)
	}
	rs.Close()
	rs, err = q.rows("writeback errors", `SELECT coalesce(target_system, '(none)'), last_error, count(*) AS n
		FROM fact_writebacks WHERE first_attempt_at >= $1 AND first_attempt_at < $2 AND last_error IS NOT NULL
		GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2`, from.UTC(), to.UTC())
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	for rs.Next() {
		var sys, e string
		var n int64
		if err := rs.Scan(&sys, &e, &n); err != nil {
			return nil, err
		}
		for i := range out {
			if out[i].System == sys && out[i].TopError == "" {
				out[i].TopError = fmt.Sprintf("%s (%d)", e, n)
			}
		}
	}
	return out, rs.Err()
}

// writebackErrors counts the last error of writebacks first attempted in
// [from, to).
func (q *querier) writebackErrors(from, to time.Time) ([]Reason, error) {
	rs, err := q.rows("writeback errors", `SELECT last_error, count(*) FROM fact_writebacks
		WHERE first_attempt_at >= $1 AND first_attempt_at < $2 AND last_error IS NOT NULL
		GROUP BY 1 ORDER BY 2 DESC, 1`, from.UTC(), to.UTC())
	if err != nil {
		return nil, err
	}
	return reasonCounts("writeback errors", rs)
}

// eventTables are the raw tables of operational events, the ones sources
// send. The audit log is not among them: it also holds closedloop's own
// records (an ingest run is logged when it happens), which say nothing
// about a source's freshness.
var eventTables = []string{"messages", "message_statuses", "case_events", "writebacks", "consent_events",
	"template_events", "actions"}

// cutoffTables are the tables the default as-of (the newest event) is
// taken from; events newer than the as-of are looked for in them.
var cutoffTables = []string{"messages", "message_statuses", "case_events", "writebacks", "actions"}

func allEvents(cols string) string { return unionOf(eventTables, cols) }

func unionOf(tables []string, cols string) string {
	parts := make([]string, len(tables))
	for i, t := range tables {
		parts[i] = "SELECT " + cols + ", '" + t + "' AS tbl FROM " + t
	}
	return strings.Join(parts, " UNION ALL ")
}

// futureEvents counts events newer than the cutoff, by table.
func (q *querier) futureEvents() ([]Reason, error) {
	rs, err := q.rows("events after the cutoff", `SELECT tbl, count(*) FROM (`+unionOf(cutoffTables, "ts")+`) e
		WHERE ts > $1 GROUP BY 1 ORDER BY 1`, q.asof)
	if err != nil {
		return nil, err
	}
	return reasonCounts("events after the cutoff", rs)
}

var indexRe = regexp.MustCompile(`\[\d+\]`)

// reasonPrefix groups reject reasons: the first two ": "-separated parts
// of the reason (after a leading part naming the source itself), with array
// indices taken out, so "entry[0]…" and "entry[3]…" count together.
func reasonPrefix(source, reason string) string {
	parts := strings.Split(reason, ": ")
	if len(parts) > 1 && parts[0] == source {
		parts = parts[1:]
	}
	if len(parts) > 2 {
		parts = parts[:2]
	}
	p := indexRe.ReplaceAllString(strings.Join(parts, ": "), "[]")
	if r := []rune(p); len(r) > 90 {
		p = string(r[:87]) + "…"
	}
	return strings.TrimSpace(p)
}

// dataQuality fills rejects and the week's linkage problems (the
// freshness and the gates are gathered with the gates' inputs).
func (q *querier) dataQuality(from, to time.Time) (DataQuality, error) {
	var dq DataQuality
	rs, err := q.rows("rejects", `SELECT source, reason, count(*) FROM rejects GROUP BY 1, 2 ORDER BY 1, 2`)
	if err != nil {
		return dq, err
	}
	bySource, byPrefix := map[string]int64{}, map[string]int64{}
	for rs.Next() {
		var src, reason string
		var n int64
		if err := rs.Scan(&src, &reason, &n); err != nil {
			rs.Close()
			return dq, err
		}
		dq.RejectsTotal += n
		bySource[src] += n
		byPrefix[src+": "+reasonPrefix(src, reason)] += n
	}
	rs.Close()
	dq.RejectsBySource = sortedCounts(bySource, 0)
	dq.RejectsByReason = sortedCounts(byPrefix, 15)

	err = q.st.DB().QueryRowContext(q.ctx, `SELECT count(DISTINCT s.message_id) FROM message_statuses s
		WHERE s.ts >= $1 AND s.ts < $2 AND s.ts <= $3
		  AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.message_id = s.message_id)`,
		from.UTC(), to.UTC(), q.asof).Scan(&dq.OrphanStatuses)
	if err != nil {
		return dq, fmt.Errorf("pack: counting orphan statuses: %w", err)
	}
	err = q.st.DB().QueryRowContext(q.ctx, `SELECT count(*) FROM fact_cases
		WHERE opened_inferred AND opened_at >= $1 AND opened_at < $2`, from.UTC(), to.UTC()).Scan(&dq.InferredOpens)
	if err != nil {
		return dq, fmt.Errorf("pack: counting inferred opens: %w", err)
	}
	return dq, nil
}

// freshness is each source's newest event and its events in [from, to),
// for the sources seen since trendFrom and those opt expects.
func (q *querier) freshness(from, to, trendFrom time.Time, opt Options) ([]Freshness, error) {
	var out []Freshness
	rs, err := q.rows("freshness", `SELECT source, max(ts) FILTER (WHERE ts <= $1),
			count(*) FILTER (WHERE ts >= $2 AND ts < $3 AND ts <= $1),
			count(*) FILTER (WHERE ts >= $4 AND ts < $3 AND ts <= $1)
		FROM (`+allEvents("source, ts")+`) e GROUP BY 1 ORDER BY 1`, q.asof, from.UTC(), to.UTC(), trendFrom.UTC())
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for rs.Next() {
		var src string
		var newest sql.NullTime
		var week, window int64
		if err := rs.Scan(&src, &newest, &week, &window); err != nil {
			rs.Close()
			return nil, err
		}
		if window == 0 && !contains(opt.Sources, src) {
			continue // a source retired before the trend window
		}
		seen[src] = true
		out = append(out, freshness(src, newest, week, q.asof, opt.FreshnessLimit(src)))
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("pack: reading freshness: %w", err)
	}
	for _, src := range opt.Sources {
		if !seen[src] {
			out = append(out, freshness(src, sql.NullTime{}, 0, q.asof, opt.FreshnessLimit(src)))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Source < out[j].Source })
	return out, nil
}

func freshness(src string, newest sql.NullTime, week int64, asof time.Time, limit time.Duration) Freshness {
	f := Freshness{Source: src, WeekCount: week, Limit: duration(limit.Seconds())}
	if !newest.Valid {
		f.Newest, f.Age, f.Stale = "never", "—", true
		return f
	}
	age := asof.Sub(newest.Time.UTC())
	f.Newest = newest.Time.UTC().Format("2006-01-02T15:04:05Z")
	f.AgeSecs = int64(age / time.Second)
	f.Age = duration(age.Seconds())
	f.Stale = age > limit
	return f
}

func sortedCounts(m map[string]int64, limit int) []Reason {
	out := make([]Reason, 0, len(m))
	for k, v := range m {
		out = append(out, Reason{Key: k, Count: v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Key < out[j].Key
	})
	if limit > 0 && len(out) > limit {
		var rest int64
		for _, r := range out[limit:] {
			rest += r.Count
		}
		out = append(out[:limit], Reason{Key: "(other reasons)", Count: rest})
	}
	return out
}
