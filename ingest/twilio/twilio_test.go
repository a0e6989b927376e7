package twilio

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/ingest/ingesttest"
	"github.com/closedloop/closedloop/models"
	"github.com/closedloop/closedloop/pii"
)

// fixtures is the copy of the published Twilio bodies (testdata/real/SOURCES.md).
const fixtures = "../../testdata/real/twilio"

func fixtureFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(fixtures, "*.form"))
	if err != nil || len(files) != 11 {
		t.Fatalf("want the 11 copied Twilio fixtures, found %d (%v)", len(files), err)
	}
	return files
}

// TestFixturesGolden decodes every published body, named and through
// auto-detection, and compares the rows with a golden file reviewed by
// hand when written.
func TestFixturesGolden(t *testing.T) {
	for _, path := range fixtureFiles(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".form")
		t.Run(name, func(t *testing.T) {
			res := ingesttest.DecodeFile(t, Collector{}, path)
			ingesttest.Golden(t, name, map[string]any{
				"records": ingesttest.Rows(res.Records),
				"rejects": res.Rejects,
				"skipped": res.Skipped,
			})
			auto := ingesttest.DecodeFile(t, nil, path)
			a, _ := json.Marshal(ingesttest.Rows(auto.Records))
			b, _ := json.Marshal(ingesttest.Rows(res.Records))
			if string(a) != string(b) || len(auto.Rejects) != len(res.Rejects) {
				t.Errorf("auto-detection decodes differently:\n auto: %s %v\n twilio: %s %v", a, auto.Rejects, b, res.Rejects)
			}
		})
	}
}

// decode runs the collector on one body.
func decode(t *testing.T, body string) ([]map[string]any, error) {
	t.Helper()
	var recs []models.Record
	err := Collector{}.Decode(ingesttest.Env(t), ingest.Doc{Raw: []byte(body), Format: ingest.FormatForm, Ref: "t:1"},
		func(r models.Record) { recs = append(recs, r) })
	return ingesttest.Rows(recs), err
}

