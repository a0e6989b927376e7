package meta

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/models"
	json "github.com/goccy/go-json"
)

// fieldMessages is the change field that carries messages and statuses.
const fieldMessages = "messages"

// Decode implements ingest.Collector. A body may hold several entries and
// several changes per entry; every message and status in it becomes a
// record. Only a problem that makes the body untrustworthy (wrong object,
// bad JSON types, a message without id) rejects it, because a reject is
// all-or-nothing for the document.
func (Collector) Decode(env *ingest.Env, doc ingest.Doc, emit func(models.Record)) error {
	var w webhook
	if err := json.Unmarshal(doc.Raw, &w); err != nil {
		return describeJSONError(err)
	}
	if w.Object != objectWABA {
		if w.Object == "" {
			return fmt.Errorf("meta: body has no \"object\" (expected %q; is this a bare change value without its envelope?)", objectWABA)
		}
		return fmt.Errorf("meta: object is %q, expected %q", w.Object, objectWABA)
	}
	if len(w.Entry) == 0 {
		return errors.New("meta: body has no entry")
	}
	d := decoder{env: env, emit: emit}
	for i := range w.Entry {
		for j := range w.Entry[i].Changes {
			if err := d.change(i, j, &w.Entry[i].Changes[j]); err != nil {
				return err
			}
		}
	}
	if d.emitted == 0 {
		if d.skip == "" {
			d.skip = "empty"
		}
		return fmt.Errorf("%w: meta %s", ingest.ErrSkip, d.skip)
	}
	return nil
}

// decoder carries one body's mapping state.
type decoder struct {
	env     *ingest.Env
	emit    func(models.Record)
	emitted int
	// skip is the first reason something was left out, reported when the
	// body yields nothing at all.
	skip string
}

func (d *decoder) noteSkip(reason string) {
	if d.skip == "" {
		d.skip = reason
	}
}

func (d *decoder) change(i, j int, c *change) error {
	// A change without `field` is read as messages when it carries them:
	// the value's shape is what matters.
	if c.Field != fieldMessages && c.Field != "" {
		d.noteSkip(c.Field)
		return nil
	}
	v := &c.Value
	if len(v.Messages) == 0 && len(v.Statuses) == 0 {
		d.noteSkip("change without messages or statuses")
		return nil
	}
	business := v.Metadata.PhoneNumberID.s
	for k := range v.Messages {
		if err := d.message(&v.Messages[k], business); err != nil {
			return fmt.Errorf("entry[%d].changes[%d].value.messages[%d].%w", i, j, k, err)
		}
	}
	for k := range v.Statuses {
		if err := d.status(&v.Statuses[k]); err != nil {
			return fmt.Errorf("entry[%d].changes[%d].value.statuses[%d].%w", i, j, k, err)
		}
	}
	return nil
}

// message maps one inbound message. Errors start with the field name so
// that the caller can prefix the JSON path.
func (d *decoder) message(m *message, business string) error {
	id, err := required("id", m.ID)
	if err != nil {
		return err
	}
	from, err := required("from", m.From)
	if err != nil {
		return err
	}
	ts, err := unixTime(m.Timestamp)
	if err != nil {
		return err
	}
	r := &models.Message{
		MessageID:      id,
		CustomerID:     d.env.Pseudo.Customer(from),
		Direction:      "inbound",
		SenderType:     "customer",
		Kind:           messageKind(m.Type),
		Channel:        "whatsapp",
		BusinessNumber: business,
		TS:             ts,
	}
	// The wamid alone: Meta retries deliver the same message again, and
	// the retry must be a duplicate, not a second message.
	r.EventID = models.HashID("meta", "message", id)
	d.emit(r)
	d.emitted++
	return nil
}

// status maps one delivery status; statuses the store does not model are
// left out (and noted, so a body of nothing else is skipped, not loaded empty).
func (d *decoder) status(s *status) error {
	id, err := required("id", s.ID)
	if err != nil {
		return err
	}
	if s.Status == "" {
		return errors.New("status: missing")
	}
	st, ok := statusName(s.Status)
	if !ok {
		// Meta documents "deleted" and "warning" besides the delivery
		// states; those are deliberately unused. Anything else is a
		// corrupted or unknown value and must be visible as a reject.
		if s.Status == "deleted" || s.Status == "warning" {
			d.noteSkip("status " + s.Status)
			return nil
		}
		return fmt.Errorf("status: %q is not a WhatsApp delivery status (sent, delivered, read, played, failed, deleted, warning)", s.Status)
	}
	ts, err := unixTime(s.Timestamp)
	if err != nil {
		return err
	}
	if s.RecipientID.bad != "" {
		return fmt.Errorf("recipient_id: expected a string, got a JSON %s", s.RecipientID.bad)
	}
	r := &models.MessageStatus{
		MessageID:       id,
		Status:          st,
		TS:              ts,
		PricingCategory: s.Pricing.Category,
		Billable:        s.Pricing.Billable,
		Channel:         "whatsapp",
		CustomerID:      d.env.Pseudo.Customer(s.RecipientID.s),
	}
	if len(s.Errors) > 0 {
		if s.Errors[0].Code.bad != "" {
			return fmt.Errorf("errors[0].code: expected a number, got a JSON %s", s.Errors[0].Code.bad)
		}
		r.ErrorCode = s.Errors[0].Code.s
		r.ErrorTitle = s.Errors[0].Title
	}
	// Meta repeats statuses; the same status of the same message at the
	// same second with the same error is one event.
	r.EventID = models.HashID("meta", "status", id, st, strconv.FormatInt(ts.Unix(), 10), r.ErrorCode)
	d.emit(r)
	d.emitted++
	return nil
}

func required(name string, v scalar) (string, error) {
	switch {
	case v.bad != "":
		return "", fmt.Errorf("%s: expected a string, got a JSON %s", name, v.bad)
	case v.s == "":
		return "", fmt.Errorf("%s: missing", name)
	}
	return v.s, nil
}

// unixTime reads Meta's `timestamp`: Unix seconds, as a string or number.
func unixTime(v scalar) (time.Time, error) {
	if v.bad != "" {
		return time.Time{}, fmt.Errorf("timestamp: expected Unix seconds, got a JSON %s", v.bad)
	}
	if v.s == "" {
		return time.Time{}, errors.New("timestamp: missing")
	}
	n, err := strconv.ParseInt(v.s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("timestamp: %q is not Unix seconds", v.s)
	}
	t, err := ingest.UnixSeconds(n)
	if err != nil {
		return time.Time{}, fmt.Errorf("timestamp: %w", err)
	}
	return t, nil
}

// describeJSONError names the JSON path of a type mismatch in the form the
// rest of the collector uses (entry[0].changes[1].value...).
func describeJSONError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Errorf("%s: cannot read a JSON %s as %s", jsonPath(te.Field), te.Value, te.Type)
	}
	return fmt.Errorf("meta: invalid JSON: %w", err)
}

// jsonPath turns goccy's "entry.0.changes.1.value" into "entry[0].changes[1].value".
func jsonPath(field string) string {
	parts := strings.Split(field, ".")
	var b strings.Builder
	for i, p := range parts {
		if _, err := strconv.Atoi(p); err == nil && i > 0 {
			b.WriteString("[" + p + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}
