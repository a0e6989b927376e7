package audit

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/closedloop/closedloop/models"
)

// scopeSQL holds, per event table, the SQL condition selecting the rows
// in scope (README.md, "Scope").
type scopeSQL struct {
	where  map[models.Table]string
	period string // the period condition on ts (period scopes)
}

// resolveScope turns a scope into per-table conditions. Values are written
// as SQL literals (quotes doubled) so the same text serves SELECT and COPY.
//
//   - period: every table, ts in [from, to).
//   - case C: the case's messages, case_events, writebacks and actions; the
//     statuses of its messages; the consent events of its customers; the
//     approval events of the templates its messages used; the audit events
//     whose object_id is the case or one of its customers, or whose details
//     mention one of them as a JSON string.
//   - customer P: the same for every case of P, plus P's messages,
//     statuses and actions outside a case.
func resolveScope(ctx context.Context, db *sql.DB, s Scope) (*scopeSQL, error) {
	sc := &scopeSQL{where: map[models.Table]string{}}
	switch s.Kind {
	case ScopePeriod:
		from, err1 := time.Parse(TimeFormat, s.From)
		to, err2 := time.Parse(TimeFormat, s.To)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("period scope: from %q and to %q must be %s", s.From, s.To, TimeFormat)
		}
		if !from.Before(to) {
			return nil, fmt.Errorf("period scope: from %s is not before to %s", s.From, s.To)
		}
		sc.period = fmt.Sprintf("ts >= %s AND ts < %s", tsLit(from), tsLit(to))
		for _, t := range models.EventTables {
			sc.where[t] = sc.period
		}
		return sc, nil
	case ScopeCase, ScopeCustomer:
	default:
		return nil, fmt.Errorf("unknown scope kind %q", s.Kind)
	}

	var cases, direct, related []string // C, P, Q
	if s.Kind == ScopeCase {
		if s.CaseID == "" {
			return nil, fmt.Errorf("case scope without a case id")
		}
		cases = []string{s.CaseID}
		var err error
		related, err = distinct(ctx, db, "customer_id", "case_id = "+lit(s.CaseID))
		if err != nil {
			return nil, err
		}
		n, err := countAny(ctx, db, "case_id = "+lit(s.CaseID), models.TableCaseEvents, models.TableMessages, models.TableActions, models.TableWritebacks)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, fmt.Errorf("case %q is not in the store (no case events, messages, actions or writebacks name it)", s.CaseID)
		}
	} else {
		if s.CustomerID == "" {
			return nil, fmt.Errorf("customer scope without a customer id")
		}
		direct, related = []string{s.CustomerID}, []string{s.CustomerID}
		var err error
		cases, err = distinct(ctx, db, "case_id", "customer_id = "+lit(s.CustomerID))
		if err != nil {
			return nil, err
		}
		n, err := countAny(ctx, db, "customer_id = "+lit(s.CustomerID), models.TableCaseEvents, models.TableMessages,
			models.TableActions, models.TableConsentEvents, models.TableMessageStatuses)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, fmt.Errorf("customer %q is not in the store (give the pseudonym c_…, or a phone number with the pseudonymisation key available)", s.CustomerID)
		}
	}
	msgs := "(" + inList("case_id", cases) + " OR " + inList("customer_id", direct) + ")"
	sc.where[models.TableMessages] = msgs
	sc.where[models.TableMessageStatuses] = "(message_id IN (SELECT message_id FROM messages WHERE " + msgs + ") OR " + inList("customer_id", direct) + ")"
	sc.where[models.TableCaseEvents] = "(" + inList("case_id", cases) + " OR " + inList("customer_id", direct) + ")"
	sc.where[models.TableWritebacks] = inList("case_id", cases)
	sc.where[models.TableActions] = "(" + inList("case_id", cases) + " OR " + inList("customer_id", direct) + ")"
	sc.where[models.TableConsentEvents] = inList("customer_id", related)
	sc.where[models.TableTemplateEvents] = "template_name IN (SELECT template_name FROM messages WHERE " + msgs + " AND template_name IS NOT NULL)"
	ids := append(append([]string(nil), cases...), related...)
	conds := []string{inList("object_id", ids)}
	for _, id := range ids {
		q, _ := CanonicalJSON(id)
		conds = append(conds, "details LIKE "+lit("%"+likeEscape(string(q))+"%")+` ESCAPE '\'`)
	}
	sc.where[models.TableAuditEvents] = "(" + strings.Join(conds, " OR ") + ")"
	return sc, nil
}

// distinct collects the non-null values of col over the tables that carry
// both case_id and customer_id, under cond.
func distinct(ctx context.Context, db *sql.DB, col, cond string) ([]string, error) {
	var parts []string
	for _, t := range []models.Table{models.TableCaseEvents, models.TableMessages, models.TableActions} {
		parts = append(parts, fmt.Sprintf("SELECT %s AS v FROM %s WHERE %s AND %s IS NOT NULL", col, t, cond, col))
	}
	rows, err := db.QueryContext(ctx, "SELECT DISTINCT v FROM ("+strings.Join(parts, " UNION ALL ")+") u")
	if err != nil {
		return nil, fmt.Errorf("resolving the scope: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	sort.Strings(out)
	return out, rows.Err()
}

func countAny(ctx context.Context, db *sql.DB, cond string, tables ...models.Table) (int, error) {
	total := 0
	for _, t := range tables {
		var n int
		if err := db.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM %s WHERE %s", t, cond)).Scan(&n); err != nil {
			return 0, fmt.Errorf("resolving the scope: %w", err)
		}
		total += n
	}
	return total, nil
}

// lit is a SQL string literal.
func lit(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// tsLit is a SQL timestamp literal in UTC with milliseconds.
func tsLit(t time.Time) string {
	return "TIMESTAMP '" + t.UTC().Truncate(time.Millisecond).Format("2006-01-02 15:04:05.000") + "'"
}

// inList is "col IN (...)", or FALSE for no values.
func inList(col string, vals []string) string {
	if len(vals) == 0 {
		return "FALSE"
	}
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = lit(v)
	}
	return col + " IN (" + strings.Join(q, ", ") + ")"
}

// likeEscape escapes LIKE wildcards with a backslash.
func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}
