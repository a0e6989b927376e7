package canonical

import (
	"errors"
	"fmt"
	"sync"

	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/models"
)

// builder maps a decoded line onto one table's record, or nil with the
// problems left in r.
type builder func(r *reader, l *line) models.Record

var builders = map[models.Table]builder{
	models.TableMessages:       buildMessage,
	models.TableCaseEvents:     buildCaseEvent,
	models.TableActions:        buildAction,
	models.TableWritebacks:     buildWriteback,
	models.TableConsentEvents:  buildConsent,
	models.TableTemplateEvents: buildTemplate,
	models.TableAuditEvents:    buildAudit,
}

// tableCollectors lists the collectors that force a table, in the order
// they are registered (the order of SPEC §2's `--source` list).
var tableCollectors = []*Collector{
	{name: "cases", table: models.TableCaseEvents},
	{name: "messages", table: models.TableMessages},
	{name: "writebacks", table: models.TableWritebacks},
	{name: "consent", table: models.TableConsentEvents},
	{name: "templates", table: models.TableTemplateEvents},
	{name: "audit", table: models.TableAuditEvents},
	{name: "actions", table: models.TableActions},
}

// Auto is the "canonical" collector: it recognises each line's table.
var Auto = &Collector{name: "canonical"}

func init() {
	for _, c := range tableCollectors {
		ingest.Register(c)
	}
	ingest.Register(Auto)
}

// Collector reads canonical lines into one table (table set) or into the
// table their fields name (table empty: the "canonical" collector).
type Collector struct {
	name  string
	table models.Table
}

// Name is the `--source` name.
func (c *Collector) Name() string { return c.name }

// Detect claims canonical documents for `--source auto`. Only the
// "canonical" collector claims anything: the per-table collectors are for
// forcing a file with `--source`, and claiming here would shadow the rules.
func (c *Collector) Detect(doc ingest.Doc) bool {
	if c.table != "" || doc.Format != ingest.FormatJSON {
		return false
	}
	fs, ok := scanFields(doc.Raw)
	return ok && detectable(fs)
}

// linePool recycles the large line struct across documents. Only the struct
// is reused: putLine clears it, so every field of the next line gets fresh
// bytes and the strings of records already emitted (which alias the old
// bytes, see value) are never overwritten.
var linePool = sync.Pool{New: func() any { return new(line) }}

func putLine(l *line) {
	*l = line{}
	linePool.Put(l)
}

// errNoPseudonymiser refuses to run rather than store raw customer ids.
var errNoPseudonymiser = errors.New("no pseudonymiser configured: refusing to store raw customer identifiers")

// Decode maps one canonical line onto its record.
func (c *Collector) Decode(env *ingest.Env, doc ingest.Doc, emit func(models.Record)) error {
	if env == nil || env.Pseudo == nil {
		return errNoPseudonymiser
	}
	if doc.Format != ingest.FormatJSON {
		return fmt.Errorf("canonical files are JSON Lines or CSV, not form-encoded bodies")
	}
	l := linePool.Get().(*line)
	defer putLine(l)
	if err := decodeLine(doc.Raw, l); err != nil {
		return err
	}
	table := c.table
	if table == "" {
		var err error
		if table, err = recognise(l); err != nil {
			return err
		}
	}
	r := reader{table: table, env: env}
	rec := builders[table](&r, l)
	if err := r.err(); err != nil {
		return err
	}
	emit(rec)
	return nil
}

// errUnrecognised explains the recognition rules when no table matches.
var errUnrecognised = errors.New("no canonical table has these fields: expected case_id+event (case_events), " +
	"writeback_id or idempotency_key+attempt (writebacks), step (actions), audit_id or hash+action (audit_events), " +
	"template_name+status (template_events), customer_id+status opt_in|opt_out (consent_events) " +
	"or message_id+direction (messages); name the table with --source")

// recognise picks the table of a decoded line. A line with "event" but no
// case_id is taken as a broken case event, so the error names case_id.
func recognise(l *line) (models.Table, error) {
	fs := l.fields()
	if t, ok := classify(fs); ok {
		return t, nil
	}
	if fs.has(fEvent) {
		return models.TableCaseEvents, nil
	}
	return "", errUnrecognised
}
