package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/closedloop/closedloop/models"
	"github.com/closedloop/closedloop/pii"
	"github.com/closedloop/closedloop/store"
)

// Figure is one KPI value with the exact SQL and definition version that
// produced it.
type Figure struct {
	KPI         string   `json:"kpi"`
	Version     string   `json:"version"` // definition version
	Group       string   `json:"group,omitempty"`
	Numerator   float64  `json:"numerator"`
	Denominator *float64 `json:"denominator"` // nil for KPIs without one
	Value       *float64 `json:"value"`       // nil when undefined (denominator zero)
	Unit        string   `json:"unit,omitempty"`
	Definition  string   `json:"definition,omitempty"`
	SQL         string   `json:"sql"`
	SQLSHA256   string   `json:"sql_sha256"` // hex sha256 of SQL; filled by Export when empty
}

// FigureSource computes the KPI figures of a period [from, to).
type FigureSource interface {
	Figures(ctx context.Context, st store.Store, from, to time.Time) ([]Figure, error)
}

// ExportOptions configure an evidence bundle.
type ExportOptions struct {
	Scope   Scope              // kind and period instants (From/To in TimeFormat) or id
	Key     ed25519.PrivateKey // signs manifest.json
	Figures FigureSource       // nil: kpis.json says the figures are not available
	Reveal  bool               // add reveal.json (the caller checked the role)
	Actor   string             // recorded in the audit log
	Role    string
	Output  string // the bundle's name, recorded in the audit log
	TempDir string // for the Parquet files ("" = the system's)
	// Now is the signing clock (signed_at); default time.Now.
	Now func() time.Time
}

// ExportResult describes a written bundle.
type ExportResult struct {
	Manifest     *Manifest
	ManifestJSON []byte
	Link         Link // the evidence.export record in the audit log
}

// exportTables are the event tables of a bundle, by name.
func exportTables() []models.Table {
	ts := append([]models.Table(nil), models.EventTables...)
	sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
	return ts
}

