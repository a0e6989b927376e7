package audit

import (
	"archive/zip"
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Finding statuses.
const (
	StatusIntact    = "INTACT"
	StatusAltered   = "ALTERED"
	StatusMissing   = "MISSING"
	StatusAdded     = "ADDED"
	StatusReordered = "REORDERED"
	StatusInvalid   = "INVALID"
)

// Finding is one line of a verification report.
type Finding struct {
	Status  string // StatusIntact for what checked out, otherwise the problem
	Check   string // signature, files, events, audit chain, kpis, tombstones, event
	Subject string // the file, row or link concerned
	Detail  string
}

func (f Finding) String() string {
	s := fmt.Sprintf("%-9s %-11s ", f.Status, f.Check)
	if f.Subject != "" {
		s += f.Subject
		if f.Detail != "" {
			s += ": "
		}
	}
	return s + f.Detail
}

// VerifyOptions tune VerifyBundle.
type VerifyOptions struct {
	// PublicKey pins the signing key; nil trusts the bundle's signing_key.pub
	// (which proves integrity, not origin).
	PublicKey ed25519.PublicKey
	// EventID asks for the inclusion proof of one event ("table/event_id"
	// or a bare event_id).
	EventID string
}

// EventProof is the inclusion proof of one event.
type EventProof struct {
	Table     string
	EventID   string
	File      string
	Line      int
	LeafIndex int // 0-based
	Leaves    int
	Leaf      Hash
	RowJSON   string
	Steps     []ProofStep
	Root      Hash   // computed from the proof
	Manifest  string // manifest merkle.root
	Valid     bool   // the proof folds to the manifest's root
}

// VerifyResult is everything VerifyBundle found.
type VerifyResult struct {
	Manifest *Manifest
	Findings []Finding // intact statements and problems, in check order
	Notes    []string
	Proof    *EventProof
}

// Problems returns the findings that are not intact.
func (r *VerifyResult) Problems() []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Status != StatusIntact {
			out = append(out, f)
		}
	}
	return out
}

// Intact reports a bundle without any problem.
func (r *VerifyResult) Intact() bool { return len(r.Problems()) == 0 }

func (r *VerifyResult) ok(check, subject, format string, a ...any) {
	r.Findings = append(r.Findings, Finding{Status: StatusIntact, Check: check, Subject: subject, Detail: fmt.Sprintf(format, a...)})
}

func (r *VerifyResult) bad(status, check, subject, format string, a ...any) {
	r.Findings = append(r.Findings, Finding{Status: status, Check: check, Subject: subject, Detail: fmt.Sprintf(format, a...)})
}

func (r *VerifyResult) count(check string) int {
	n := 0
	for _, f := range r.Findings {
		if f.Check == check && f.Status != StatusIntact {
			n++
		}
	}
	return n
}

// VerifyBundleFile verifies the bundle at path.
func VerifyBundleFile(path string, opt VerifyOptions) (*VerifyResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return VerifyBundle(f, st.Size(), opt)
}

// VerifyBundle checks a bundle offline: the signature of manifest.json,
// every file's SHA-256, files missing or added, every event row against
// its signed Merkle leaf and the root recomputed from the CSV rows, the
// audit-chain segment, and the KPI SQL digests. It needs neither the store
// nor DuckDB. The error is only for an archive that cannot be read at all.
func VerifyBundle(ra io.ReaderAt, size int64, opt VerifyOptions) (*VerifyResult, error) {
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return nil, fmt.Errorf("reading bundle: %w", err)
	}
	r := &VerifyResult{}
	files := map[string][]byte{}
	var names []string
	for _, zf := range zr.File {
		if strings.HasSuffix(zf.Name, "/") {
			continue
		}
		if _, dup := files[zf.Name]; dup {
			r.bad(StatusAdded, "files", zf.Name, "a second entry with the same name")
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			r.bad(StatusInvalid, "files", zf.Name, "cannot be read: %v", err)
			continue
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			r.bad(StatusAltered, "files", zf.Name, "cannot be decompressed: %v", err)
			continue
		}
		files[zf.Name] = b
		names = append(names, zf.Name)
	}

	mb, ok := files[ManifestFile]
	if !ok {
		r.bad(StatusMissing, "files", ManifestFile, "the bundle has no manifest: nothing in it can be verified")
		return r, nil
	}
	r.verifySignature(files, mb, opt.PublicKey)

	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(mb))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		r.bad(StatusAltered, "files", ManifestFile, "is not a valid manifest: %v", err)
		return r, nil
	}
	r.Manifest = &m
	if m.Format != BundleFormat {
		r.bad(StatusInvalid, "files", ManifestFile, "format %q, this verifier reads %q", m.Format, BundleFormat)
	}

	r.verifyFiles(files, names, &m)
	leaves := r.verifyEvents(files, &m)
	r.verifyChain(files, &m)
	r.verifyKPIs(files, &m)
	r.verifyTombstones(files, &m)
	if opt.EventID != "" {
		r.proveEvent(leaves, &m, opt.EventID)
	}
	return r, nil
}

