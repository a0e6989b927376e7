package serve

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// counterValue reads a counter's value.
func counterValue(t testing.TB, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func (ts *testServer) drain(t testing.TB) {
	t.Helper()
	if err := ts.DrainAll(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestWhatsAppSignatures(t *testing.T) {
	ts := newTestServer(t, "")
	body := inboundBody(t, "wamid.sig-valid")

	// Valid signature: 200 once durably spooled.
	r := ts.do(t, "POST", "/webhooks/whatsapp", "", body, signedHeaders(body))
	if r.StatusCode != http.StatusOK || r.Header.Get("X-Request-Id") == "" {
		t.Fatalf("valid signature: %d %s", r.StatusCode, readBody(t, r))
	}
	// Replayed body (Meta retries): acknowledged again, stored once.
	r = ts.do(t, "POST", "/webhooks/whatsapp", "", body, signedHeaders(body))
	if r.StatusCode != http.StatusOK {
		t.Fatalf("replayed body: %d", r.StatusCode)
	}

	// Missing and wrong signatures: 401, never stored.
	other := inboundBody(t, "wamid.sig-bad")
	for name, hdr := range map[string]map[string]string{
		"missing":        nil,
		"wrong secret":   {SignatureHeader: Sign("not-the-secret", other)},
		"other body":     {SignatureHeader: Sign(testAppSecret, body)},
		"no prefix":      {SignatureHeader: strings.TrimPrefix(Sign(testAppSecret, other), "sha256=")},
		"not hex":        {SignatureHeader: "sha256=zz"},
		"sha1 signature": {"X-Hub-Signature": "sha1=0000000000000000000000000000000000000000"},
	} {
		r := ts.do(t, "POST", "/webhooks/whatsapp", "", other, hdr)
		if r.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", name, r.StatusCode)
		}
	}
	ts.drain(t)
	if n := count(t, ts.st, `SELECT count(*) FROM messages WHERE message_id = 'wamid.sig-valid'`); n != 1 {
		t.Errorf("valid body sent twice: %d rows, want 1", n)
	}
	if n := count(t, ts.st, `SELECT count(*) FROM messages WHERE message_id = 'wamid.sig-bad'`); n != 0 {
		t.Errorf("unsigned bodies: %d rows stored, want 0", n)
	}
	if n := count(t, ts.st, `SELECT count(*) FROM rejects`); n != 0 {
		t.Errorf("%d rejects, want 0", n)
	}
	m := ts.metrics.webhooks
	if got := counterValue(t, m.WithLabelValues(EndpointWhatsApp, OutcomeAccepted)); got != 2 {
		t.Errorf("accepted = %v, want 2", got)
	}
	if got := counterValue(t, m.WithLabelValues(EndpointWhatsApp, OutcomeBadSignature)); got != 6 {
		t.Errorf("bad_signature = %v, want 6", got)
	}
	if got := counterValue(t, ts.metrics.duplicates); got != 1 {
		t.Errorf("duplicates = %v, want 1", got)
	}
	// The metrics endpoint shows the counts without authentication.
	r = ts.do(t, "GET", "/metrics", "", nil, nil)
	text := readBody(t, r)
	for _, want := range []string{
		`closedloop_webhook_requests_total{endpoint="whatsapp",outcome="bad_signature"} 6`,
		`closedloop_webhook_requests_total{endpoint="whatsapp",outcome="accepted"} 2`,
		`closedloop_ingested_rows_total{table="messages"} 1`,
		"closedloop_spool_lag_events 0", "closedloop_spool_lag_bytes 0",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestWebhookBodyLimit(t *testing.T) {
	ts := newTestServer(t, "", func(o *Options) { o.Config.Serve.MaxBodyBytes = 2048 })
	big := inboundBody(t, "wamid.big-"+strings.Repeat("x", 4096))
	r := ts.do(t, "POST", "/webhooks/whatsapp", "", big, signedHeaders(big))
	if r.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("large body: %d, want 413", r.StatusCode)
	}
	// Without a Content-Length (chunked), the limit applies while reading.
	req, _ := http.NewRequest("POST", ts.url+"/webhooks/whatsapp", io.MultiReader(strings.NewReader(string(big))))
	req.ContentLength = -1
	for k, v := range signedHeaders(big) {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked large body: %d, want 413", resp.StatusCode)
	}
	small := inboundBody(t, "wamid.small")
	if r := ts.do(t, "POST", "/webhooks/whatsapp", "", small, signedHeaders(small)); r.StatusCode != http.StatusOK {
		t.Fatalf("small body: %d", r.StatusCode)
	}
	ts.drain(t)
	if n := count(t, ts.st, `SELECT count(*) FROM messages`); n != 1 {
		t.Errorf("%d messages stored, want 1 (the small body)", n)
	}
	if got := counterValue(t, ts.metrics.webhooks.WithLabelValues(EndpointWhatsApp, OutcomeTooLarge)); got != 2 {
		t.Errorf("too_large = %v, want 2", got)
	}
}

func TestWhatsAppHandshake(t *testing.T) {
	ts := newTestServer(t, "")
	r := ts.do(t, "GET", "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token="+testVerifyToken+"&hub.challenge=1158201444", "", nil, nil)
	if b := readBody(t, r); r.StatusCode != 200 || b != "1158201444" {
		t.Errorf("handshake: %d %q, want 200 and the challenge", r.StatusCode, b)
	}
	for _, q := range []string{
		"hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1",
		"hub.mode=unsubscribe&hub.verify_token=" + testVerifyToken + "&hub.challenge=1",
		"hub.challenge=1",
	} {
		if r := ts.do(t, "GET", "/webhooks/whatsapp?"+q, "", nil, nil); r.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", q, r.StatusCode)
		}
	}
}

func TestWebhooksRefuseWithoutSecrets(t *testing.T) {
	ts := newTestServer(t, "", func(o *Options) { o.Getenv = func(string) string { return "" } })
	body := inboundBody(t, "wamid.nosecret")
	// An empty app secret must not make an empty-key HMAC acceptable.
	if r := ts.do(t, "POST", "/webhooks/whatsapp", "", body, map[string]string{SignatureHeader: Sign("", body)}); r.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("no app secret: %d, want 503", r.StatusCode)
	}
	if r := ts.do(t, "GET", "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=&hub.challenge=1", "", nil, nil); r.StatusCode != http.StatusForbidden {
		t.Errorf("no verify token: %d, want 403", r.StatusCode)
	}
	if r := ts.do(t, "POST", "/webhooks/chatwoot?token=", "", []byte(`{}`), nil); r.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("no chatwoot token: %d, want 503", r.StatusCode)
	}
}

