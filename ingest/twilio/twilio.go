// Package twilio collects Twilio Messaging status callbacks and inbound
// message webhooks (SMS and WhatsApp), form-encoded exactly as Twilio posts
// them: MessageSid, MessageStatus (queued, sending, sent, delivered,
// undelivered, failed, read, canceled, …), SmsStatus, ErrorCode, To, From,
// ChannelPrefix.
//
// Mapping (SPEC §1 "More sources"):
//
//   - MessageStatus decides; SmsStatus is only the fallback when
//     MessageStatus is absent. Twilio keeps SmsStatus for backwards
//     compatibility and the two can disagree: published callbacks carry
//     SmsStatus=delivered with MessageStatus=undelivered, failed or canceled,
//     and those messages were not delivered.
//   - sent → sent, delivered → delivered, read → read (WhatsApp),
//     undelivered, failed and canceled → failed with ErrorCode as error_code
//     and Twilio's title of the code as error_title. queued, sending,
//     accepted, scheduled, receiving and partially_delivered are
//     intermediate states and are skipped (ingest.ErrSkip); any other value
//     is rejected with the value in the reason.
//   - received (SmsStatus=received, no MessageStatus: an inbound message
//     webhook, or no status at all but a Body or NumMedia) → an inbound
//     message from the customer (From), kind media when NumMedia > 0.
//   - channel: whatsapp when ChannelPrefix=whatsapp or the addresses carry
//     the whatsapp: prefix, sms otherwise (other Twilio channels such as
//     messenger are skipped: closedloop models whatsapp, sms and email).
//   - Customer numbers (To of a status, From of an inbound message) are
//     pseudonymised; business_number is the business's sender (From of a
//     status, To of an inbound message) without its channel prefix.
//   - Time: Twilio's callbacks carry no event time. closedloop uses, in
//     order: a ReceivedAt parameter (RFC 3339; not Twilio's: a recorder such
//     as closedloop gen adds it to the bodies it writes), RawDlrDoneDate (the
//     carrier's delivery-receipt time, YYMMDDhhmm, read as UTC), else the
//     time the body was received (the ingest time for a file, the request
//     time for a webhook).
//
// Documents: a .form file is one body; closedloop's "form lines" format is
// JSON Lines in which every line is a JSON string holding one form body
// (Twilio posts forms, not JSON, so a day of callbacks is kept one per
// line). Bodies handed over raw (a webhook spool) are read as forms too.
package twilio

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	json "github.com/goccy/go-json"

	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/models"
)

// Name is the collector's registered name (`--source twilio`).
const Name = "twilio"

func init() { ingest.Register(Collector{}) }

// Collector maps Twilio form bodies onto canonical records. It holds no
// state.
type Collector struct{}

// Name implements ingest.Collector.
func (Collector) Name() string { return Name }

// sidKeys name the message id, most specific first.
var sidKeys = []string{"MessageSid", "SmsSid", "SmsMessageSid"}

// Detect recognises a form body (or a JSON string holding one) that names
// a Twilio message sid.
func (Collector) Detect(doc ingest.Doc) bool {
	raw := doc.Raw
	switch {
	case doc.CSV:
		return false
	case doc.Format == ingest.FormatForm:
	case doc.Format == ingest.FormatJSON && len(raw) > 0 && raw[0] == '"':
	default:
		return false
	}
	for _, k := range sidKeys {
		if bytes.Contains(raw, []byte(k+"=")) {
			return true
		}
	}
	return false
}

// formBody returns the form-encoded bytes of a document.
func formBody(doc ingest.Doc) ([]byte, error) {
	raw := bytes.TrimSpace(doc.Raw)
	if doc.Format == ingest.FormatForm {
		return raw, nil
	}
	if len(raw) == 0 {
		return nil, errors.New("twilio: empty body")
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("twilio: a form line must be one JSON string: %v", err)
		}
		return []byte(s), nil
	case '{', '[':
		return nil, errors.New("twilio: expected a form-encoded body (or a JSON string holding one), got JSON")
	}
	return raw, nil
}