func (r *VerifyResult) verifySignature(files map[string][]byte, manifest []byte, pinned ed25519.PublicKey) {
	var bundleKey ed25519.PublicKey
	if kb, ok := files[PublicKeyFile]; !ok {
		if pinned == nil {
			r.bad(StatusMissing, "signature", PublicKeyFile, "the bundle has no public key and none was given with --pubkey")
		}
	} else if k, err := ParsePublicKey(kb); err != nil {
		r.bad(StatusAltered, "signature", PublicKeyFile, "is not an Ed25519 public key: %v", err)
	} else {
		bundleKey = k
	}
	key, origin := pinned, "pinned with --pubkey"
	if pinned == nil {
		key, origin = bundleKey, "taken from the bundle's signing_key.pub; pin it with --pubkey to prove who signed"
		r.Notes = append(r.Notes, "the signing key was not pinned: the signature proves the bundle is unchanged since signing, not who signed it (use --pubkey KEY.pub)")
	} else if bundleKey != nil && !bundleKey.Equal(pinned) {
		r.bad(StatusAltered, "signature", PublicKeyFile, "is not the pinned key (bundle key %s, pinned key %s)", short(KeyFingerprint(bundleKey)), short(KeyFingerprint(pinned)))
	}
	sig, ok := files[SignatureFile]
	switch {
	case !ok:
		r.bad(StatusMissing, "signature", SignatureFile, "the bundle is not signed")
	case len(sig) != ed25519.SignatureSize:
		r.bad(StatusAltered, "signature", SignatureFile, "has %d bytes, an Ed25519 signature has %d", len(sig), ed25519.SignatureSize)
	case key == nil:
		r.bad(StatusInvalid, "signature", SignatureFile, "cannot be checked without a public key")
	case !ed25519.Verify(key, manifest, sig):
		r.bad(StatusAltered, "signature", ManifestFile+" / "+SignatureFile,
			"the Ed25519 signature does not verify with key %s: manifest.json or manifest.sig was altered (or signed with another key)", short(KeyFingerprint(key)))
	default:
		r.ok("signature", "", "Ed25519 signature of manifest.json verifies with key %s (%s)", short(KeyFingerprint(key)), origin)
	}
}

func (r *VerifyResult) verifyFiles(files map[string][]byte, names []string, m *Manifest) {
	listed := map[string]bool{ManifestFile: true, SignatureFile: true}
	okCount := 0
	for _, fi := range m.Files {
		if listed[fi.Path] {
			r.bad(StatusInvalid, "files", fi.Path, "listed twice in the manifest")
			continue
		}
		listed[fi.Path] = true
		b, ok := files[fi.Path]
		if !ok {
			r.bad(StatusMissing, "files", fi.Path, "listed in the manifest (sha256 %s) but not in the bundle", short(fi.SHA256))
			continue
		}
		if got := SHA256Hex(b); got != fi.SHA256 {
			r.bad(StatusAltered, "files", fi.Path, "sha256 is %s, the manifest says %s", short(got), short(fi.SHA256))
			continue
		}
		if int64(len(b)) != fi.Bytes {
			r.bad(StatusAltered, "files", fi.Path, "has %d bytes, the manifest says %d", len(b), fi.Bytes)
			continue
		}
		okCount++
	}
	sort.Strings(names)
	for _, n := range names {
		if !listed[n] {
			r.bad(StatusAdded, "files", n, "is in the bundle but not in the manifest (%d bytes)", len(files[n]))
		}
	}
	if r.count("files") == 0 {
		r.ok("files", "", "all %d files match their SHA-256 in the manifest; none missing, none added", okCount)
	}
}

