package sendgrid

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/ingest/ingesttest"
	"github.com/closedloop/closedloop/models"
	"github.com/closedloop/closedloop/pii"
)

// fixtures is the copy of the published SendGrid bodies (testdata/real/SOURCES.md).
const fixtures = "../../testdata/real/sendgrid"

func fixtureFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(fixtures, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return err
	})
	if err != nil || len(files) != 22 {
		t.Fatalf("want the 22 copied SendGrid fixtures, found %d (%v)", len(files), err)
	}
	return files
}

func goldenName(t *testing.T, path string) string {
	rel, err := filepath.Rel(fixtures, path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(strings.TrimSuffix(filepath.ToSlash(rel), ".json"), "/", "__")
}

// TestFixturesGolden decodes every published body as a file (the reader
// splits arrays into events), named and through auto-detection, and as one
// webhook body.
func TestFixturesGolden(t *testing.T) {
	for _, path := range fixtureFiles(t) {
		t.Run(goldenName(t, path), func(t *testing.T) {
			res := ingesttest.DecodeFile(t, Collector{}, path)
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// The whole body as a webhook delivers it: one document.
			var body []map[string]any
			berr := Collector{}.Decode(ingesttest.Env(t), ingest.Doc{Raw: raw, Format: ingest.FormatJSON, Ref: "body"},
				func(r models.Record) { body = append(body, ingesttest.Rows([]models.Record{r})...) })
			bodyResult := "ok"
			if berr != nil {
				bodyResult = berr.Error()
			}
			ingesttest.Golden(t, goldenName(t, path), map[string]any{
				"records":      ingesttest.Rows(res.Records),
				"rejects":      res.Rejects,
				"skipped":      res.Skipped,
				"as_one_body":  bodyResult,
				"body_records": len(body),
			})
			auto := ingesttest.DecodeFile(t, nil, path)
			a, _ := json.Marshal(ingesttest.Rows(auto.Records))
			b, _ := json.Marshal(ingesttest.Rows(res.Records))
			if string(a) != string(b) {
				t.Errorf("auto-detection decodes differently:\n auto: %s %v\n sendgrid: %s %v", a, auto.Rejects, b, res.Rejects)
			}
		})
	}
}

func decode(t *testing.T, body string) ([]map[string]any, error) {
	t.Helper()
	var recs []models.Record
	err := Collector{}.Decode(ingesttest.Env(t), ingest.Doc{Raw: []byte(body), Format: ingest.FormatJSON, Ref: "t:1"},
		func(r models.Record) { recs = append(recs, r) })
	return ingesttest.Rows(recs), err
}

func TestMapping(t *testing.T) {
	ev := func(fields string) string {
		return `{"email":"Jane.Doe@Example.com","timestamp":1772442000,"sg_message_id":"abcDEF123ghiJKL456mno.filterdrecv-5bd6c7d6b8-x2q9z-1-65F0-3.0","sg_event_id":"Zx8fKq2LmN4pQr6StUv8Wx",` + fields + `}`
	}
	rows, err := decode(t, "["+strings.Join([]string{
		ev(`"event":"processed"`),
		ev(`"event":"delivered","response":"250 OK","sg_event_id":"Ab1cD2eF3gH4iJ5kL6mN7o"`),
		ev(`"event":"open","sg_event_id":"Pq1rS2tU3vW4xY5zA6bC7d"`),
		ev(`"event":"bounce","type":"bounce","bounce_classification":"Invalid Address","reason":"550 5.1.1 <jane.doe@example.com>: user unknown","sg_event_id":"Ef1gH2iJ3kL4mN5oP6qR7s"`),
		ev(`"event":"deferred","sg_event_id":"Tu1vW2xY3zA4bC5dE6fG7h"`),
		ev(`"event":"click","url":"https://x","sg_event_id":"Ij1kL2mN3oP4qR5sT6uV7w"`),
		ev(`"event":"unsubscribe","sg_event_id":"Xy1zA2bC3dE4fG5hI6jK7l"`),
	}, ",")+"]")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 {
		t.Fatalf("want 5 records (deferred and click skipped), got %d: %v", len(rows), rows)
	}
	want := []string{"sent", "delivered", "read", "failed"}
	for i, w := range want {
		r := rows[i]
		if r["status"] != w || r["channel"] != "email" || r["message_id"] != "abcDEF123ghiJKL456mno" || r["ts"] != "2026-03-02T09:00:00.000Z" {
			t.Errorf("row %d: %v", i, r)
		}
		if c, _ := r["customer_id"].(string); !pii.IsPseudonym(c) {
			t.Errorf("row %d: customer_id %v", i, r["customer_id"])
		}
	}
	if rows[3]["error_code"] != "Invalid Address" || rows[3]["error_title"] != "550 5.1.1 <[email]>: user unknown" {
		t.Errorf("bounce: %v", rows[3])
	}
	if u := rows[4]; u["_table"] != "consent_events" || u["channel"] != "email" || u["status"] != "opt_out" || u["consent_source"] != "sendgrid_unsubscribe" {
		t.Errorf("unsubscribe: %v", u)
	}
	// The address is case-insensitive: the same pseudonym as lower case.
	p, _ := pii.New([]byte("test-key-0123456789abcdef"), false)
	if rows[0]["customer_id"] != p.Customer("jane.doe@example.com") {
		t.Error("the e-mail address is not lower-cased before pseudonymising")
	}
	// A customer_id custom argument joins the customer's phone pseudonym.
	rows, _ = decode(t, ev(`"event":"delivered","customer_id":"447700900123"`))
	if rows[0]["customer_id"] != p.Customer("447700900123") {
		t.Errorf("customer_id custom arg not used: %v", rows[0])
	}
	// Only skipped events: the body is skipped.
	if _, err := decode(t, "["+ev(`"event":"deferred"`)+"]"); err == nil || !strings.Contains(err.Error(), "skipped: sendgrid deferred") {
		t.Errorf("deferred only: %v", err)
	}
	// An invalid event rejects the body, naming its index.
	if _, err := decode(t, "["+ev(`"event":"processed"`)+","+ev(`"event":"exploded"`)+"]"); err == nil || !strings.Contains(err.Error(), "event [1]") {
		t.Errorf("bad event: %v", err)
	}
	for body, want := range map[string]string{
		`{"event":"open","email":"a@b.co","timestamp":1772442000}`:                                      "neither sg_message_id nor smtp-id",
		`{"event":"open","email":"a@b.co","sg_message_id":"x"}`:                                         "no timestamp",
		`{"event":"open","email":"a@b.co","sg_message_id":"x","timestamp":"soon"}`:                      "not Unix seconds",
		`{"event":"open","sg_message_id":"x","timestamp":1}`:                                            "no email",
		`{"event":"open","email":"a@b.co","sg_message_id":"x","timestamp":17724420000000000}`:           "neither Unix seconds nor milliseconds",
		`{"event":"open","email":"a@b.co","smtp-id":"<m1@host>","timestamp":"1772442000"}`:              "",
		`{"event":"Processed","email":"a@b.co","sg_message_id":"x.filter01","timestamp":1591726752372}`: "",
	} {
		rows, err := decode(t, body)
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", body, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: err %v, want %q", body, err, want)
		case want == "" && strings.Contains(body, "smtp-id") && rows[0]["message_id"] != "m1":
			t.Errorf("smtp-id fallback: %v", rows)
		case want == "" && strings.Contains(body, "Processed") && (rows[0]["status"] != "sent" || rows[0]["ts"] != "2020-06-09T18:19:12.372Z"):
			t.Errorf("capitalised event with milliseconds: %v", rows)
		}
	}
}

