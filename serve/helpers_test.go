package serve

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/closedloop/closedloop/audit"
	"github.com/closedloop/closedloop/config"
	"github.com/closedloop/closedloop/gen"
	"github.com/closedloop/closedloop/ingest"
	"github.com/closedloop/closedloop/pii"
	"github.com/closedloop/closedloop/store"
	"github.com/closedloop/closedloop/store/duckdb"
)

// Secrets and tokens of the test servers.
const (
	testAppSecret   = "test-app-secret"
	testVerifyToken = "test-verify-token"
	testCWToken     = "test-chatwoot-token"
	viewerToken     = "viewer-token-0123456789"
	analystToken    = "analyst-token-0123456789"
	complianceToken = "compliance-token-0123456789"
	adminToken      = "admin-token-0123456789"
)

var testPIIKey = []byte("serve-test-pii-key-0123456789abcdef")

func testEnv(name string) string {
	switch name {
	case config.DefaultMetaAppSecretEnv:
		return testAppSecret
	case config.DefaultMetaVerifyTokenEnv:
		return testVerifyToken
	case config.DefaultChatwootTokenEnv:
		return testCWToken
	}
	return ""
}

func testConfig() *config.Config {
	c := config.Default()
	c.Serve.Tokens = []config.Token{
		{Token: viewerToken, Role: config.RoleViewer},
		{Token: analystToken, Role: config.RoleAnalyst},
		{Token: complianceToken, Role: config.RoleCompliance},
		{Token: adminToken, Role: config.RoleAdmin},
	}
	return c
}

func testPseudo(t testing.TB) *pii.Pseudonymiser {
	p, err := pii.New(testPIIKey, false)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type testServer struct {
	*Server
	st  store.Store
	db  string
	url string
	hs  *httptest.Server
}

type serverOpt func(*Options)

// newTestServer opens a store (a copy of dbTemplate when given) and a
// server over it, serving on a loopback httptest server.
func newTestServer(t testing.TB, dbTemplate string, opts ...serverOpt) *testServer {
	t.Helper()
	dir := t.TempDir()
	db := filepath.Join(dir, "store.duckdb")
	if dbTemplate != "" {
		copyFile(t, dbTemplate, db)
	}
	st, err := duckdb.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	opt := Options{Store: st, Config: testConfig(), Pseudo: testPseudo(t), SpoolDir: filepath.Join(dir, "spool"),
		Getenv: testEnv, Log: io.Discard}
	for _, o := range opts {
		o(&opt)
	}
	srv, err := New(opt)
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	srv.Start()
	hs := httptest.NewServer(srv.Handler())
	ts := &testServer{Server: srv, st: st, db: db, url: hs.URL, hs: hs}
	t.Cleanup(func() {
		hs.Close()
		if err := srv.Close(); err != nil {
			t.Errorf("closing the server: %v", err)
		}
		st.Close()
	})
	return ts
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func withSigningKey(t testing.TB) serverOpt {
	_, priv, err := audit.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return func(o *Options) { o.SigningKey = ed25519.PrivateKey(priv) }
}

// request builds a request with optional bearer token.
func (ts *testServer) do(t testing.TB, method, path, token string, body []byte, hdr map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, ts.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func readBody(t testing.TB, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fixture reads a file of the real payloads.
func fixture(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "real", rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	inboundOnce sync.Once
	inboundTmpl []byte
)

// inboundBody is Meta's inbound text message (pywa fixture) with the
// message id replaced: one body, one messages row.
func inboundBody(t testing.TB, wamid string) []byte {
	inboundOnce.Do(func() { inboundTmpl = fixture(t, "whatsapp_cloud/pywa/inbound_text.json") })
	return bytes.Replace(inboundTmpl, []byte(`"wamid.xyzxyz"`), []byte(`"`+wamid+`"`), 1)
}

func signedHeaders(body []byte) map[string]string {
	return map[string]string{SignatureHeader: Sign(testAppSecret, body), "Content-Type": "application/json"}
}

// count runs a count(*) query.
func count(t testing.TB, st store.Store, q string, args ...any) int {
	t.Helper()
	var n int
	if err := st.DB().QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

var (
	genOnce sync.Once
	genDB   string
	genErr  error
)

// genEnd is the end of the simulated period of the dashboard tests.
var genEnd = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// generatedStore returns a DuckDB file holding a small simulated operation
// (made once per test binary; copy it before opening).
func generatedStore(t testing.TB) string {
	t.Helper()
	genOnce.Do(func() {
		dir, err := os.MkdirTemp("", "closedloop-serve-test-")
		if err != nil {
			genErr = err
			return
		}
		ctx := context.Background()
		out := filepath.Join(dir, "gen")
		if _, err := gen.Generate(ctx, gen.Options{Out: out, Cases: 400, Seed: 11, Weeks: 12, End: genEnd}); err != nil {
			genErr = err
			return
		}
		genDB = filepath.Join(dir, "gen.duckdb")
		st, err := duckdb.Open(ctx, genDB, store.Options{})
		if err != nil {
			genErr = err
			return
		}
		defer st.Close()
		_, genErr = ingest.Run(ctx, ingest.Options{Env: &ingest.Env{Pseudo: testPseudo(t), Now: genEnd}, Loader: st}, []string{out})
	})
	if genErr != nil {
		t.Fatalf("generating the test store: %v", genErr)
	}
	return genDB
}

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		os.Exit(runHelperServer())
	}
	code := m.Run()
	if genDB != "" {
		os.RemoveAll(filepath.Dir(genDB))
	}
	os.Exit(code)
}

func hasAny(s string, subs ...string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}