// rowLeaf is one event row as found in a CSV, or one recorded leaf.
type rowLeaf struct {
	Table   string
	EventID string
	TS      string
	File    string
	Line    int
	Leaf    Hash
	RowJSON []byte
}

func leafKey(table, eventID string) string { return table + "\x00" + eventID }

// verifyEvents recomputes every leaf from the CSV files, compares each row
// with the signed leaves file, and recomputes the root. It returns the
// leaves as found in the CSVs (in leaf order).
func (r *VerifyResult) verifyEvents(files map[string][]byte, m *Manifest) []rowLeaf {
	const check = "events"
	// The signed list of leaves, trusted when it hashes to the manifest's root.
	var recorded []rowLeaf
	recordedOK := false
	if b, ok := files[m.Merkle.LeavesFile]; !ok {
		r.bad(StatusMissing, check, m.Merkle.LeavesFile, "the list of Merkle leaves is missing")
	} else if rec, err := parseLeaves(b); err != nil {
		r.bad(StatusAltered, check, m.Merkle.LeavesFile, "cannot be read: %v", err)
	} else {
		hs := make([]Hash, len(rec))
		for i, l := range rec {
			hs[i] = l.Leaf
		}
		if root := MerkleRoot(hs).String(); root != m.Merkle.Root {
			r.bad(StatusAltered, check, m.Merkle.LeavesFile, "its leaves give root %s, the manifest says %s", short(root), short(m.Merkle.Root))
		} else {
			recorded, recordedOK = rec, true
		}
	}
	recIndex := map[string]int{}
	for i, l := range recorded {
		recIndex[leafKey(l.Table, l.EventID)] = i
	}

	tables := append([]TableInfo(nil), m.Tables...)
	sort.SliceStable(tables, func(i, j int) bool { return tables[i].Table < tables[j].Table })
	var found []rowLeaf
	matched := map[int]bool{}
	rowsTotal := 0
	for _, t := range tables {
		b, ok := files[t.CSV]
		if !ok {
			r.bad(StatusMissing, check, t.CSV, "the %s rows (%d) cannot be checked", t.Table, t.Rows)
			continue
		}
		header, rows, err := readCSV(b)
		if err != nil {
			r.bad(StatusAltered, check, t.CSV, "is not valid CSV: %v", err)
			continue
		}
		if strings.Join(header, ",") != strings.Join(t.Columns, ",") {
			r.bad(StatusAltered, check, t.CSV+" line 1", "header is %q, the manifest says %q", strings.Join(header, ","), strings.Join(t.Columns, ","))
			continue
		}
		tsCol, idCol := indexOf(header, "ts"), indexOf(header, "event_id")
		if idCol < 0 {
			r.bad(StatusInvalid, check, t.CSV, "has no event_id column")
			continue
		}
		if len(rows) != t.Rows {
			r.bad(StatusAltered, check, t.CSV, "has %d rows, the manifest says %d", len(rows), t.Rows)
		}
		rowsTotal += len(rows)
		var prev *rowLeaf
		lastRec := -1
		for _, row := range rows {
			j, err := RowJSON(header, row.Cells)
			if err != nil {
				r.bad(StatusAltered, check, fmt.Sprintf("%s line %d", t.CSV, row.Line), "%v", err)
				continue
			}
			rl := rowLeaf{Table: t.Table, EventID: row.Cells[idCol], File: t.CSV, Line: row.Line, RowJSON: j}
			if tsCol >= 0 {
				rl.TS = row.Cells[tsCol]
			}
			rl.Leaf = LeafHash(t.Table, rl.EventID, j)
			subject := fmt.Sprintf("%s line %d", t.CSV, row.Line)
			if prev != nil && (rl.TS < prev.TS || rl.TS == prev.TS && rl.EventID <= prev.EventID) {
				r.bad(StatusReordered, check, subject, "event %s (ts %s) comes after event %s (ts %s): rows must be in ts, event_id order", rl.EventID, rl.TS, prev.EventID, prev.TS)
			}
			if recordedOK {
				i, ok := recIndex[leafKey(t.Table, rl.EventID)]
				switch {
				case !ok:
					r.bad(StatusAdded, check, subject, "event %s is not among the signed leaves", rl.EventID)
				case matched[i]:
					r.bad(StatusAdded, check, subject, "event %s appears a second time", rl.EventID)
				default:
					matched[i] = true
					if recorded[i].Leaf != rl.Leaf {
						r.bad(StatusAltered, check, subject, "event %s differs from its signed leaf %d (leaf %s, row gives %s)", rl.EventID, i, short(recorded[i].Leaf.String()), short(rl.Leaf.String()))
					}
					if i < lastRec {
						r.bad(StatusReordered, check, subject, "event %s is signed as leaf %d but comes after leaf %d", rl.EventID, i, lastRec)
					}
					lastRec = i
				}
			}
			found = append(found, rl)
			prev = &found[len(found)-1]
		}
	}
	if recordedOK {
		for i, l := range recorded {
			if !matched[i] {
				file := l.Table
				for _, t := range tables {
					if t.Table == l.Table {
						file = t.CSV
					}
				}
				r.bad(StatusMissing, check, file, "event %s (signed leaf %d) is not in the CSV", l.EventID, i)
			}
		}
	}
	hs := make([]Hash, len(found))
	for i, l := range found {
		hs[i] = l.Leaf
	}
	root := MerkleRoot(hs).String()
	if root != m.Merkle.Root {
		r.bad(StatusAltered, check, "merkle root", "recomputed from the CSV rows it is %s, the manifest says %s", short(root), short(m.Merkle.Root))
	} else if len(found) != m.Merkle.Leaves {
		r.bad(StatusAltered, check, "merkle root", "%d rows, the manifest says %d leaves", len(found), m.Merkle.Leaves)
	}
	if r.count(check) == 0 {
		r.ok(check, "", "%d events in %d tables; every row matches its signed leaf; Merkle root %s recomputed from the CSV rows", rowsTotal, len(tables), short(root))
	}
	return found
}