// The quirks of the published SMS callbacks, one by one.
func TestFixtureQuirks(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(fixtures, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	cases := []struct {
		file, status, code, title string
	}{
		// SmsStatus=delivered disagrees: MessageStatus wins.
		{"sms_va_undelivered_no_errorcode.form", "failed", "", "message undelivered (no error code)"},
		{"sms_va_canceled.form", "failed", "", "message canceled (no error code)"},
		{"sms_va_failed_no_errorcode.form", "failed", "", "message failed (no error code)"},
		{"sms_va_failed_errorcode_30010.form", "failed", "30010", "Message price exceeds max price"},
		{"sms_va_delivered.form", "delivered", "", ""},
		// No MessageStatus: SmsStatus is the fallback.
		{"sms_va_no_messagestatus_errorcode_30011.form", "failed", "30011", "MMS not supported by the receiving phone in this region"},
	}
	for _, c := range cases {
		rows, err := decode(t, read(c.file))
		if err != nil || len(rows) != 1 {
			t.Fatalf("%s: %v %v", c.file, rows, err)
		}
		r := rows[0]
		if r["status"] != c.status || r["channel"] != "sms" || r["message_id"] != "SMyyy" {
			t.Errorf("%s: %v", c.file, r)
		}
		if got, _ := r["error_code"].(string); got != c.code {
			t.Errorf("%s: error_code %v, want %q", c.file, r["error_code"], c.code)
		}
		if got, _ := r["error_title"].(string); got != c.title {
			t.Errorf("%s: error_title %v, want %q", c.file, r["error_title"], c.title)
		}
		if r["ts"] != "2023-03-07T21:55:00.000Z" && r["ts"] != "2023-03-09T20:21:00.000Z" {
			t.Errorf("%s: ts %v is not RawDlrDoneDate", c.file, r["ts"])
		}
	}
	_, err := decode(t, read("sms_va_invalid_messagestatus_errorcode_30011.form"))
	if err == nil || !strings.Contains(err.Error(), `MessageStatus "invalid"`) {
		t.Errorf("invalid MessageStatus: err = %v", err)
	}
}

// A message's callbacks as Twilio posts them: queued and sending are
// skipped, sent and undelivered (with its ErrorCode) are stored; the
// final status (SPEC §3) is failed.
func TestCallbackSeries(t *testing.T) {
	base := "SmsSid=SM1&MessageSid=SM1&AccountSid=AC1&From=%2B447700900100&To=%2B447700900123&ApiVersion=2010-04-01"
	var got []map[string]any
	for i, st := range []string{"queued", "sending", "sent", "undelivered"} {
		body := base + "&SmsStatus=" + st + "&MessageStatus=" + st + "&ReceivedAt=2026-03-02T09:00:0" + string(rune('0'+i)) + "Z"
		if st == "undelivered" {
			body += "&ErrorCode=30003"
		}
		rows, err := decode(t, body)
		switch st {
		case "queued", "sending":
			if err == nil || !strings.Contains(err.Error(), "skipped: twilio "+st) {
				t.Errorf("%s: want a skip, got %v %v", st, rows, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", st, err)
		}
		got = append(got, rows...)
	}
	if len(got) != 2 {
		t.Fatalf("want 2 statuses, got %v", got)
	}
	if got[0]["status"] != "sent" || got[0]["ts"] != "2026-03-02T09:00:02.000Z" {
		t.Errorf("sent: %v", got[0])
	}
	f := got[1]
	if f["status"] != "failed" || f["error_code"] != "30003" || f["error_title"] != "Unreachable destination handset" ||
		f["channel"] != "sms" || f["ts"] != "2026-03-02T09:00:03.000Z" {
		t.Errorf("undelivered: %v", f)
	}
	if c, _ := f["customer_id"].(string); !pii.IsPseudonym(c) {
		t.Errorf("customer_id %v is not a pseudonym", f["customer_id"])
	}
	if got[0]["event_id"] == got[1]["event_id"] {
		t.Error("two statuses share an event_id")
	}
	// A retried callback is the same event.
	again, _ := decode(t, base+"&SmsStatus=sent&MessageStatus=sent&ReceivedAt=2026-03-02T09:05:00Z")
	if again[0]["event_id"] != got[0]["event_id"] {
		t.Error("a retried callback got a new event_id")
	}
}

func TestWhatsAppReadAndInbound(t *testing.T) {
	rows, err := decode(t, "MessageSid=SM9&MessageStatus=read&ChannelPrefix=whatsapp&To=whatsapp%3A%2B31612345678&From=whatsapp%3A%2B14123456789")
	if err != nil || rows[0]["status"] != "read" || rows[0]["channel"] != "whatsapp" {
		t.Fatalf("read: %v %v", rows, err)
	}
	rows, err = decode(t, "MessageSid=MM1&SmsStatus=received&NumMedia=2&To=whatsapp%3A%2B14123456789&From=whatsapp%3A%2B31612345678&Body=")
	if err != nil || len(rows) != 1 {
		t.Fatalf("inbound: %v %v", rows, err)
	}
	r := rows[0]
	if r["_table"] != "messages" || r["direction"] != "inbound" || r["kind"] != "media" || r["channel"] != "whatsapp" ||
		r["business_number"] != "+14123456789" || r["sender_type"] != "customer" {
		t.Errorf("inbound: %v", r)
	}
	// Twilio channels closedloop does not model are skipped, bad values rejected.
	if _, err := decode(t, "MessageSid=SM2&MessageStatus=delivered&To=messenger%3A123&From=messenger%3A456"); err == nil || !strings.Contains(err.Error(), "messenger") {
		t.Errorf("messenger: %v", err)
	}
	for body, want := range map[string]string{
		"AccountSid=AC1&MessageStatus=sent":                 "no MessageSid",
		"MessageSid=SM3&To=%2B1":                            "neither MessageStatus nor SmsStatus",
		"MessageSid=SM3&MessageStatus=sent&ReceivedAt=soon": "ReceivedAt",
		"MessageSid=SM3&MessageStatus=sent&%zz":             "not a form-encoded body",
		"MessageSid=SM3&MessageStatus=deliverd":             `"deliverd" is not a Twilio message status`,
	} {
		if _, err := decode(t, body); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want %q", body, err, want)
		}
	}
}

// The "form lines" format: JSON Lines of JSON strings holding form bodies.
func TestFormLines(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "callbacks.jsonl")
	lines := []string{
		`"MessageSid=SM1&MessageStatus=sent&To=%2B447700900123&From=%2B447700900100&ReceivedAt=2026-03-02T09%3A00%3A00.250Z"`,
		`"MessageSid=SM1&MessageStatus=delivered&To=%2B447700900123&From=%2B447700900100&RawDlrDoneDate=2603020900&ReceivedAt=2026-03-02T09%3A00%3A04Z"`,
		`"MessageSid=SM1&MessageStatus=queued&To=%2B447700900123"`,
		`{"not":"a form"}`,
	}
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := ingesttest.DecodeFile(t, nil, p)
	rows := ingesttest.Rows(res.Records)
	if len(rows) != 2 || rows[0]["ts"] != "2026-03-02T09:00:00.250Z" || rows[1]["status"] != "delivered" || rows[1]["ts"] != "2026-03-02T09:00:04.000Z" {
		t.Errorf("rows %v", rows)
	}
	if res.Skipped["twilio queued"] != 1 || len(res.Rejects) != 1 {
		t.Errorf("skipped %v rejects %v", res.Skipped, res.Rejects)
	}
}

// TestNoRawNumbers: no customer number of a fixture reaches a record.
func TestNoRawNumbers(t *testing.T) {
	for _, path := range fixtureFiles(t) {
		b, _ := os.ReadFile(path)
		vals, _ := url.ParseQuery(string(b))
		customer := vals.Get("To")
		if vals.Get("SmsStatus") == "received" {
			customer = vals.Get("From")
		}
		digits := pii.Normalise(customer)
		res := ingesttest.DecodeFile(t, Collector{}, path)
		for _, row := range ingesttest.Rows(res.Records) {
			for col, v := range row {
				if s, ok := v.(string); ok && col != "business_number" && col != "source_ref" && strings.Contains(s, digits) {
					t.Errorf("%s: %s holds the customer's number: %q", path, col, s)
				}
			}
		}
	}
}

// Twilio's published example of the signature (TwilioDevEd/api-snippets,
// security/signature_validation): token 12345, this URL and these
// parameters sign to GvWf1cFY/Q7PnoempGyD5oXAezc=.
func TestSignatureKnownAnswer(t *testing.T) {
	params := url.Values{"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+14158675310"}, "Digits": {"1234"},
		"From": {"+14158675310"}, "To": {"+18005551212"}}
	const u = "https://mycompany.com/myapp.php?foo=1&bar=2"
	if got := Sign("12345", u, params); got != "GvWf1cFY/Q7PnoempGyD5oXAezc=" {
		t.Errorf("Sign = %s", got)
	}
	if !VerifySignature("12345", u, params, "GvWf1cFY/Q7PnoempGyD5oXAezc=") {
		t.Error("the published signature does not verify")
	}
	// The same URL with the default port (a proxy that keeps it) verifies too.
	if !VerifySignature("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", params, "GvWf1cFY/Q7PnoempGyD5oXAezc=") {
		t.Error("the URL with :443 does not verify")
	}
	for name, sig := range map[string]string{"wrong": "GvWf1cFY/Q7PnoempGyD5oXAezd=", "other": "HvWf1cFY/Q7PnoempGyD5oXAezc=", "missing": "", "not base64": "%%%"} {
		if VerifySignature("12345", u, params, sig) {
			t.Errorf("%s signature verifies", name)
		}
	}
	if VerifySignature("", u, params, Sign("", u, params)) {
		t.Error("an empty token verifies")
	}
	params.Set("Digits", "1235")
	if VerifySignature("12345", u, params, "GvWf1cFY/Q7PnoempGyD5oXAezc=") {
		t.Error("a changed parameter verifies")
	}
}