func TestChatwootToken(t *testing.T) {
	ts := newTestServer(t, "")
	body := fixture(t, "chatwoot/docs_2022-03_samples/message_created.json")
	if r := ts.do(t, "POST", "/webhooks/chatwoot", "", body, nil); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: %d, want 401", r.StatusCode)
	}
	if r := ts.do(t, "POST", "/webhooks/chatwoot?token=wrong", "", body, nil); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong token: %d, want 401", r.StatusCode)
	}
	if r := ts.do(t, "POST", "/webhooks/chatwoot?token="+testCWToken, "", body, nil); r.StatusCode != http.StatusOK {
		t.Errorf("token in the query: %d, want 200", r.StatusCode)
	}
	if r := ts.do(t, "POST", "/webhooks/chatwoot", "", body, map[string]string{ChatwootTokenHeader: testCWToken}); r.StatusCode != http.StatusOK {
		t.Errorf("token in the header: %d, want 200", r.StatusCode)
	}
	// A body the collector cannot use is acknowledged (its sender is
	// genuine) and kept as a reject.
	if r := ts.do(t, "POST", "/webhooks/chatwoot?token="+testCWToken, "", []byte(`{"event": 42`), nil); r.StatusCode != http.StatusOK {
		t.Errorf("malformed body: %d, want 200", r.StatusCode)
	}
	ts.drain(t)
	if n := count(t, ts.st, `SELECT count(*) FROM messages WHERE source = 'chatwoot'`); n != 1 {
		t.Errorf("chatwoot message sent twice: %d rows, want 1", n)
	}
	if n := count(t, ts.st, `SELECT count(*) FROM rejects WHERE source_ref LIKE 'webhook:chatwoot:%'`); n != 1 {
		t.Errorf("%d rejects, want 1", n)
	}
	if got := counterValue(t, ts.metrics.webhooks.WithLabelValues(EndpointChatwoot, OutcomeBadSignature)); got != 2 {
		t.Errorf("chatwoot bad_signature = %v, want 2", got)
	}
}

func TestSignKnownVector(t *testing.T) {
	// RFC-style worked example of HMAC-SHA-256 (key "key").
	got := Sign("key", []byte("The quick brown fox jumps over the lazy dog"))
	if want := "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"; got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	body := []byte(`{"object":"whatsapp_business_account"}`)
	if !validSignature("k", Sign("k", body), body) || validSignature("k", Sign("k2", body), body) || validSignature("", Sign("", body), body) {
		t.Fatal("validSignature disagrees with Sign")
	}
	if !validSignature("k", "sha256="+strings.ToUpper(Sign("k", body)[7:]), body) {
		t.Fatal("upper-case hex must verify too")
	}
}