func indexOf(xs []string, s string) int {
	for i, x := range xs {
		if x == s {
			return i
		}
	}
	return -1
}

func parseLeaves(b []byte) ([]rowLeaf, error) {
	header, rows, err := readCSV(b)
	if err != nil {
		return nil, err
	}
	if strings.Join(header, ",") != "leaf_index,table,event_id,leaf_sha256" {
		return nil, fmt.Errorf("unexpected header %q", strings.Join(header, ","))
	}
	out := make([]rowLeaf, 0, len(rows))
	for i, row := range rows {
		if row.Cells[0] != strconv.Itoa(i) {
			return nil, fmt.Errorf("line %d: leaf_index %s, expected %d", row.Line, row.Cells[0], i)
		}
		h, err := ParseHash(row.Cells[3])
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", row.Line, err)
		}
		out = append(out, rowLeaf{Table: row.Cells[1], EventID: row.Cells[2], Line: row.Line, Leaf: h})
	}
	return out, nil
}

// chainLine is one line of the audit-chain segment.
type chainLine struct {
	EventID    string          `json:"event_id"`
	AuditID    string          `json:"audit_id"`
	TS         string          `json:"ts"`
	Actor      string          `json:"actor"`
	ActorRole  string          `json:"actor_role"`
	Action     string          `json:"action"`
	ObjectType string          `json:"object_type"`
	ObjectID   string          `json:"object_id"`
	Details    json.RawMessage `json:"details"`
	PrevHash   string          `json:"prev_hash"`
	Hash       string          `json:"hash"`
	Source     string          `json:"source"`
}

