package storetest

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/closedloop/closedloop/audit"
	"github.com/closedloop/closedloop/models"
)

func TestAuditLogAppendAndVerify(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	rep, err := audit.VerifyStore(ctx, f.st)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("fresh store: %v", rep.Problems)
	}
	if rep.Geneses != 2 || rep.Sources["closedloop"] != 3 || rep.Sources["canonical"] != 49 {
		t.Fatalf("want the gen chain and closedloop's own: %+v", rep)
	}
	own, err := audit.LoadLinks(ctx, f.st, "source = 'closedloop'")
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(own); i++ {
		if !own[i].TS.After(own[i-1].TS) || own[i].PrevHash != own[i-1].Hash {
			t.Fatalf("own links not strictly ordered and chained: %+v", own)
		}
	}

	// Alter one imported audit row in the store: audit verify names it.
	if _, err := f.st.DB().ExecContext(ctx, `UPDATE audit_events SET details = '{"queue":"vip","reason":"identity_failed"}' WHERE audit_id = 'AUD-00000012'`); err != nil {
		t.Fatal(err)
	}
	rep, _ = audit.VerifyStore(ctx, f.st)
	if len(rep.Problems) != 1 {
		t.Fatalf("want one broken link, got %v", rep.Problems)
	}
	p := rep.Problems[0]
	if p.Link.AuditID != "AUD-00000012" || p.Kind != audit.ChainContent || p.Expected == p.Stored {
		t.Fatalf("named %+v", p)
	}
	if s := p.String(); !strings.Contains(s, "AUD-00000012") || !strings.Contains(s, "content changed") {
		t.Fatal(s)
	}

	// Delete one of closedloop's own links: the next one is named.
	if _, err := f.st.DB().ExecContext(ctx, `DELETE FROM audit_events WHERE audit_id = ?`, own[1].AuditID); err != nil {
		t.Fatal(err)
	}
	rep, _ = audit.VerifyStore(ctx, f.st)
	if len(rep.Problems) != 2 || rep.Problems[1].Link.AuditID != own[2].AuditID || rep.Problems[1].Kind != audit.ChainPrevHash || rep.Problems[1].Expected != own[0].Hash {
		t.Fatalf("deleted link: %v", rep.Problems)
	}
}

func TestExportRoundTrip(t *testing.T) {
	f := newFixture(t)
	for _, sc := range []audit.Scope{caseScope, periodScope(), {Kind: audit.ScopeCustomer, CustomerID: custB}} {
		b, res := f.export(t, sc)
		r, out := verify(t, b, audit.VerifyOptions{PublicKey: f.pub})
		if !r.Intact() {
			t.Fatalf("%s: fresh bundle does not verify:\n%s", sc, out)
		}
		if !strings.Contains(out, "RESULT: INTACT") {
			t.Fatal(out)
		}
		m := res.Manifest
		files := unzip(t, b)
		switch sc.Kind {
		case audit.ScopeCase:
			// The case's own events, its customer's consent, the template
			// its messages used, the audit link naming it.
			want := map[string]int{"case_events": 3, "messages": 2, "message_statuses": 1, "writebacks": 1, "actions": 1,
				"consent_events": 1, "template_events": 1, "audit_events": 1}
			for _, ti := range m.Tables {
				if ti.Rows != want[ti.Table] {
					t.Errorf("case scope %s: %d rows, want %d", ti.Table, ti.Rows, want[ti.Table])
				}
			}
			if m.AuditChain.Links != 1 || m.AuditChain.InScope != 1 || len(m.AuditChain.Entries) != 1 {
				t.Errorf("audit segment %+v", m.AuditChain)
			}
			if bytes.Contains(files["events/messages.csv"], []byte("WF-0000003")) {
				t.Error("another case leaked into the case bundle")
			}
		case audit.ScopePeriod:
			// AUD-00000011..15 fall on 17 February: a contiguous segment.
			if m.Tombstones == nil || m.AuditChain.Links != 5 || m.AuditChain.InScope != 5 || m.AuditChain.Entries[0] == "" {
				t.Errorf("period: %+v %+v", m.Tombstones, m.AuditChain)
			}
		}
		if m.KPIs.Available || !strings.Contains(string(files["kpis.json"]), "not available") && sc.Kind == audit.ScopePeriod {
			t.Errorf("kpis: %s", files["kpis.json"])
		}
		// The export itself is in the audit log, and the log still verifies.
		if res.Link.Action != "evidence.export" || !strings.Contains(res.Link.Details, res.Manifest.Merkle.Root) {
			t.Fatalf("export not audited: %+v", res.Link)
		}
	}
	rep, _ := audit.VerifyStore(context.Background(), f.st)
	if !rep.OK() {
		t.Fatal(rep.Problems)
	}
	// --reveal adds the customer ids in scope.
	var rb bytes.Buffer
	if _, err := audit.Export(context.Background(), f.st, &rb, audit.ExportOptions{Scope: caseScope, Key: f.key, Reveal: true, Actor: "tester", Role: "compliance"}); err != nil {
		t.Fatal(err)
	}
	rz := unzip(t, rb.Bytes())
	if !bytes.Contains(rz["reveal.json"], []byte(custA)) || bytes.Contains(rz["reveal.json"], []byte(custB)) {
		t.Fatalf("reveal.json: %s", rz["reveal.json"])
	}
	if r, out := verify(t, rb.Bytes(), audit.VerifyOptions{PublicKey: f.pub}); !r.Intact() {
		t.Fatal(out)
	}
	// The Parquet files hold the CSV rows in the same order.
	b, _ := f.export(t, periodScope())
	files := unzip(t, b)
	pq := filepath.Join(f.dir, "msg.parquet")
	os.WriteFile(pq, files["events/messages.parquet"], 0o644)
	rows, err := f.st.DB().Query("SELECT event_id, ts FROM read_parquet('" + pq + "')")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for rows.Next() {
		var id string
		var ts time.Time
		rows.Scan(&id, &ts)
		ids = append(ids, id)
	}
	rows.Close()
	var csvIDs []string
	for _, line := range strings.Split(strings.TrimSpace(string(files["events/messages.csv"])), "\n")[1:] {
		csvIDs = append(csvIDs, strings.SplitN(line, ",", 2)[0])
	}
	if strings.Join(ids, ",") != strings.Join(csvIDs, ",") || len(ids) != 4 {
		t.Fatalf("parquet %v, csv %v", ids, csvIDs)
	}
}

