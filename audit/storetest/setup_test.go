package storetest

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/closedloop/closedloop/audit"
	"github.com/closedloop/closedloop/models"
	"github.com/closedloop/closedloop/store"
	"github.com/closedloop/closedloop/store/duckdb"
)

const (
	custA = "c_0123456789abcdef0123456789abcdef"
	custB = "c_fedcba9876543210fedcba9876543210"
)

func meta(m *models.Meta, id string, ts time.Time) {
	m.EventID = id
	m.Source = "test"
	m.SourceRef = "setup:" + id
	m.IngestedAt = ts.Add(time.Hour)
}

func at(day, hh, mm int) time.Time { return time.Date(2026, 2, day, hh, mm, 0, 0, time.UTC) }

// caseRecords makes the events of one workflow case on 17 February.
func caseRecords(caseID, cust string, h int) []models.Record {
	var out []models.Record
	add := func(r models.Record) { out = append(out, r) }
	ev := func(id, event string, ts time.Time, reason string) {
		c := &models.CaseEvent{CaseID: caseID, CustomerID: cust, Event: event, TS: ts, Queue: "documents", Workflow: "document_collection", Actor: "bot", Reason: reason}
		meta(&c.Meta, caseID+"-"+id, ts)
		add(c)
	}
	ev("open", "opened", at(17, h, 50), "")
	ev("hand", "handover", at(17, h+1, 0), "identity_failed")
	ev("res", "resolved", at(17, h+2, 0), "")
	m := &models.Message{MessageID: "wamid." + caseID + "-1", CaseID: caseID, CustomerID: cust, Direction: "outbound", SenderType: "system",
		Kind: "template", TemplateName: "document_request_v4", Channel: "whatsapp", BusinessNumber: "1065", TS: at(17, h, 55)}
	meta(&m.Meta, caseID+"-m1", m.TS)
	add(m)
	m2 := &models.Message{MessageID: "wamid." + caseID + "-2", CaseID: caseID, CustomerID: cust, Direction: "inbound", SenderType: "customer",
		Kind: "text", Channel: "whatsapp", TS: at(17, h, 58)}
	meta(&m2.Meta, caseID+"-m2", m2.TS)
	add(m2)
	yes := true
	s := &models.MessageStatus{MessageID: m.MessageID, Status: "delivered", TS: at(17, h, 56), PricingCategory: "utility", Billable: &yes, Channel: "whatsapp", CustomerID: cust}
	meta(&s.Meta, caseID+"-s1", s.TS)
	add(s)
	w := &models.Writeback{WritebackID: "WB-" + caseID, CaseID: caseID, Workflow: "document_collection", TargetSystem: "crm", Action: "attach, \"doc\"",
		IdempotencyKey: "k-" + caseID, Attempt: 1, Status: "failed", TS: at(17, h+1, 30), Error: "timeout\nretry later"}
	meta(&w.Meta, caseID+"-w1", w.TS)
	add(w)
	a := &models.Action{CaseID: caseID, CustomerID: cust, Workflow: "document_collection", Step: "identity_failed", Channel: "whatsapp", TS: at(17, h, 59)}
	meta(&a.Meta, caseID+"-a1", a.TS)
	add(a)
	c := &models.ConsentEvent{CustomerID: cust, Channel: "whatsapp", Status: "opt_in", TS: at(10, 9, 0), ConsentSource: "web_form"}
	meta(&c.Meta, caseID+"-c1", c.TS)
	add(c)
	return out
}

// genAudit loads testdata/gen_audit.jsonl (a chain written by package gen)
// as the canonical collector stores it.
func genAudit(t *testing.T) []models.Record {
	t.Helper()
	f, err := os.Open("../testdata/gen_audit.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []models.Record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
			t.Fatal(err)
		}
		s := func(k string) string {
			var v string
			_ = json.Unmarshal(raw[k], &v)
			return v
		}
		ts, err := time.Parse(time.RFC3339Nano, s("ts"))
		if err != nil {
			t.Fatal(err)
		}
		var det bytes.Buffer
		if err := json.Compact(&det, raw["details"]); err != nil {
			t.Fatal(err)
		}
		a := &models.AuditEvent{AuditID: s("audit_id"), TS: ts, Actor: s("actor"), ActorRole: s("actor_role"), Action: s("action"),
			ObjectType: s("object_type"), ObjectID: s("object_id"), Details: det.String(), PrevHash: s("prev_hash"), Hash: s("hash")}
		a.EventID = models.HashID("audit_events", a.AuditID, a.Hash)
		a.Source = "canonical"
		a.SourceRef = "gen_audit.jsonl"
		a.IngestedAt = time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)
		out = append(out, a)
	}
	return out
}

type fixture struct {
	st   *duckdb.Store
	path string
	key  ed25519.PrivateKey
	pub  ed25519.PublicKey
	dir  string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "store.duckdb")
	st, err := duckdb.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	recs := append(caseRecords("WF-0000002", custA, 7), caseRecords("WF-0000003", custB, 9)...)
	tpl := &models.TemplateEvent{TemplateName: "document_request_v4", Status: "approved", TS: at(1, 12, 0), Actor: "meta"}
	meta(&tpl.Meta, "tpl-1", tpl.TS)
	recs = append(recs, tpl)
	recs = append(recs, genAudit(t)...)
	if _, err := st.Load(ctx, recs); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := audit.Append(ctx, st, "tester", "system", "ingest.run", "file", "setup", map[string]any{"ingested": 40 + i}); err != nil {
			t.Fatal(err)
		}
	}
	pub, priv, err := audit.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{st: st, path: path, key: priv, pub: pub, dir: dir}
}

func (f *fixture) export(t *testing.T, scope audit.Scope) ([]byte, *audit.ExportResult) {
	t.Helper()
	var buf bytes.Buffer
	res, err := audit.Export(context.Background(), f.st, &buf, audit.ExportOptions{Scope: scope, Key: f.key, Actor: "tester", Role: "compliance", Output: "bundle.zip", TempDir: f.dir})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), res
}

var caseScope = audit.Scope{Kind: audit.ScopeCase, CaseID: "WF-0000002"}

func periodScope() audit.Scope {
	return audit.PeriodScope(time.Date(2026, 2, 17, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 18, 0, 0, 0, 0, time.UTC))
}

// unzip reads a bundle into name → bytes.
func unzip(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		out[f.Name] = data
	}
	return out
}

// rezip writes files back into a zip (sorted names).
func rezip(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var names []string
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(files[n])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func verify(t *testing.T, b []byte, opt audit.VerifyOptions) (*audit.VerifyResult, string) {
	t.Helper()
	r, err := audit.VerifyBundle(bytes.NewReader(b), int64(len(b)), opt)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	r.WriteReport(&out, "bundle.zip")
	return r, out.String()
}