// Export writes the evidence bundle of opt.Scope to w and records the
// export in the audit log. The bundle is built in memory (Parquet files in
// a temporary directory) and written only when complete.
func Export(ctx context.Context, st store.Store, w io.Writer, opt ExportOptions) (*ExportResult, error) {
	if st.Dialect() != "duckdb" {
		return nil, fmt.Errorf("evidence export supports the DuckDB store for now (this store is %s)", st.Dialect())
	}
	if len(opt.Key) != ed25519.PrivateKeySize {
		return nil, errors.New("evidence export needs an Ed25519 signing key")
	}
	clock := opt.Now
	if clock == nil {
		clock = time.Now
	}
	sc, err := resolveScope(ctx, st.DB(), opt.Scope)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(opt.TempDir, "closedloop-evidence-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	files := map[string][]byte{}
	m := &Manifest{Format: BundleFormat, Tool: "closedloop", ToolVersion: Version(), Scope: opt.Scope, Reveal: opt.Reveal,
		Tables: []TableInfo{}, Files: []FileInfo{}}
	var leaves []Hash
	leavesCSV := newCSVWriter()
	leavesCSV.write([]string{"leaf_index", "table", "event_id", "leaf_sha256"})
	customers := map[string]bool{}
	inScopeAudit := map[string]bool{}
	for _, t := range exportTables() {
		cols := models.Columns[t]
		pred := sc.where[t]
		cells, err := queryCells(ctx, st.DB(), fmt.Sprintf("SELECT %s FROM %s WHERE %s", strings.Join(cols, ", "), t, pred), len(cols))
		if err != nil {
			return nil, fmt.Errorf("exporting %s: %w", t, err)
		}
		tsCol, idCol, ingCol, custCol := indexOf(cols, "ts"), indexOf(cols, "event_id"), indexOf(cols, "ingested_at"), indexOf(cols, "customer_id")
		sort.SliceStable(cells, func(i, j int) bool {
			a, b := cells[i], cells[j]
			if a[tsCol] != b[tsCol] {
				return a[tsCol] < b[tsCol]
			}
			return a[idCol] < b[idCol]
		})
		cw := newCSVWriter()
		cw.write(cols)
		for _, row := range cells {
			cw.write(row)
			leaf, err := RowLeaf(string(t), cols, row)
			if err != nil {
				return nil, err
			}
			leavesCSV.write([]string{fmt.Sprint(len(leaves)), string(t), row[idCol], leaf.String()})
			leaves = append(leaves, leaf)
			if row[ingCol] > m.AsOf {
				m.AsOf = row[ingCol]
			}
			if custCol >= 0 && row[custCol] != "" {
				customers[row[custCol]] = true
			}
			if t == models.TableAuditEvents {
				inScopeAudit[row[idCol]] = true
			}
		}
		csvPath := "events/" + string(t) + ".csv"
		if files[csvPath], err = cw.bytes(); err != nil {
			return nil, err
		}
		pqPath := "events/" + string(t) + ".parquet"
		if files[pqPath], err = exportParquet(ctx, st.DB(), tmp, t, cols, pred, len(cells)); err != nil {
			return nil, err
		}
		m.Tables = append(m.Tables, TableInfo{Table: string(t), Rows: len(cells), CSV: csvPath, Parquet: pqPath, Columns: cols})
	}
	var err2 error
	if files[LeavesFile], err2 = leavesCSV.bytes(); err2 != nil {
		return nil, err2
	}
	m.Merkle = MerkleInfo{Leaves: len(leaves), Root: MerkleRoot(leaves).String(), LeavesFile: LeavesFile,
		Leaf: LeafRule, Node: NodeRule, Order: LeafOrder}

	// The audit-chain segment: from the first in-scope link to the last.
	seg, err := chainSegment(ctx, st, sc.where[models.TableAuditEvents], inScopeAudit)
	if err != nil {
		return nil, err
	}
	rep := WalkChain(seg, true)
	if !rep.OK() {
		return nil, fmt.Errorf("the audit chain is broken inside the scope (%s); run closedloop audit verify", rep.Problems[0])
	}
	var segBuf bytes.Buffer
	for _, l := range seg {
		line, err := chainSegmentLine(l)
		if err != nil {
			return nil, err
		}
		segBuf.Write(line)
		segBuf.WriteByte('\n')
	}
	files[ChainFile] = segBuf.Bytes()
	m.AuditChain = ChainInfo{File: ChainFile, Links: len(seg), InScope: len(inScopeAudit), Entries: nonNil(rep.Entries),
		Heads: nonNil(rep.Heads), Rule: ChainRule}
	if len(seg) > 0 {
		m.AuditChain.FirstPrevHash = seg[0].PrevHash
		m.AuditChain.LastHash = seg[len(seg)-1].Hash
	}

	// KPI figures.
	kdoc, err := kpiDoc(ctx, st, opt)
	if err != nil {
		return nil, err
	}
	if files[KPIFile], err = marshalIndent(kdoc); err != nil {
		return nil, err
	}
	m.KPIs = KPIInfo{File: KPIFile, Available: kdoc.Available, Figures: len(kdoc.Figures)}

	// Tombstones of the period.
	if opt.Scope.Kind == ScopePeriod {
		b, n, err := periodTombstones(ctx, st.DB(), sc)
		if err != nil {
			return nil, err
		}
		files[TombstonesFile] = b
		m.Tombstones = &TombstonesInfo{File: TombstonesFile, Rows: n}
	}

	if opt.Reveal {
		if files[RevealFile], err = revealDoc(customers); err != nil {
			return nil, err
		}
	}

	pub := opt.Key.Public().(ed25519.PublicKey)
	if files[PublicKeyFile], err = EncodePublicKeyPEM(pub); err != nil {
		return nil, err
	}
	m.Signature = SignatureInfo{Algorithm: "Ed25519", SignedFile: ManifestFile, SignatureFile: SignatureFile,
		PublicKeyFile: PublicKeyFile, PublicKeySHA256: KeyFingerprint(pub)}
	files[ReadmeFile] = []byte(readmeText(m))

	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		m.Files = append(m.Files, FileInfo{Path: n, SHA256: SHA256Hex(files[n]), Bytes: int64(len(files[n]))})
	}
	m.SignedAt = FormatTime(clock())
	mb, err := MarshalManifest(m)
	if err != nil {
		return nil, err
	}
	files[ManifestFile] = mb
	files[SignatureFile] = ed25519.Sign(opt.Key, mb)
	if err := writeZip(w, files); err != nil {
		return nil, fmt.Errorf("writing the bundle: %w", err)
	}

	link, err := AppendLink(ctx, st, opt.Actor, opt.Role, "evidence.export", "evidence_bundle", opt.Output, map[string]any{
		"scope":           ScopeTag(opt.Scope),
		"merkle_root":     m.Merkle.Root,
		"manifest_sha256": SHA256Hex(mb),
		"events":          m.Merkle.Leaves,
		"audit_links":     m.AuditChain.Links,
		"reveal":          opt.Reveal,
		"signing_key":     m.Signature.PublicKeySHA256,
		"signed_at":       m.SignedAt,
	})
	if err != nil {
		return nil, fmt.Errorf("recording the export in the audit log: %w", err)
	}
	return &ExportResult{Manifest: m, ManifestJSON: mb, Link: link}, nil
}