// chainSegmentLine renders a link as one canonical JSON line of the segment.
func chainSegmentLine(l Link) ([]byte, error) {
	var details any
	if l.Details != "" {
		v, err := ParseJSON([]byte(l.Details))
		if err != nil {
			return nil, fmt.Errorf("audit link %s: details is not valid JSON: %v", l.AuditID, err)
		}
		details = v
	}
	return CanonicalJSON(map[string]any{
		"event_id": l.EventID, "audit_id": l.AuditID, "ts": FormatTime(l.TS), "actor": l.Actor,
		"actor_role": l.ActorRole, "action": l.Action, "object_type": l.ObjectType, "object_id": l.ObjectID,
		"details": details, "prev_hash": l.PrevHash, "hash": l.Hash, "source": l.Source,
	})
}

func parseChainSegment(b []byte) ([]Link, []int, error) {
	var links []Link
	var lines []int
	for n, raw := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		var cl chainLine
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cl); err != nil {
			return nil, nil, fmt.Errorf("line %d: %v", n+1, err)
		}
		ts, err := time.Parse(TimeFormat, cl.TS)
		if err != nil {
			return nil, nil, fmt.Errorf("line %d: ts %q is not YYYY-MM-DDTHH:MM:SS.mmmZ", n+1, cl.TS)
		}
		l := Link{EventID: cl.EventID, AuditID: cl.AuditID, TS: ts, Actor: cl.Actor, ActorRole: cl.ActorRole,
			Action: cl.Action, ObjectType: cl.ObjectType, ObjectID: cl.ObjectID, PrevHash: cl.PrevHash,
			Hash: cl.Hash, Source: cl.Source}
		if d := bytes.TrimSpace(cl.Details); len(d) > 0 && string(d) != "null" {
			l.Details = string(d)
		}
		links = append(links, l)
		lines = append(lines, n+1)
	}
	return links, lines, nil
}

func (r *VerifyResult) verifyChain(files map[string][]byte, m *Manifest) {
	const check = "audit chain"
	ci := m.AuditChain
	b, ok := files[ci.File]
	if !ok {
		r.bad(StatusMissing, check, ci.File, "the audit-chain segment is missing")
		return
	}
	links, lines, err := parseChainSegment(b)
	if err != nil {
		r.bad(StatusAltered, check, ci.File, "cannot be read: %v", err)
		return
	}
	rep := WalkChain(links, true)
	for _, p := range rep.Problems {
		subject := fmt.Sprintf("%s line %d", ci.File, lines[p.Index])
		status := StatusAltered
		if p.Kind == ChainOrder {
			status = StatusReordered
		}
		switch p.Kind {
		case ChainContent:
			r.bad(status, check, subject, "link %s changed: hash %s recomputed, %s stored", p.Link.AuditID, short(p.Expected), short(p.Stored))
		default:
			r.bad(status, check, subject, "link %s: %s — %s", p.Link.AuditID, p.Kind, p.Detail)
		}
	}
	if len(links) != ci.Links {
		r.bad(StatusAltered, check, ci.File, "has %d links, the manifest says %d", len(links), ci.Links)
	}
	if !equalStrings(rep.Entries, ci.Entries) {
		r.bad(StatusAltered, check, ci.File, "links start from prev_hashes %s, the manifest says %s (a link was removed, added or changed)", shortList(rep.Entries), shortList(ci.Entries))
	}
	if !equalStrings(rep.Heads, ci.Heads) {
		r.bad(StatusAltered, check, ci.File, "chain heads are %s, the manifest says %s", shortList(rep.Heads), shortList(ci.Heads))
	}
	first, last := "", ""
	if len(links) > 0 {
		first, last = links[0].PrevHash, links[len(links)-1].Hash
	}
	if first != ci.FirstPrevHash || last != ci.LastHash {
		r.bad(StatusAltered, check, ci.File, "runs from prev_hash %s to %s, the manifest says %s to %s", short(first), short(last), short(ci.FirstPrevHash), short(ci.LastHash))
	}
	// Every in-scope audit row must be a link of the segment with the same hash.
	byEvent := map[string]Link{}
	for _, l := range links {
		byEvent[l.EventID] = l
	}
	for _, t := range m.Tables {
		if t.Table != "audit_events" {
			continue
		}
		cb, ok := files[t.CSV]
		if !ok {
			continue
		}
		header, rows, err := readCSV(cb)
		if err != nil {
			continue
		}
		idc, hc := indexOf(header, "event_id"), indexOf(header, "hash")
		if idc < 0 || hc < 0 {
			continue
		}
		for _, row := range rows {
			l, ok := byEvent[row.Cells[idc]]
			subject := fmt.Sprintf("%s line %d", t.CSV, row.Line)
			if !ok {
				r.bad(StatusMissing, check, subject, "audit event %s is not a link of the segment", row.Cells[idc])
			} else if l.Hash != row.Cells[hc] {
				r.bad(StatusAltered, check, subject, "audit event %s has hash %s, its link in the segment %s", row.Cells[idc], short(row.Cells[hc]), short(l.Hash))
			}
		}
	}
	if r.count(check) == 0 {
		switch {
		case len(links) == 0:
			r.ok(check, "", "no audit links in scope")
		default:
			r.ok(check, "", "%d link(s): every hash recomputed, every link follows an earlier one or a signed entry point (%s); head %s", len(links), shortList(rep.Entries), shortList(rep.Heads))
		}
	}
}