// Decode implements ingest.Collector.
func (Collector) Decode(env *ingest.Env, doc ingest.Doc, emit func(models.Record)) error {
	body, err := formBody(doc)
	if err != nil {
		return err
	}
	if len(body) == 0 {
		return errors.New("twilio: empty body")
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return fmt.Errorf("twilio: not a form-encoded body: %v", err)
	}
	// Percent-decoded values may be any bytes: ingest.CheckDecoded (the
	// pipeline, the webhook Load) rejects records that are not UTF-8.
	cb := callback(vals)
	sid := ""
	for _, k := range sidKeys {
		if sid = cb.get(k); sid != "" {
			break
		}
	}
	if sid == "" {
		return errors.New("twilio: no MessageSid (nor SmsSid) in the body")
	}
	channel, ok := cb.channel()
	if !ok {
		return fmt.Errorf("%w: twilio channel %s", ingest.ErrSkip, channel)
	}
	field, status := "MessageStatus", cb.get("MessageStatus")
	if status == "" {
		field, status = "SmsStatus", cb.get("SmsStatus")
	}
	status = strings.ToLower(status)
	if status == "" {
		if !cb.has("Body") && !cb.has("NumMedia") {
			return errors.New("twilio: body has neither MessageStatus nor SmsStatus (nor the Body of an inbound message)")
		}
		status = "received"
	}
	ts, err := cb.time(env)
	if err != nil {
		return err
	}
	switch status {
	case "received":
		return decodeInbound(env, cb, sid, channel, ts, emit)
	case "queued", "sending", "accepted", "scheduled", "receiving", "partially_delivered":
		return fmt.Errorf("%w: twilio %s", ingest.ErrSkip, status)
	}
	mapped, ok := statusMap[status]
	if !ok {
		return fmt.Errorf("twilio: %s %q is not a Twilio message status (queued, sending, sent, delivered, undelivered, failed, read, canceled, received)", field, cb.get(field))
	}
	r := &models.MessageStatus{
		MessageID:  sid,
		Status:     mapped,
		TS:         ts,
		Channel:    channel,
		CustomerID: env.Pseudo.Customer(cb.get("To")),
	}
	if mapped == "failed" {
		r.ErrorCode = cb.get("ErrorCode")
		r.ErrorTitle = cb.get("ErrorMessage")
		if r.ErrorTitle == "" {
			r.ErrorTitle = ErrorTitles[r.ErrorCode]
		}
		if r.ErrorTitle == "" && r.ErrorCode == "" {
			r.ErrorTitle = "message " + status + " (no error code)"
		}
	}
	// Twilio retries a callback it could not deliver: the same status of
	// the same message with the same error is one event, whenever it came.
	r.EventID = models.HashID(Name, "status", sid, status, r.ErrorCode)
	emit(r)
	return nil
}

// statusMap maps the Twilio statuses that are delivery outcomes.
var statusMap = map[string]string{
	"sent":        "sent",
	"delivered":   "delivered",
	"read":        "read",
	"undelivered": "failed",
	"failed":      "failed",
	"canceled":    "failed",
}

func decodeInbound(env *ingest.Env, cb callback, sid, channel string, ts time.Time, emit func(models.Record)) error {
	from := cb.get("From")
	if from == "" {
		return errors.New("twilio: inbound message without From")
	}
	kind := "text"
	if n, err := strconv.Atoi(cb.get("NumMedia")); err == nil && n > 0 {
		kind = "media"
	}
	r := &models.Message{
		MessageID:      sid,
		CustomerID:     env.Pseudo.Customer(from),
		Direction:      "inbound",
		SenderType:     "customer",
		Kind:           kind,
		Channel:        channel,
		BusinessNumber: address(cb.get("To")),
		TS:             ts,
	}
	r.EventID = models.HashID(Name, "message", sid)
	emit(r)
	return nil
}

// callback is a parsed form body.
type callback url.Values

func (c callback) get(k string) string { return strings.TrimSpace(url.Values(c).Get(k)) }

func (c callback) has(k string) bool { _, ok := c[k]; return ok }

// channel is whatsapp or sms; ok is false for channels closedloop does not
// model (the name is returned for the skip reason).
func (c callback) channel() (string, bool) {
	prefix := strings.ToLower(c.get("ChannelPrefix"))
	if prefix == "" {
		for _, k := range []string{"To", "From"} {
			if p, _, ok := strings.Cut(c.get(k), ":"); ok {
				prefix = strings.ToLower(p)
				break
			}
		}
	}
	switch prefix {
	case "whatsapp":
		return "whatsapp", true
	case "", "sms", "mms":
		return "sms", true
	}
	return prefix, false
}

// address strips a channel prefix ("whatsapp:+1415…" → "+1415…").
func address(s string) string {
	if p, rest, ok := strings.Cut(s, ":"); ok && !strings.ContainsAny(p, "+0123456789") {
		return rest
	}
	return s
}

// ReceivedAtParam is the parameter a recorder adds to a stored body to keep
// the time the callback arrived (Twilio's own bodies carry no time).
const ReceivedAtParam = "ReceivedAt"

// time returns the event time (see the package comment).
func (c callback) time(env *ingest.Env) (time.Time, error) {
	if v := c.get(ReceivedAtParam); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return time.Time{}, fmt.Errorf("twilio: %s %q is not RFC 3339 with an offset", ReceivedAtParam, v)
		}
		return t.UTC(), nil
	}
	if v := c.get("RawDlrDoneDate"); v != "" {
		t, err := time.Parse("0601021504", v)
		if err != nil {
			return time.Time{}, fmt.Errorf("twilio: RawDlrDoneDate %q is not YYMMDDhhmm", v)
		}
		return t.UTC(), nil
	}
	if env.Now.IsZero() {
		return time.Now().UTC(), nil
	}
	return env.Now.UTC(), nil
}

// ErrorTitles are Twilio's titles of the error codes status callbacks carry
// most (https://www.twilio.com/docs/api/errors), used as error_title.
var ErrorTitles = map[string]string{
	"30001": "Queue overflow",
	"30002": "Account suspended",
	"30003": "Unreachable destination handset",
	"30004": "Message blocked",
	"30005": "Unknown destination handset",
	"30006": "Landline or unreachable carrier",
	"30007": "Message filtered",
	"30008": "Unknown error",
	"30009": "Missing segment",
	"30010": "Message price exceeds max price",
	"30011": "MMS not supported by the receiving phone in this region",
	"30034": "Message from an unregistered number",
	"63003": "Channel could not find To address",
	"63016": "Failed to send freeform message because you are outside the allowed window",
	"63024": "Invalid message recipient",
}