func TestExportIsDeterministic(t *testing.T) {
	f := newFixture(t)
	for _, sc := range []audit.Scope{caseScope, periodScope()} {
		b1, r1 := f.export(t, sc)
		time.Sleep(5 * time.Millisecond)
		b2, r2 := f.export(t, sc)
		signedAt := regexp.MustCompile(`(?m)^  "signed_at": ".*"\n`)
		m1 := signedAt.ReplaceAll(r1.ManifestJSON, nil)
		m2 := signedAt.ReplaceAll(r2.ManifestJSON, nil)
		if !bytes.Equal(m1, m2) {
			t.Fatalf("%s: manifests differ beyond signed_at:\n%s\n---\n%s", sc, r1.ManifestJSON, r2.ManifestJSON)
		}
		if r1.Manifest.SignedAt == r2.Manifest.SignedAt {
			t.Fatal("signed_at should be the signing time")
		}
		z1, z2 := unzip(t, b1), unzip(t, b2)
		for name, data := range z1 {
			if name == "manifest.json" || name == "manifest.sig" {
				continue
			}
			if !bytes.Equal(data, z2[name]) {
				t.Errorf("%s: %s differs between two exports", sc, name)
			}
		}
	}
}

func TestReadmeStepsWorkByHand(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not installed")
	}
	f := newFixture(t)
	b, _ := f.export(t, caseScope)
	dir := filepath.Join(f.dir, "bundle")
	for name, data := range unzip(t, b) {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, data, 0o644)
	}
	readme, _ := os.ReadFile(filepath.Join(dir, "README.txt"))
	scripts := regexp.MustCompile(`(?s)python3 - <<'EOF'\n(.*?)\nEOF\n`).FindAllStringSubmatch(string(readme), -1)
	if len(scripts) != 2 {
		t.Fatalf("README has %d python scripts", len(scripts))
	}
	for i, s := range scripts {
		cmd := exec.Command("python3", "-")
		cmd.Dir = dir
		cmd.Stdin = strings.NewReader(s[1])
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "OK") || strings.Contains(string(out), "MISMATCH") || strings.Contains(string(out), "ALTERED") {
			t.Fatalf("README script %d: %v\n%s", i+1, err, out)
		}
	}
	if _, err := exec.LookPath("openssl"); err == nil {
		cmd := exec.Command("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "signing_key.pub", "-rawin", "-in", "manifest.json", "-sigfile", "manifest.sig")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Signature Verified Successfully") {
			t.Fatalf("openssl: %v %s", err, out)
		}
		cmd = exec.Command("sh", "-c", "openssl pkey -pubin -in signing_key.pub -outform DER | tail -c 32 | sha256sum")
		cmd.Dir = dir
		out, _ = cmd.Output()
		var m audit.Manifest
		mb, _ := os.ReadFile(filepath.Join(dir, "manifest.json"))
		json.Unmarshal(mb, &m)
		if !strings.HasPrefix(string(out), m.Signature.PublicKeySHA256) {
			t.Fatalf("fingerprint %s vs %s", out, m.Signature.PublicKeySHA256)
		}
	}
	cmd := exec.Command("sh", "-c", `python3 -c 'import json; [print(f["sha256"] + "  " + f["path"]) for f in json.load(open("manifest.json"))["files"]]' > SHA256SUMS && sha256sum -c SHA256SUMS`)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sha256sum: %v\n%s", err, out)
	}
}