// KPIDoc is kpis.json.
type KPIDoc struct {
	Scope     Scope    `json:"scope"`
	From      string   `json:"from,omitempty"`
	To        string   `json:"to,omitempty"`
	Available bool     `json:"available"`
	Note      string   `json:"note,omitempty"`
	Figures   []Figure `json:"figures"`
}

func (r *VerifyResult) verifyKPIs(files map[string][]byte, m *Manifest) {
	const check = "kpis"
	b, ok := files[m.KPIs.File]
	if !ok {
		r.bad(StatusMissing, check, m.KPIs.File, "the KPI figures are missing")
		return
	}
	var doc KPIDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		r.bad(StatusAltered, check, m.KPIs.File, "is not valid JSON: %v", err)
		return
	}
	if doc.Available != m.KPIs.Available || len(doc.Figures) != m.KPIs.Figures {
		r.bad(StatusAltered, check, m.KPIs.File, "holds %d figures (available %v), the manifest says %d (available %v)", len(doc.Figures), doc.Available, m.KPIs.Figures, m.KPIs.Available)
	}
	for i, f := range doc.Figures {
		if got := SHA256Hex([]byte(f.SQL)); got != f.SQLSHA256 {
			r.bad(StatusAltered, check, fmt.Sprintf("%s figure %d (%s)", m.KPIs.File, i+1, f.KPI), "sha256 of the SQL text is %s, sql_sha256 says %s", short(got), short(f.SQLSHA256))
		}
	}
	if r.count(check) == 0 {
		if !doc.Available {
			r.ok(check, "", "no KPI figures in this bundle: %s", doc.Note)
		} else {
			r.ok(check, "", "%d figures, each with its SQL text matching its sql_sha256", len(doc.Figures))
		}
	}
}

func (r *VerifyResult) verifyTombstones(files map[string][]byte, m *Manifest) {
	if m.Tombstones == nil {
		return
	}
	b, ok := files[m.Tombstones.File]
	if !ok {
		return // reported by the file check
	}
	_, rows, err := readCSV(b)
	if err != nil {
		r.bad(StatusAltered, "tombstones", m.Tombstones.File, "is not valid CSV: %v", err)
		return
	}
	if len(rows) != m.Tombstones.Rows {
		r.bad(StatusAltered, "tombstones", m.Tombstones.File, "has %d rows, the manifest says %d", len(rows), m.Tombstones.Rows)
	}
}