// An email delivered and bounced afterwards (an asynchronous bounce): both
// statuses are stored; the final status rule of SPEC §3 (read > delivered >
// failed > sent) makes it delivered — see the transforms scenario.
func TestDeliveredThenBounced(t *testing.T) {
	rows, err := decode(t, `[{"email":"a@b.co","timestamp":1772442000,"event":"delivered","sg_message_id":"m9.filter1","sg_event_id":"Ab1cD2eF3gH4iJ5kL6mN7o"},
		{"email":"a@b.co","timestamp":1772445600,"event":"bounce","type":"blocked","reason":"mailbox full","sg_message_id":"m9.filter1","sg_event_id":"Ab1cD2eF3gH4iJ5kL6mN7p"}]`)
	if err != nil || len(rows) != 2 || rows[1]["status"] != "failed" || rows[1]["error_code"] != "blocked" || rows[1]["error_title"] != "mailbox full" {
		t.Fatalf("%v %v", rows, err)
	}
}

func TestEventIDs(t *testing.T) {
	res := ingesttest.DecodeFile(t, Collector{}, filepath.Join(fixtures, "all_event_types.json"))
	ids := map[any]bool{}
	for _, r := range ingesttest.Rows(res.Records) {
		if ids[r["event_id"]] {
			t.Errorf("duplicate event_id %v: the placeholder sg_event_id must not be used", r["event_id"])
		}
		ids[r["event_id"]] = true
	}
	a := ingesttest.DecodeFile(t, Collector{}, filepath.Join(fixtures, "per_event", "bounce.json"))
	b := ingesttest.DecodeFile(t, Collector{}, filepath.Join(fixtures, "per_event", "bounce_type_blocked.json"))
	ra, rb := ingesttest.Rows(a.Records), ingesttest.Rows(b.Records)
	if ra[0]["event_id"] != rb[0]["event_id"] {
		t.Error("the two bounces share an sg_event_id and must be one event")
	}
	for _, c := range []struct {
		id   string
		want bool
	}{{"sg_event_id", false}, {"sendgrid_internal_event_id", false}, {"6g4ZI7SA-xmRDv57GoPIPw==", true}, {"qNOzbkTuTNCdxa1eXEpnXg", true}, {"", false}} {
		if uniqueLooking(c.id) != c.want {
			t.Errorf("uniqueLooking(%q) != %v", c.id, c.want)
		}
	}
	for in, want := range map[string]string{
		"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0":                "14c5d75ce93.dfd.64b469",
		"5lFl7Fr1Rjme_EyzNNB_5A.stfilter-015.5185.55F883172.0":               "5lFl7Fr1Rjme_EyzNNB_5A",
		"qP5B7K3nSmWGs2wvLm3lQw.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F.0": "qP5B7K3nSmWGs2wvLm3lQw",
		"sg_message_id": "sg_message_id",
	} {
		if got := MessageID(in); got != want {
			t.Errorf("MessageID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNoRawEmails(t *testing.T) {
	for _, path := range fixtureFiles(t) {
		res := ingesttest.DecodeFile(t, Collector{}, path)
		for _, row := range ingesttest.Rows(res.Records) {
			for col, v := range row {
				if s, ok := v.(string); ok && col != "source_ref" && strings.Contains(s, "@") {
					t.Errorf("%s: %s holds an e-mail address: %q", path, col, s)
				}
			}
		}
	}
}

// SendGrid's published test vector (sendgrid-go, helpers/eventwebhook):
// this key, timestamp and payload with this signature.
const (
	sgPublicKey = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA=="
	sgTimestamp = "1588788367"
	sgSignature = "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/0="
	sgPayload   = `{"category":"example_payload","event":"test_event","message_id":"message_id"}`
)

func TestSignatureKnownAnswer(t *testing.T) {
	pub, err := ParsePublicKey(sgPublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if !VerifySignature(pub, []byte(sgPayload), sgSignature, sgTimestamp) {
		t.Fatal("SendGrid's published test vector does not verify")
	}
	for name, c := range map[string][3]string{
		"payload":   {sgPayload + " ", sgSignature, sgTimestamp},
		"timestamp": {sgPayload, sgSignature, "1588788368"},
		"signature": {sgPayload, "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/1=", sgTimestamp},
		"missing":   {sgPayload, "", sgTimestamp},
		"no ts":     {sgPayload, sgSignature, ""},
		"garbage":   {sgPayload, "not base64!", sgTimestamp},
	} {
		if VerifySignature(pub, []byte(c[0]), c[1], c[2]) {
			t.Errorf("%s: verifies", name)
		}
	}
	if _, err := ParsePublicKey("MFkw"); err == nil {
		t.Error("a truncated key parses")
	}
	pemKey := "-----BEGIN PUBLIC KEY-----\n" + sgPublicKey + "\n-----END PUBLIC KEY-----\n"
	if k, err := ParsePublicKey(pemKey); err != nil || !k.Equal(pub) {
		t.Errorf("PEM key: %v", err)
	}
}

func TestHandler(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	enc, _ := EncodePublicKey(&priv.PublicKey)
	pub, err := ParsePublicKey(enc)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1772442000, 0)
	var accepted [][]byte
	h := Handler(HandlerOptions{PublicKey: pub, MaxSkew: 10 * time.Minute, Now: func() time.Time { return now },
		Accept: func(r *http.Request, body []byte) error { accepted = append(accepted, body); return nil }})
	body := []byte(`[{"email":"a@b.co","timestamp":1772442000,"event":"delivered","sg_message_id":"m1"}]`)
	post := func(sig, ts string) int {
		r := httptest.NewRequest(http.MethodPost, "/webhooks/sendgrid", bytes.NewReader(body))
		if sig != "" {
			r.Header.Set(SignatureHeader, sig)
		}
		if ts != "" {
			r.Header.Set(TimestampHeader, ts)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	ts := "1772442000"
	good, _ := Sign(priv, body, ts)
	wrong, _ := Sign(other, body, ts)
	if c := post(good, ts); c != http.StatusOK {
		t.Errorf("valid: %d", c)
	}
	if c := post(wrong, ts); c != http.StatusUnauthorized {
		t.Errorf("wrong key: %d", c)
	}
	if c := post("", ts); c != http.StatusUnauthorized {
		t.Errorf("missing signature: %d", c)
	}
	if c := post(good, ""); c != http.StatusUnauthorized {
		t.Errorf("missing timestamp: %d", c)
	}
	old := "1772400000"
	oldSig, _ := Sign(priv, body, old)
	if c := post(oldSig, old); c != http.StatusUnauthorized {
		t.Errorf("stale timestamp: %d", c)
	}
	if len(accepted) != 1 || !bytes.Equal(accepted[0], body) {
		t.Errorf("accepted %q", accepted)
	}
	w := httptest.NewRecorder()
	Handler(HandlerOptions{Accept: func(*http.Request, []byte) error { return nil }}).ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/webhooks/sendgrid", bytes.NewReader(body)))
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("unconfigured: %d", w.Code)
	}
}

func TestDecodeBody(t *testing.T) {
	p, _ := pii.New([]byte("test-key-0123456789abcdef"), false)
	recs, err := decodeBody(p, ingesttest.FixedNow, "webhook:sendgrid:x",
		[]byte(`[{"email":"a@b.co","timestamp":1772442000,"event":"open","sg_message_id":"m1"},{"email":"a@b.co","timestamp":1772442000,"event":"click","sg_message_id":"m1"}]`))
	if err != nil || len(recs) != 1 || recs[0].Base().Source != Name {
		t.Fatalf("%v %v", recs, err)
	}
	recs, _ = decodeBody(p, ingesttest.FixedNow, "webhook:sendgrid:y", []byte(`[{"email":"jane@b.co","event":"open"}]`))
	if len(recs) != 1 || recs[0].Table() != models.TableRejects || strings.Contains(recs[0].(*models.Reject).Reason+recs[0].(*models.Reject).Raw, "jane@") {
		t.Fatalf("reject: %+v", recs)
	}
}
