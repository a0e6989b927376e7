package serve

import (
	"archive/zip"
	"bytes"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/closedloop/closedloop/audit"
)

func TestOperationalEndpointsNeedNoAuth(t *testing.T) {
	ts := newTestServer(t, "")
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		if r := ts.do(t, "GET", p, "", nil, nil); r.StatusCode != http.StatusOK {
			t.Errorf("%s: %d %s", p, r.StatusCode, readBody(t, r))
		}
	}
}

func TestDashboardNeedsAuth(t *testing.T) {
	ts := newTestServer(t, "")
	for _, p := range []string{"/", "/kpi/agent_handover_rate", "/case/WF-1", "/pack/latest", "/evidence", "/assets/dashboard.css", "/assets/echarts.min.js", "/nowhere"} {
		r := ts.do(t, "GET", p, "", nil, nil)
		if r.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s without a token: %d, want 401 with WWW-Authenticate", p, r.StatusCode)
		}
		// A browser is sent to the login form instead.
		r = ts.do(t, "GET", p, "", nil, map[string]string{"Accept": "text/html,application/xhtml+xml"})
		if loc := r.Header.Get("Location"); r.StatusCode != http.StatusSeeOther || loc != "/login?next="+url.QueryEscape(p) {
			t.Errorf("%s from a browser: %d %q, want 303 to the login form", p, r.StatusCode, loc)
		}
		if r := ts.do(t, "GET", p, "wrong-token-0123456789", nil, nil); r.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s with a wrong token: %d, want 401", p, r.StatusCode)
		}
	}
	if r := ts.do(t, "POST", "/evidence", "", []byte("case=WF-1"), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST /evidence without a token: %d", r.StatusCode)
	}
	// The empty store still gives an (empty) dashboard to a token holder.
	r := ts.do(t, "GET", "/", viewerToken, nil, nil)
	if b := readBody(t, r); r.StatusCode != 200 || !strings.Contains(b, `id="empty"`) {
		t.Errorf("empty dashboard: %d", r.StatusCode)
	}
	if r := ts.do(t, "GET", "/assets/echarts.min.js", viewerToken, nil, nil); r.StatusCode != 200 {
		t.Errorf("echarts asset: %d", r.StatusCode)
	}
}

func TestEvidenceNeedsComplianceRole(t *testing.T) {
	ts := newTestServer(t, generatedStore(t), withSigningKey(t))
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	for _, tok := range []string{viewerToken, analystToken} {
		if r := ts.do(t, "GET", "/evidence", tok, nil, nil); r.StatusCode != http.StatusForbidden {
			t.Errorf("GET /evidence as %s: %d, want 403", tok, r.StatusCode)
		}
		if r := ts.do(t, "POST", "/evidence", tok, []byte("case=WF-0000001"), form); r.StatusCode != http.StatusForbidden {
			t.Errorf("POST /evidence as %s: %d, want 403", tok, r.StatusCode)
		}
	}
	caseID := anyCase(t, ts)
	for _, tok := range []string{complianceToken, adminToken} {
		r := ts.do(t, "POST", "/evidence", tok, []byte("case="+url.QueryEscape(caseID)), form)
		b := readBody(t, r)
		if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/zip" {
			t.Fatalf("POST /evidence as %s: %d %s", tok, r.StatusCode, b)
		}
		res, err := audit.VerifyBundle(bytes.NewReader([]byte(b)), int64(len(b)), audit.VerifyOptions{})
		if err != nil || !res.Intact() {
			t.Fatalf("the bundle does not verify: %v %+v", err, res.Problems())
		}
	}
	// A period bundle.
	r := ts.do(t, "POST", "/evidence", complianceToken, []byte("from=2026-02-16&to=2026-02-23"), form)
	if b := readBody(t, r); r.StatusCode != 200 {
		t.Fatalf("period bundle: %d %s", r.StatusCode, b)
	} else if _, err := zip.NewReader(bytes.NewReader([]byte(b)), int64(len(b))); err != nil {
		t.Fatal(err)
	}
	if r := ts.do(t, "POST", "/evidence", complianceToken, []byte("case=NO-SUCH-CASE"), form); r.StatusCode != http.StatusNotFound {
		t.Errorf("unknown case: %d, want 404", r.StatusCode)
	}
	if n := count(t, ts.st, `SELECT count(*) FROM audit_events WHERE action = 'evidence.export' AND actor = 'token:tokens[2]' AND actor_role = 'compliance'`); n != 2 {
		t.Errorf("%d evidence.export records by the compliance token, want 2", n)
	}
}