func (r *VerifyResult) proveEvent(found []rowLeaf, m *Manifest, id string) {
	table, eventID := "", id
	if t, e, ok := strings.Cut(id, "/"); ok && m.tableNamed(t) {
		table, eventID = t, e
	}
	var hits []int
	for i, l := range found {
		if l.EventID == eventID && (table == "" || l.Table == table) {
			hits = append(hits, i)
		}
	}
	if len(hits) == 0 {
		r.bad(StatusMissing, "event", id, "no such event in the bundle's CSV files")
		return
	}
	if len(hits) > 1 {
		var ts []string
		for _, i := range hits {
			ts = append(ts, found[i].Table+"/"+eventID)
		}
		r.Notes = append(r.Notes, fmt.Sprintf("event id %s is in several tables (%s); showing the first — name one as TABLE/EVENT_ID", eventID, strings.Join(ts, ", ")))
	}
	i := hits[0]
	hs := make([]Hash, len(found))
	for j, l := range found {
		hs[j] = l.Leaf
	}
	steps, _ := MerkleProof(hs, i)
	p := &EventProof{Table: found[i].Table, EventID: eventID, File: found[i].File, Line: found[i].Line, LeafIndex: i,
		Leaves: len(found), Leaf: found[i].Leaf, RowJSON: string(found[i].RowJSON), Steps: steps, Manifest: m.Merkle.Root}
	p.Root = p.Leaf
	if len(steps) > 0 {
		p.Root = steps[len(steps)-1].Parent
	}
	if mr, err := ParseHash(m.Merkle.Root); err == nil {
		p.Valid = VerifyProof(p.Leaf, steps, mr)
	}
	r.Proof = p
	if p.Valid {
		r.ok("event", found[i].Table+"/"+eventID, "inclusion proof of leaf %d of %d folds to the signed Merkle root", i, len(found))
	} else {
		r.bad(StatusAltered, "event", found[i].Table+"/"+eventID, "inclusion proof folds to %s, not the signed root %s", short(p.Root.String()), short(m.Merkle.Root))
	}
}

func (m *Manifest) tableNamed(t string) bool {
	for _, ti := range m.Tables {
		if ti.Table == t {
			return true
		}
	}
	return false
}

// WriteReport prints the result for a person.
func (r *VerifyResult) WriteReport(w io.Writer, name string) {
	fmt.Fprintf(w, "closedloop verify %s\n", name)
	if m := r.Manifest; m != nil {
		fmt.Fprintf(w, "  %s · scope %s\n  as of %s · %s %s · signed_at %s\n", m.Format, m.Scope.String(), orNone(m.AsOf), m.Tool, m.ToolVersion, m.SignedAt)
		fmt.Fprintf(w, "  merkle root %s over %d events\n", m.Merkle.Root, m.Merkle.Leaves)
	}
	for _, f := range r.Findings {
		fmt.Fprintln(w, f.String())
	}
	if p := r.Proof; p != nil {
		fmt.Fprintf(w, "\ninclusion proof of %s/%s (%s line %d): leaf %d of %d\n", p.Table, p.EventID, p.File, p.Line, p.LeafIndex, p.Leaves)
		fmt.Fprintf(w, "  row JSON  %s\n", p.RowJSON)
		fmt.Fprintf(w, "  leaf      %s = sha256(%q || 0x00 || %q || 0x00 || row JSON)\n", p.Leaf, p.Table, p.EventID)
		for _, s := range p.Steps {
			fmt.Fprintf(w, "  level %-2d  sibling on the %-5s %s -> %s\n", s.Level, s.Side, s.Sibling, s.Parent)
		}
		verdict := "= the signed merkle root: the event is in the bundle"
		if !p.Valid {
			verdict = "≠ the signed merkle root " + p.Manifest
		}
		fmt.Fprintf(w, "  root      %s %s\n", p.Root, verdict)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	probs := r.Problems()
	if len(probs) == 0 {
		fmt.Fprintln(w, "RESULT: INTACT — signature, every file, every event, the Merkle root and the audit chain check out")
		return
	}
	kinds := map[string]int{}
	for _, p := range probs {
		kinds[strings.ToLower(p.Status)]++
	}
	var ks []string
	for k, n := range kinds {
		ks = append(ks, fmt.Sprintf("%d %s", n, k))
	}
	sort.Strings(ks)
	fmt.Fprintf(w, "RESULT: NOT INTACT — %d problems (%s)\n", len(probs), strings.Join(ks, ", "))
}

func short(h string) string {
	if len(h) > 16 {
		return h[:16] + "…"
	}
	if h == "" {
		return `""`
	}
	return h
}

func shortList(hs []string) string {
	if len(hs) == 0 {
		return "none"
	}
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = short(h)
	}
	return strings.Join(out, ", ")
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