// ScopeTag renders a scope as one string ("case:ID"). Audit records about
// exports use it so that the record does not itself match the scope
// (README.md, "Scope"): a second export of the same case stays identical.
func ScopeTag(s Scope) string {
	switch s.Kind {
	case ScopePeriod:
		return "period:" + s.From + "/" + s.To
	case ScopeCase:
		return "case:" + s.CaseID
	case ScopeCustomer:
		return "customer:" + s.CustomerID
	}
	return s.Kind
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func marshalIndent(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// queryCells runs q and renders every value with RenderValue.
func queryCells(ctx context.Context, db *sql.DB, q string, ncols int) ([][]string, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]string
	vals := make([]any, ncols)
	ptrs := make([]any, ncols)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]string, ncols)
		for i, v := range vals {
			row[i] = RenderValue(v)
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// exportParquet writes the table's in-scope rows with DuckDB's COPY and
// reads the file back.
func exportParquet(ctx context.Context, db *sql.DB, dir string, t models.Table, cols []string, pred string, want int) ([]byte, error) {
	path := filepath.Join(dir, string(t)+".parquet")
	q := fmt.Sprintf("COPY (SELECT %s FROM %s WHERE %s ORDER BY ts, event_id) TO %s (FORMAT parquet)",
		strings.Join(cols, ", "), t, pred, lit(path))
	if _, err := db.ExecContext(ctx, q); err != nil {
		return nil, fmt.Errorf("writing %s as Parquet: %w", t, err)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM read_parquet("+lit(path)+")").Scan(&n); err != nil {
		return nil, fmt.Errorf("reading back %s.parquet: %w", t, err)
	}
	if n != want {
		return nil, fmt.Errorf("%s.parquet has %d rows, the CSV %d", t, n, want)
	}
	return os.ReadFile(path)
}

// chainSegment returns the links from the first in-scope link to the last,
// in walk order.
func chainSegment(ctx context.Context, st store.Store, pred string, inScope map[string]bool) ([]Link, error) {
	if len(inScope) == 0 {
		return nil, nil
	}
	var lo, hi sql.NullTime
	if err := st.DB().QueryRowContext(ctx, "SELECT min(ts), max(ts) FROM audit_events WHERE "+pred).Scan(&lo, &hi); err != nil {
		return nil, fmt.Errorf("finding the audit-chain segment: %w", err)
	}
	links, err := LoadLinks(ctx, st, fmt.Sprintf("ts >= %s AND ts <= %s", tsLit(lo.Time), tsLit(hi.Time)))
	if err != nil {
		return nil, err
	}
	first, last := -1, -1
	for i, l := range links {
		if inScope[l.EventID] {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return nil, nil
	}
	return links[first : last+1], nil
}

func kpiDoc(ctx context.Context, st store.Store, opt ExportOptions) (*KPIDoc, error) {
	doc := &KPIDoc{Scope: opt.Scope, Figures: []Figure{}}
	switch {
	case opt.Scope.Kind != ScopePeriod:
		doc.Note = "KPI figures are computed for periods; this bundle's scope is a " + opt.Scope.Kind + ", so it carries the events only"
		return doc, nil
	case opt.Figures == nil:
		doc.From, doc.To = opt.Scope.From, opt.Scope.To
		doc.Note = "KPI figures are not available: no KPI engine is wired into this build of closedloop evidence"
		return doc, nil
	}
	from, err1 := time.Parse(TimeFormat, opt.Scope.From)
	to, err2 := time.Parse(TimeFormat, opt.Scope.To)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("period scope needs From and To in %s", TimeFormat)
	}
	figs, err := opt.Figures.Figures(ctx, st, from, to)
	if err != nil {
		return nil, fmt.Errorf("computing KPI figures: %w", err)
	}
	for i := range figs {
		sum := SHA256Hex([]byte(figs[i].SQL))
		if figs[i].SQLSHA256 == "" {
			figs[i].SQLSHA256 = sum
		} else if figs[i].SQLSHA256 != sum {
			return nil, fmt.Errorf("KPI %s: sql_sha256 does not match its SQL text", figs[i].KPI)
		}
	}
	sort.SliceStable(figs, func(i, j int) bool {
		a, b := figs[i], figs[j]
		if a.KPI != b.KPI {
			return a.KPI < b.KPI
		}
		if a.Group != b.Group {
			return a.Group < b.Group
		}
		return a.Version < b.Version
	})
	doc.From, doc.To, doc.Available = opt.Scope.From, opt.Scope.To, true
	doc.Figures = append(doc.Figures, figs...)
	return doc, nil
}

func periodTombstones(ctx context.Context, db *sql.DB, sc *scopeSQL) ([]byte, int, error) {
	cw := newCSVWriter()
	cw.write([]string{"table_name", "event_id", "ts", "leaf_hash", "deleted_at"})
	var exists int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'tombstones'").Scan(&exists); err != nil {
		return nil, 0, fmt.Errorf("looking for tombstones: %w", err)
	}
	var cells [][]string
	if exists > 0 {
		var err error
		cells, err = queryCells(ctx, db, "SELECT table_name, event_id, ts, leaf_hash, deleted_at FROM tombstones WHERE "+sc.period, 5)
		if err != nil {
			return nil, 0, fmt.Errorf("reading tombstones: %w", err)
		}
		// table_name, then ts, then event_id
		sort.SliceStable(cells, func(i, j int) bool {
			a, b := cells[i], cells[j]
			for _, k := range []int{0, 2, 1} {
				if a[k] != b[k] {
					return a[k] < b[k]
				}
			}
			return false
		})
		for _, c := range cells {
			cw.write(c)
		}
	}
	b, err := cw.bytes()
	return b, len(cells), err
}

func revealDoc(customers map[string]bool) ([]byte, error) {
	type entry struct {
		CustomerID  string `json:"customer_id"`
		IsPseudonym bool   `json:"is_pseudonym"`
	}
	doc := struct {
		Note      string  `json:"note"`
		Customers []entry `json:"customers"`
	}{
		Note: "Customer identifiers in scope. The store keeps only keyed pseudonyms (c_ + 32 hex) unless pii.keep_raw is set; " +
			"a pseudonym cannot be reversed: the data controller re-identifies a customer by pseudonymising the candidate phone number with the key.",
		Customers: []entry{},
	}
	ids := make([]string, 0, len(customers))
	for c := range customers {
		ids = append(ids, c)
	}
	sort.Strings(ids)
	for _, c := range ids {
		doc.Customers = append(doc.Customers, entry{CustomerID: c, IsPseudonym: pii.IsPseudonym(c)})
	}
	return marshalIndent(doc)
}