func anyCase(t *testing.T, ts *testServer) string {
	t.Helper()
	var id string
	if err := ts.st.DB().QueryRow(`SELECT case_id FROM case_events WHERE case_id LIKE 'WF-%' ORDER BY case_id LIMIT 1`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestLoginSessionAndCSRF(t *testing.T) {
	ts := newTestServer(t, "", withSigningKey(t))
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"}
	r := ts.do(t, "GET", "/login?next=/kpi/x", "", nil, nil)
	if b := readBody(t, r); r.StatusCode != 200 || !strings.Contains(b, `name="next" value="/kpi/x"`) {
		t.Fatalf("login form: %d", r.StatusCode)
	}
	if r := ts.do(t, "POST", "/login", "", []byte("token=nope&next=/"), form); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong token: %d, want 401", r.StatusCode)
	}
	// An open redirect is refused: next stays on this site.
	r = ts.do(t, "POST", "/login", "", []byte("token="+complianceToken+"&next=//evil.example/"), form)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		t.Fatalf("login: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, c := range r.Cookies() {
		if c.Name == SessionCookie {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode {
		t.Fatalf("session cookie: %+v", session)
	}
	cookie := map[string]string{"Cookie": SessionCookie + "=" + session.Value, "Accept": "text/html"}
	r = ts.do(t, "GET", "/evidence", "", nil, cookie)
	page := readBody(t, r)
	if r.StatusCode != 200 {
		t.Fatalf("evidence form with the session: %d", r.StatusCode)
	}
	csrf := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindStringSubmatch(page)
	if csrf == nil {
		t.Fatal("the form carries no CSRF token")
	}
	post := map[string]string{"Cookie": cookie["Cookie"], "Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"}
	if r := ts.do(t, "POST", "/evidence", "", []byte("case=X"), post); r.StatusCode != http.StatusForbidden {
		t.Errorf("cookie POST without CSRF token: %d, want 403", r.StatusCode)
	}
	if r := ts.do(t, "POST", "/evidence", "", []byte("case=X&csrf="+strings.Repeat("0", 32)), post); r.StatusCode != http.StatusForbidden {
		t.Errorf("cookie POST with a wrong CSRF token: %d, want 403", r.StatusCode)
	}
	// A tampered cookie is no session.
	bad := session.Value[:len(session.Value)-2] + "AA"
	if r := ts.do(t, "GET", "/", "", nil, map[string]string{"Cookie": SessionCookie + "=" + bad}); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("tampered cookie: %d, want 401", r.StatusCode)
	}
	// A cookie signed by another process (another key) is no session either.
	other := newTestServer(t, "")
	if r := other.do(t, "GET", "/", "", nil, map[string]string{"Cookie": SessionCookie + "=" + session.Value}); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("cookie of another process: %d, want 401", r.StatusCode)
	}
	// Logging out clears the cookie.
	r = ts.do(t, "POST", "/logout", "", []byte("csrf="+csrf[1]), post)
	if r.StatusCode != http.StatusSeeOther {
		t.Errorf("logout: %d", r.StatusCode)
	}
	cleared := false
	for _, c := range r.Cookies() {
		cleared = cleared || (c.Name == SessionCookie && c.MaxAge < 0)
	}
	if !cleared {
		t.Error("logout did not clear the session cookie")
	}
}

func TestCasePageIsAuditedAndMasked(t *testing.T) {
	ts := newTestServer(t, generatedStore(t))
	var caseID, customer string
	if err := ts.st.DB().QueryRow(`SELECT case_id, customer_id FROM messages WHERE case_id IS NOT NULL AND customer_id LIKE 'c_%' ORDER BY case_id LIMIT 1`).Scan(&caseID, &customer); err != nil {
		t.Fatal(err)
	}
	path := "/case/" + url.PathEscape(caseID)
	r := ts.do(t, "GET", path, viewerToken, nil, nil)
	b := readBody(t, r)
	if r.StatusCode != 200 || !strings.Contains(b, `id="timeline"`) {
		t.Fatalf("case page: %d", r.StatusCode)
	}
	if strings.Contains(b, customer) || !strings.Contains(b, maskID(customer)) {
		t.Error("the viewer sees the full pseudonym")
	}
	if hasAny(b, "wamid.HBg") {
		t.Error("the viewer sees full WhatsApp message ids")
	}
	r = ts.do(t, "GET", path, analystToken, nil, nil)
	if b := readBody(t, r); !strings.Contains(b, customer) {
		t.Error("the analyst does not see the pseudonym")
	}
	if n := count(t, ts.st, `SELECT count(*) FROM audit_events WHERE action = 'case.view' AND object_id = ?`, caseID); n != 2 {
		t.Errorf("%d case.view records, want 2", n)
	}
	if n := count(t, ts.st, `SELECT count(*) FROM audit_events WHERE action = 'case.view' AND actor = 'token:tokens[0]' AND actor_role = 'viewer'`); n != 1 {
		t.Errorf("the viewer's case view is not recorded with its token and role (%d)", n)
	}
	// The audit chain stays whole.
	rep, err := audit.VerifyStore(t.Context(), ts.st)
	if err != nil || !rep.OK() {
		t.Fatalf("audit chain: %v %+v", err, rep.Problems)
	}
	if r := ts.do(t, "GET", "/case/NO-SUCH-CASE", viewerToken, nil, nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("unknown case: %d, want 404", r.StatusCode)
	}
}

func TestPackDownloadIsAudited(t *testing.T) {
	ts := newTestServer(t, generatedStore(t))
	r := ts.do(t, "GET", "/pack/latest", viewerToken, nil, nil)
	b := readBody(t, r)
	if r.StatusCode != 200 || !strings.Contains(r.Header.Get("Content-Disposition"), "closedloop-pack-2026-W08.html") || !strings.Contains(b, "Weekly governance pack 2026-W08") {
		t.Fatalf("pack download: %d %q", r.StatusCode, r.Header.Get("Content-Disposition"))
	}
	r = ts.do(t, "GET", "/pack/latest?format=zip", viewerToken, nil, nil)
	z := readBody(t, r)
	zr, err := zip.NewReader(strings.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatalf("pack zip: %d %v", r.StatusCode, err)
	}
	names := map[string]bool{}
	for _, f := range zr.File {
		names[f.Name] = true
	}
	if !names["closedloop-pack-2026-W08/pack.html"] || !names["closedloop-pack-2026-W08/figures.csv"] {
		t.Errorf("zip holds %v", names)
	}
	if n := count(t, ts.st, `SELECT count(*) FROM audit_events WHERE action = 'pack.download' AND object_id = '2026-W08'`); n != 2 {
		t.Errorf("%d pack.download records, want 2", n)
	}
}