// TestHandler posts to the endpoint with a valid, a wrong and a missing
// signature.
func TestHandler(t *testing.T) {
	const token = "test-auth-token"
	var accepted []string
	h := Handler(HandlerOptions{AuthToken: token, PublicURL: "https://cx.example.com",
		Accept: func(r *http.Request, body []byte) error { accepted = append(accepted, string(body)); return nil }})
	body := "MessageSid=SM1&MessageStatus=delivered&To=%2B447700900123&From=%2B447700900100"
	params, _ := url.ParseQuery(body)
	post := func(sig string, mutate func(*http.Request)) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/webhooks/twilio?tenant=a", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if sig != "" {
			r.Header.Set(SignatureHeader, sig)
		}
		if mutate != nil {
			mutate(r)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	valid := Sign(token, "https://cx.example.com/webhooks/twilio?tenant=a", params)
	if w := post(valid, nil); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "<Response>") {
		t.Errorf("valid: %d %s", w.Code, w.Body)
	}
	if len(accepted) != 1 || accepted[0] != body {
		t.Fatalf("accepted %v", accepted)
	}
	if w := post(Sign("other-token", "https://cx.example.com/webhooks/twilio?tenant=a", params), nil); w.Code != http.StatusUnauthorized {
		t.Errorf("wrong signature: %d", w.Code)
	}
	if w := post(Sign(token, "https://cx.example.com/webhooks/twilio", params), nil); w.Code != http.StatusUnauthorized {
		t.Errorf("signature over another URL: %d", w.Code)
	}
	if w := post("", nil); w.Code != http.StatusUnauthorized {
		t.Errorf("missing signature: %d", w.Code)
	}
	if len(accepted) != 1 {
		t.Errorf("refused requests reached Accept: %v", accepted)
	}
	// Without PublicURL the URL comes from the request and its proxy headers.
	h2 := Handler(HandlerOptions{AuthToken: token, Accept: func(*http.Request, []byte) error { return nil }})
	r := httptest.NewRequest(http.MethodPost, "http://internal:8080/webhooks/twilio", strings.NewReader(body))
	r.Header.Set("X-Forwarded-Proto", "https")
	r.Header.Set("X-Forwarded-Host", "cx.example.com")
	r.Header.Set(SignatureHeader, Sign(token, "https://cx.example.com/webhooks/twilio", params))
	w := httptest.NewRecorder()
	h2.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Errorf("behind a proxy: %d %s", w.Code, w.Body)
	}
	// Not configured, wrong method.
	h3 := Handler(HandlerOptions{Accept: func(*http.Request, []byte) error { return nil }})
	w = httptest.NewRecorder()
	h3.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/webhooks/twilio", strings.NewReader(body)))
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("unconfigured: %d", w.Code)
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/webhooks/twilio", nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", w.Code)
	}
}

func TestLoadAccept(t *testing.T) {
	p, _ := pii.New([]byte("test-key-0123456789abcdef"), false)
	recs, err := decodeBody(p, ingesttest.FixedNow, "webhook:twilio:x", []byte("MessageSid=SM1&MessageStatus=delivered&To=%2B447700900123"))
	if err != nil || len(recs) != 1 || recs[0].Table() != models.TableMessageStatuses || recs[0].Base().SourceRef != "webhook:twilio:x" {
		t.Fatalf("%v %v", recs, err)
	}
	recs, _ = decodeBody(p, ingesttest.FixedNow, "webhook:twilio:y", []byte("MessageSid=SM1&MessageStatus=bogus&To=%2B447700900123"))
	if len(recs) != 1 || recs[0].Table() != models.TableRejects || strings.Contains(recs[0].(*models.Reject).Raw, "447700900123") {
		t.Fatalf("reject: %v", recs)
	}
	recs, _ = decodeBody(p, ingesttest.FixedNow, "webhook:twilio:z", []byte("MessageSid=SM1&MessageStatus=queued"))
	if len(recs) != 0 {
		t.Fatalf("skip: %v", recs)
	}
}