func TestRetentionLeavesTombstones(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	before, _ := f.export(t, periodScope())
	leaves := map[string]string{}
	for _, line := range strings.Split(string(unzip(t, before)["merkle/leaves.csv"]), "\n")[1:] {
		if c := strings.Split(line, ","); len(c) == 4 {
			leaves[c[1]+"/"+c[2]] = c[3]
		}
	}
	var auditBefore int
	f.st.DB().QueryRow("SELECT count(*) FROM audit_events").Scan(&auditBefore)

	cutoff := time.Date(2026, 2, 17, 8, 0, 0, 0, time.UTC)
	dry, err := audit.ApplyRetention(ctx, f.st, audit.RetentionOptions{Cutoff: cutoff, DryRun: true})
	if err != nil || dry.Total == 0 {
		t.Fatalf("dry run %+v %v", dry, err)
	}
	res, err := audit.ApplyRetention(ctx, f.st, audit.RetentionOptions{Cutoff: cutoff, MaxAge: "test", Actor: "tester", Role: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != dry.Total || res.Deleted[models.TableCaseEvents] != 1 || res.Deleted[models.TableConsentEvents] != 2 || res.Deleted[models.TableTemplateEvents] != 1 {
		t.Fatalf("deleted %+v (dry %+v)", res.Deleted, dry.Deleted)
	}
	var stones int
	f.st.DB().QueryRow("SELECT count(*) FROM tombstones").Scan(&stones)
	if stones != res.Total {
		t.Fatalf("%d tombstones for %d deletions", stones, res.Total)
	}
	// The tombstone of a deleted event carries the leaf an earlier bundle signed.
	var leaf string
	var ts sql.NullTime
	if err := f.st.DB().QueryRow("SELECT leaf_hash, ts FROM tombstones WHERE event_id = 'WF-0000002-open'").Scan(&leaf, &ts); err != nil {
		t.Fatal(err)
	}
	if leaf != leaves["case_events/WF-0000002-open"] || !ts.Valid {
		t.Fatalf("tombstone leaf %s, bundle leaf %s", leaf, leaves["case_events/WF-0000002-open"])
	}
	var n, auditAfter int
	f.st.DB().QueryRow("SELECT count(*) FROM case_events WHERE ts < ?", cutoff).Scan(&n)
	f.st.DB().QueryRow("SELECT count(*) FROM audit_events").Scan(&auditAfter)
	if n != 0 || auditAfter != auditBefore+1 {
		t.Fatalf("left %d old case events; audit rows %d -> %d (want only the retention record added)", n, auditBefore, auditAfter)
	}
	rep, _ := audit.VerifyStore(ctx, f.st)
	if !rep.OK() {
		t.Fatal(rep.Problems)
	}
	// The old bundle still verifies offline; a new one of the period lists the tombstones.
	if r, out := verify(t, before, audit.VerifyOptions{PublicKey: f.pub}); !r.Intact() {
		t.Fatal(out)
	}
	after, res2 := f.export(t, periodScope())
	// WF-0000002's events before 08:00 on the 17th (opened, two messages, a
	// status, an action); the rest of the deleted rows lie outside the period.
	if res2.Manifest.Tombstones.Rows != 5 {
		t.Fatalf("tombstones in period: %+v", res2.Manifest.Tombstones)
	}
	if !bytes.Contains(unzip(t, after)["tombstones.csv"], []byte(leaf)) {
		t.Fatal("tombstone leaf not in the new bundle")
	}
}
