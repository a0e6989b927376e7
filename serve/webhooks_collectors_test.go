package serve

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/closedloop/closedloop/config"
	"github.com/closedloop/closedloop/ingest/sendgrid"
	"github.com/closedloop/closedloop/ingest/twilio"
	"github.com/closedloop/closedloop/store"
)

const testTwilioToken = "test-twilio-auth-token"

// serveFixture reads a body copied into serve/testdata (see SOURCES.md there).
func serveFixture(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// twilioSignature computes X-Twilio-Signature as Twilio documents it,
// independently of the collector: base64 HMAC-SHA1 keyed with the auth
// token over the full URL followed by each POST parameter's name and
// value, sorted by name.
func twilioSignature(t testing.TB, token, fullURL string, body []byte) string {
	t.Helper()
	params, err := url.ParseQuery(string(body))
	if err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(fullURL))
	for _, k := range keys {
		for _, v := range params[k] {
			m.Write([]byte(k + v))
		}
	}
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// sendgridSignature signs as SendGrid's Signed Event Webhook does: ECDSA
// P-256 over SHA-256 of the timestamp header followed by the raw body,
// ASN.1 DER, base64.
func sendgridSignature(t testing.TB, key *ecdsa.PrivateKey, timestamp string, body []byte) string {
	t.Helper()
	h := sha256.Sum256(append([]byte(timestamp), body...))
	sig, err := ecdsa.SignASN1(rand.Reader, key, h[:])
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

func newSendGridKey(t testing.TB) (*ecdsa.PrivateKey, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	// As SendGrid shows it in Mail Settings: base64 DER.
	return key, base64.StdEncoding.EncodeToString(der)
}

// withCollectorSecrets sets the Twilio token and the SendGrid key in the
// server's environment, besides the test secrets.
func withCollectorSecrets(sendgridKey string) serverOpt {
	return func(o *Options) {
		o.Getenv = func(name string) string {
			switch name {
			case twilio.AuthTokenEnv:
				return testTwilioToken
			case sendgrid.PublicKeyEnv:
				return sendgridKey
			}
			return testEnv(name)
		}
	}
}

// signedCase is one endpoint's deliveries: a validly signed body, and a
// second body sent with bad and missing signatures that must never be
// stored.
type signedCase struct {
	endpoint, path string
	good           []byte
	goodHeaders    map[string]string
	bad            []byte
	badHeaders     map[string]map[string]string
	// stored counts the rows of the good body; refused those of the bad.
	stored, refused string
}

// checkSignedEndpoint posts the good body (twice: a retry is stored once)
// and the bad body with every bad header set, then drains.
func checkSignedEndpoint(t *testing.T, ts *testServer, c signedCase) {
	t.Helper()
	for i := 0; i < 2; i++ {
		r := ts.do(t, "POST", c.path, "", c.good, c.goodHeaders)
		if b := readBody(t, r); r.StatusCode != http.StatusOK {
			t.Fatalf("%s valid signature: %d %s", c.endpoint, r.StatusCode, b)
		}
	}
	acked := ts.spool.Acknowledged()
	for name, hdr := range c.badHeaders {
		r := ts.do(t, "POST", c.path, "", c.bad, hdr)
		if b := readBody(t, r); r.StatusCode != http.StatusUnauthorized || !strings.Contains(b, "invalid") {
			t.Errorf("%s %s: %d %q, want 401 \"missing or invalid …\"", c.endpoint, name, r.StatusCode, b)
		}
	}
	if got := ts.spool.Acknowledged(); got != acked {
		t.Errorf("%s: %d refused bodies were spooled", c.endpoint, got-acked)
	}
	ts.drain(t)
	if n := count(t, ts.st, c.stored); n != 1 {
		t.Errorf("%s: valid body sent twice gave %d rows, want 1", c.endpoint, n)
	}
	if n := count(t, ts.st, c.refused); n != 0 {
		t.Errorf("%s: %d rows of refused bodies stored", c.endpoint, n)
	}
	if n := count(t, ts.st, `SELECT count(*) FROM rejects`); n != 0 {
		t.Errorf("%s: %d rejects, want 0", c.endpoint, n)
	}
	m := ts.metrics.webhooks
	if got := counterValue(t, m.WithLabelValues(c.endpoint, OutcomeAccepted)); got != 2 {
		t.Errorf("%s accepted = %v, want 2", c.endpoint, got)
	}
	if got, want := counterValue(t, m.WithLabelValues(c.endpoint, OutcomeBadSignature)), float64(len(c.badHeaders)); got != want {
		t.Errorf("%s bad_signature = %v, want %v", c.endpoint, got, want)
	}
}

func TestTwilioSignatures(t *testing.T) {
	ts := newTestServer(t, "", withCollectorSecrets(""))
	good := serveFixture(t, "twilio/status_callback_delivered.form")
	bad := serveFixture(t, "twilio/sms_va_failed_errorcode_30010.form")
	u := ts.url + "/webhooks/twilio"
	form := "application/x-www-form-urlencoded"
	sign := func(token, fullURL string, body []byte) map[string]string {
		return map[string]string{twilio.SignatureHeader: twilioSignature(t, token, fullURL, body), "Content-Type": form}
	}
	before := time.Now().UTC().Truncate(time.Millisecond)
	checkSignedEndpoint(t, ts, signedCase{
		endpoint: EndpointTwilio, path: "/webhooks/twilio",
		good: good, goodHeaders: sign(testTwilioToken, u, good),
		bad: bad, badHeaders: map[string]map[string]string{
			"missing":      {"Content-Type": form},
			"wrong token":  sign("not-the-token", u, bad),
			"other URL":    sign(testTwilioToken, "https://elsewhere.example/webhooks/twilio", bad),
			"other body":   sign(testTwilioToken, u, good),
			"not base64":   {twilio.SignatureHeader: "%%%", "Content-Type": form},
			"meta's style": {SignatureHeader: Sign(testTwilioToken, bad), "Content-Type": form},
		},
		stored:  `SELECT count(*) FROM message_statuses WHERE message_id = 'SMdf55df64a2ff4920bb0748193cfbb640' AND status = 'delivered' AND channel = 'whatsapp' AND source = 'twilio'`,
		refused: `SELECT count(*) FROM message_statuses WHERE message_id = 'SMyyy'`,
	})
	after := time.Now().UTC()
	// The callback carries no event time: the status is stamped with the
	// time the body was received, as for files with the ingest time.
	var at, ingested time.Time
	if err := ts.st.DB().QueryRow(`SELECT ts, ingested_at FROM message_statuses WHERE message_id = 'SMdf55df64a2ff4920bb0748193cfbb640'`).Scan(&at, &ingested); err != nil {
		t.Fatal(err)
	}
	if at.Before(before) || at.After(after) || !at.Equal(ingested) {
		t.Errorf("status ts %v (ingested %v), want the receive time within [%v, %v]", at, ingested, before, after)
	}
}

func TestSendGridSignatures(t *testing.T) {
	key, pub := newSendGridKey(t)
	other, _ := newSendGridKey(t)
	ts := newTestServer(t, "", withCollectorSecrets(pub))
	good := serveFixture(t, "sendgrid/delivered.json")
	bad := serveFixture(t, "sendgrid/bounce.json")
	stamp := strconv.FormatInt(time.Now().Unix(), 10)
	sign := func(k *ecdsa.PrivateKey, timestamp string, body []byte) map[string]string {
		return map[string]string{sendgrid.SignatureHeader: sendgridSignature(t, k, timestamp, body),
			sendgrid.TimestampHeader: timestamp, "Content-Type": "application/json"}
	}
	noStamp := sign(key, stamp, bad)
	delete(noStamp, sendgrid.TimestampHeader)
	otherStamp := sign(key, stamp, bad)
	otherStamp[sendgrid.TimestampHeader] = stamp + "1"
	checkSignedEndpoint(t, ts, signedCase{
		endpoint: EndpointSendGrid, path: "/webhooks/sendgrid",
		good: good, goodHeaders: sign(key, stamp, good),
		bad: bad, badHeaders: map[string]map[string]string{
			"missing":         {sendgrid.TimestampHeader: stamp, "Content-Type": "application/json"},
			"missing stamp":   noStamp,
			"other key":       sign(other, stamp, bad),
			"other timestamp": otherStamp,
			"other body":      sign(key, stamp, good),
		},
		stored:  `SELECT count(*) FROM message_statuses WHERE message_id = '14c5d75ce93.dfd.64b469' AND status = 'delivered' AND channel = 'email' AND source = 'sendgrid' AND ts = TIMESTAMP '2017-12-15 00:59:29'`,
		refused: `SELECT count(*) FROM message_statuses WHERE status = 'failed'`,
	})
}

func TestCollectorWebhooksRefuseWithoutSecrets(t *testing.T) {
	key, _ := newSendGridKey(t)
	ts := newTestServer(t, "") // testEnv sets neither secret
	tw := serveFixture(t, "twilio/status_callback_delivered.form")
	sg := serveFixture(t, "sendgrid/delivered.json")
	stamp := strconv.FormatInt(time.Now().Unix(), 10)
	for _, c := range []struct {
		path, env string
		body      []byte
		hdr       map[string]string
	}{
		// An empty token must not make an empty-key HMAC acceptable.
		{"/webhooks/twilio", twilio.AuthTokenEnv, tw, map[string]string{twilio.SignatureHeader: twilioSignature(t, "", ts.url+"/webhooks/twilio", tw)}},
		{"/webhooks/sendgrid", sendgrid.PublicKeyEnv, sg, map[string]string{sendgrid.SignatureHeader: sendgridSignature(t, key, stamp, sg), sendgrid.TimestampHeader: stamp}},
	} {
		r := ts.do(t, "POST", c.path, "", c.body, c.hdr)
		if b := readBody(t, r); r.StatusCode != http.StatusServiceUnavailable || !strings.Contains(b, c.env) {
			t.Errorf("%s without a secret: %d %q, want 503 naming $%s", c.path, r.StatusCode, b, c.env)
		}
	}
	if n := ts.spool.Acknowledged(); n != 0 {
		t.Errorf("%d bodies spooled without secrets", n)
	}
	if got := counterValue(t, ts.metrics.webhooks.WithLabelValues(EndpointSendGrid, OutcomeUnconfigured)); got != 1 {
		t.Errorf("sendgrid unconfigured = %v, want 1", got)
	}
}

func TestSendGridKeyInvalid(t *testing.T) {
	dir := t.TempDir()
	_, err := New(Options{Store: struct{ store.Store }{}, Pseudo: testPseudo(t), SpoolDir: filepath.Join(dir, "spool"),
		Getenv: func(name string) string {
			if name == sendgrid.PublicKeyEnv {
				return "not-a-key"
			}
			return ""
		}, Log: &strings.Builder{}})
	if err == nil || !strings.Contains(err.Error(), sendgrid.PublicKeyEnv) {
		t.Fatalf("New with an unreadable SendGrid key: %v, want an error naming $%s", err, sendgrid.PublicKeyEnv)
	}
}

// withEnv serves value under the variable name, besides the test secrets.
func withEnv(name, value string) serverOpt {
	return func(o *Options) {
		o.Getenv = func(n string) string {
			if n == name {
				return value
			}
			return testEnv(n)
		}
	}
}

func TestTwilioPublicURL(t *testing.T) {
	// The proxy in front of serve answers at another host and path; the
	// token comes from the variable serve.twilio_auth_token_env names.
	const public = "https://cx.example.com/hooks/twilio?site=eu"
	ts := newTestServer(t, "", withEnv("TWILIO_TOKEN_OF_TEST", testTwilioToken), func(o *Options) {
		o.Config.Serve.TwilioAuthTokenEnv = "TWILIO_TOKEN_OF_TEST"
		o.Config.Serve.TwilioPublicURL = public
	})
	good := serveFixture(t, "twilio/status_callback_delivered.form")
	bad := serveFixture(t, "twilio/sms_va_failed_errorcode_30010.form")
	form := "application/x-www-form-urlencoded"
	hdr := func(fullURL string, body []byte) map[string]string {
		return map[string]string{twilio.SignatureHeader: twilioSignature(t, testTwilioToken, fullURL, body), "Content-Type": form,
			"X-Forwarded-Proto": "https", "X-Forwarded-Host": "proxy.internal"}
	}
	if host := strings.TrimPrefix(ts.url, "http://"); strings.Contains(public, host) {
		t.Fatalf("the test server's host %s must differ from the public URL's", host)
	}
	r := ts.do(t, "POST", "/webhooks/twilio", "", good, hdr(public, good))
	if b := readBody(t, r); r.StatusCode != http.StatusOK {
		t.Fatalf("signed for %s: %d %s", public, r.StatusCode, b)
	}
	// Signed for the URL the request reached (directly or as forwarded):
	// not the URL Twilio was given, so refused.
	for _, u := range []string{ts.url + "/webhooks/twilio", "https://proxy.internal/webhooks/twilio", "https://cx.example.com/webhooks/twilio"} {
		r := ts.do(t, "POST", "/webhooks/twilio", "", bad, hdr(u, bad))
		if b := readBody(t, r); r.StatusCode != http.StatusUnauthorized {
			t.Errorf("signed for %s: %d %s, want 401", u, r.StatusCode, b)
		}
	}
	if n := ts.spool.Acknowledged(); n != 1 {
		t.Errorf("%d bodies spooled, want 1", n)
	}
	ts.drain(t)
	if n := count(t, ts.st, `SELECT count(*) FROM message_statuses WHERE message_id = 'SMdf55df64a2ff4920bb0748193cfbb640' AND source = 'twilio'`); n != 1 {
		t.Errorf("%d rows of the accepted callback, want 1", n)
	}
	if n := count(t, ts.st, `SELECT count(*) FROM message_statuses WHERE message_id = 'SMyyy'`); n != 0 {
		t.Errorf("%d rows of refused callbacks", n)
	}
}

func TestSendGridMaxSkew(t *testing.T) {
	key, pub := newSendGridKey(t)
	ts := newTestServer(t, "", withEnv("SENDGRID_KEY_OF_TEST", pub), func(o *Options) {
		o.Config.Serve.SendGridPublicKeyEnv = "SENDGRID_KEY_OF_TEST"
		o.Config.Serve.SendGridMaxSkew = config.Duration(5 * time.Minute)
	})
	body := serveFixture(t, "sendgrid/delivered.json")
	post := func(at time.Time) (int, string) {
		stamp := strconv.FormatInt(at.Unix(), 10)
		r := ts.do(t, "POST", "/webhooks/sendgrid", "", body, map[string]string{sendgrid.SignatureHeader: sendgridSignature(t, key, stamp, body),
			sendgrid.TimestampHeader: stamp, "Content-Type": "application/json"})
		return r.StatusCode, readBody(t, r)
	}
	now := time.Now()
	for _, at := range []time.Time{now.Add(-time.Hour), now.Add(-6 * time.Minute), now.Add(time.Hour)} {
		if code, b := post(at); code != http.StatusUnauthorized || !strings.Contains(b, "too far") {
			t.Errorf("signed %v from now: %d %q, want 401 \"… too far …\"", at.Sub(now).Round(time.Minute), code, b)
		}
	}
	if n := ts.spool.Acknowledged(); n != 0 {
		t.Errorf("%d stale deliveries spooled", n)
	}
	if code, b := post(now.Add(-4 * time.Minute)); code != http.StatusOK {
		t.Fatalf("signed 4 minutes ago: %d %q, want 200", code, b)
	}
	ts.drain(t)
	if n := count(t, ts.st, `SELECT count(*) FROM message_statuses WHERE message_id = '14c5d75ce93.dfd.64b469' AND source = 'sendgrid'`); n != 1 {
		t.Errorf("%d rows of the timely delivery, want 1", n)
	}
	if got := counterValue(t, ts.metrics.webhooks.WithLabelValues(EndpointSendGrid, OutcomeBadSignature)); got != 3 {
		t.Errorf("sendgrid bad_signature = %v, want 3", got)
	}
}
