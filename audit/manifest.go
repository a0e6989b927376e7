package audit

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"runtime/debug"
	"sort"
	"strings"
	"time"
)

// BundleFormat names the layout documented in README.md.
const BundleFormat = "closedloop-evidence/1"

// Fixed names inside a bundle.
const (
	ManifestFile   = "manifest.json"
	SignatureFile  = "manifest.sig"
	PublicKeyFile  = "signing_key.pub"
	ReadmeFile     = "README.txt"
	KPIFile        = "kpis.json"
	LeavesFile     = "merkle/leaves.csv"
	ChainFile      = "audit/chain_segment.jsonl"
	TombstonesFile = "tombstones.csv"
	RevealFile     = "reveal.json"
)

// Rule texts stated in every manifest (README.md explains them).
const (
	LeafRule  = "sha256(table || 0x00 || event_id || 0x00 || row_json); row_json = canonical JSON of the CSV row: {column: cell text, or null when empty}, keys sorted, no whitespace, UTF-8"
	NodeRule  = "sha256(0x01 || left || right) over raw 32-byte digests; an odd last node is carried up unchanged (RFC 6962 tree shape); no leaves: sha256 of nothing"
	LeafOrder = "tables by name (byte order), then each CSV's row order: ts, then event_id (byte order)"
	ChainRule = "hash = hex sha256(prev_hash || canonical JSON of {action, actor, actor_role, audit_id, details, object_id, object_type, ts}); ts = YYYY-MM-DDTHH:MM:SS.mmmZ; NULL text = \"\"; details = parsed JSON value (NULL = null)"
)

// ToolVersion is stamped into manifests; set with
// -ldflags "-X github.com/closedloop/closedloop/audit.ToolVersion=v1.2.3".
// When empty, the build's module version and VCS revision are used.
var ToolVersion = ""

// Version returns the tool version for manifests.
func Version() string {
	if ToolVersion != "" {
		return ToolVersion
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v += " " + rev + dirty
	}
	return v
}

// Scope says which events a bundle holds.
type Scope struct {
	Kind       string `json:"kind"`                  // period | case | customer
	From       string `json:"from,omitempty"`        // period: first instant (inclusive), TimeFormat
	To         string `json:"to,omitempty"`          // period: end instant (exclusive), TimeFormat
	FromDate   string `json:"from_date,omitempty"`   // period: --from as given
	ToDate     string `json:"to_date,omitempty"`     // period: --to as given (inclusive date)
	Timezone   string `json:"timezone,omitempty"`    // period: zone the dates were read in
	CaseID     string `json:"case_id,omitempty"`     // case
	CustomerID string `json:"customer_id,omitempty"` // customer (a pseudonym)
}

// Scope kinds.
const (
	ScopePeriod   = "period"
	ScopeCase     = "case"
	ScopeCustomer = "customer"
)

// PeriodScope is the half-open period [from, to).
func PeriodScope(from, to time.Time) Scope {
	return Scope{Kind: ScopePeriod, From: FormatTime(from), To: FormatTime(to)}
}

// String is a short human description ("case WF-1", "period … to …").
func (s Scope) String() string {
	switch s.Kind {
	case ScopePeriod:
		if s.FromDate != "" {
			return fmt.Sprintf("period %s to %s inclusive (%s; instants %s to %s, end exclusive)", s.FromDate, s.ToDate, s.Timezone, s.From, s.To)
		}
		return fmt.Sprintf("period %s to %s (end exclusive)", s.From, s.To)
	case ScopeCase:
		return "case " + s.CaseID
	case ScopeCustomer:
		return "customer " + s.CustomerID
	}
	return s.Kind
}

// Manifest describes a bundle; its JSON is what the signature covers.
type Manifest struct {
	Format      string          `json:"format"`
	Tool        string          `json:"tool"`
	ToolVersion string          `json:"tool_version"`
	Scope       Scope           `json:"scope"`
	AsOf        string          `json:"as_of"` // latest ingested_at among the rows in the bundle ("" when empty)
	Reveal      bool            `json:"reveal"`
	Tables      []TableInfo     `json:"tables"`
	Merkle      MerkleInfo      `json:"merkle"`
	AuditChain  ChainInfo       `json:"audit_chain"`
	KPIs        KPIInfo         `json:"kpis"`
	Tombstones  *TombstonesInfo `json:"tombstones,omitempty"`
	Files       []FileInfo      `json:"files"`
	Signature   SignatureInfo   `json:"signature"`
	// SignedAt is the one field that differs between two exports of the
	// same scope and store: when the manifest was signed.
	SignedAt string `json:"signed_at"`
}

// TableInfo lists one event table's files.
type TableInfo struct {
	Table   string   `json:"table"`
	Rows    int      `json:"rows"`
	CSV     string   `json:"csv"`
	Parquet string   `json:"parquet,omitempty"`
	Columns []string `json:"columns"`
}

// MerkleInfo states the Merkle root over the events and how it is built.
type MerkleInfo struct {
	Leaves     int    `json:"leaves"`
	Root       string `json:"root"`
	LeavesFile string `json:"leaves_file"`
	Leaf       string `json:"leaf"`
	Node       string `json:"node"`
	Order      string `json:"order"`
}

// ChainInfo describes the audit-chain segment.
type ChainInfo struct {
	File          string   `json:"file"`
	Links         int      `json:"links"`
	InScope       int      `json:"in_scope"`          // audit_events rows in scope (events/audit_events.csv)
	FirstPrevHash string   `json:"first_prev_hash"`   // prev_hash of the segment's first link
	Entries       []string `json:"entry_prev_hashes"` // prev_hashes naming links before the segment
	Heads         []string `json:"heads"`             // hashes no later link of the segment follows
	LastHash      string   `json:"last_hash"`
	Rule          string   `json:"rule"`
}

// KPIInfo says whether KPI figures are in the bundle.
type KPIInfo struct {
	File      string `json:"file"`
	Available bool   `json:"available"`
	Figures   int    `json:"figures"`
}

// TombstonesInfo describes events of the period deleted by retention.
type TombstonesInfo struct {
	File string `json:"file"`
	Rows int    `json:"rows"`
}

// FileInfo is one file's digest.
type FileInfo struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
}

// SignatureInfo says how manifest.json is signed.
type SignatureInfo struct {
	Algorithm       string `json:"algorithm"`
	SignedFile      string `json:"signed_file"`
	SignatureFile   string `json:"signature_file"` // the 64 raw signature bytes
	PublicKeyFile   string `json:"public_key_file"`
	PublicKeySHA256 string `json:"public_key_sha256"` // sha256 of the raw 32-byte key
}

// MarshalManifest renders the manifest as indented JSON with a final
// newline (no HTML escaping); these bytes are signed.
func MarshalManifest(m *Manifest) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// SHA256Hex is the lower-case hex SHA-256 of b.
func SHA256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// zipEpoch is the modification time of every bundle entry, so that the
// same content gives the same archive bytes.
var zipEpoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// writeZip writes files sorted by name, deflated, with fixed times.
func writeZip(w io.Writer, files map[string][]byte) error {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	zw := zip.NewWriter(w)
	for _, n := range names {
		hdr := &zip.FileHeader{Name: n, Method: zip.Deflate, Modified: zipEpoch}
		hdr.SetMode(0o644)
		fw, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		if _, err := fw.Write(files[n]); err != nil {
			return err
		}
	}
	return zw.Close()
}

// readmeText is README.txt for the reviewer.
func readmeText(m *Manifest) string {
	var b strings.Builder
	fmt.Fprintf(&b, `closedloop audit evidence bundle (%s)
=================================================

Scope:        %s
As of:        %s (latest ingestion time among the rows in this bundle)
Produced by:  %s %s
Events:       %d rows in %d tables; Merkle root %s
Audit chain:  %d links in %s (%d of them in scope)

This archive is self-contained: everything below works offline with
standard tools (sha256sum, openssl 3, python3). The quickest check is
"closedloop verify THIS.zip --pubkey KEY.pub"; the steps below do the same
by hand. Unpack first:   unzip THIS.zip -d bundle && cd bundle

LAYOUT
  manifest.json             what is in the bundle: scope, SHA-256 of every file,
                            Merkle root, audit-chain segment, tool version
  manifest.sig              Ed25519 signature of the exact bytes of manifest.json
                            (64 raw bytes; xxd -p manifest.sig to look at it)
  signing_key.pub           the public key that made it (PEM); trust it only if it
                            matches the key your organisation published
  events/<table>.csv        the events in scope, one CSV per table, header row,
                            rows ordered by ts then event_id (the reference form)
  events/<table>.parquet    the same rows as Parquet (for DuckDB, pandas, Spark)
  merkle/leaves.csv         every Merkle leaf in order: leaf_index,table,event_id,leaf_sha256
  audit/chain_segment.jsonl the audit hash chain from the first to the last
                            in-scope audit link (one JSON object per line)
  kpis.json                 KPI figures with the exact SQL and definition version
  tombstones.csv            (period bundles) events of the period deleted by retention
  reveal.json               (only with --reveal) the customer pseudonyms in scope
  README.txt                this file

1. THE SIGNATURE (manifest.json has not been changed since it was signed)
   openssl pkeyutl -verify -pubin -inkey signing_key.pub -rawin \
       -in manifest.json -sigfile manifest.sig
   prints "Signature Verified Successfully". Check that the key is the one you
   expect: its fingerprint (SHA-256 of the raw 32-byte key) is
       openssl pkey -pubin -in signing_key.pub -outform DER | tail -c 32 | sha256sum
   and must equal signature.public_key_sha256 in manifest.json and the
   fingerprint your organisation published. signed_at is the signing time; it is
   the only field that differs between two exports of the same scope and store.

2. EVERY FILE (nothing altered, nothing missing, nothing added)
   python3 -c 'import json; [print(f["sha256"] + "  " + f["path"]) for f in json.load(open("manifest.json"))["files"]]' > SHA256SUMS
   sha256sum -c SHA256SUMS
   Every file except manifest.json and manifest.sig must be listed, and no other
   file may be present (compare with: find . -type f | sort).

3. THE MERKLE ROOT (the events are exactly those that were signed)
   Leaf of one row:  sha256( table || 0x00 || event_id || 0x00 || row_json )
   row_json: the CSV row as a JSON object {column: cell text}, an empty cell
   as null, keys sorted, no whitespace, UTF-8 (Python: json.dumps(obj,
   sort_keys=True, separators=(",", ":"), ensure_ascii=False)).
   Leaf order: tables by name, then the rows as they stand in the CSV (ts, then
   event_id). Node: sha256( 0x01 || left || right ) over the raw digests,
   pairing neighbours left to right; an odd last node moves up unchanged. No
   leaves: sha256 of the empty string.

python3 - <<'EOF'
import csv, hashlib, json
m = json.load(open("manifest.json"))
leaves = []
for t in sorted(m["tables"], key=lambda t: t["table"]):
    with open(t["csv"], newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            j = json.dumps({k: (v if v != "" else None) for k, v in row.items()},
                           sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            leaves.append(hashlib.sha256(t["table"].encode() + b"\0" +
                row["event_id"].encode() + b"\0" + j.encode()).digest())
level = leaves
while len(level) > 1:
    level = [hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest()
             if i + 1 < len(level) else level[i] for i in range(0, len(level), 2)]
root = (level[0] if level else hashlib.sha256(b"").digest()).hex()
print(root, "OK" if root == m["merkle"]["root"] else "MISMATCH")
EOF

merkle/leaves.csv lists the same leaves, so one event can be checked alone:
   "closedloop verify THIS.zip --event EVENT_ID" prints its path to the root.

4. THE AUDIT CHAIN SEGMENT (audit/chain_segment.jsonl)
   hash = hex sha256( prev_hash || canonical JSON of the event ), where
   prev_hash is the previous link's hash as 64 hex characters ("" for the first
   link of a chain) and the canonical JSON is the object of audit_id, ts,
   actor, actor_role, action, object_type, object_id, details (keys sorted, no
   whitespace, ts as YYYY-MM-DDTHH:MM:SS.mmmZ, details as a JSON value).
   Each link's prev_hash must be the hash of an earlier line, or one of
   audit_chain.entry_prev_hashes in the manifest (the links just before the
   segment). Several writers may each keep a chain (closedloop's own actions
   have source "closedloop").

python3 - <<'EOF'
import hashlib, json
m = json.load(open("manifest.json"))["audit_chain"]
seen, entries, links, bad = set(), [], 0, 0
for n, line in enumerate(open("audit/chain_segment.jsonl", encoding="utf-8"), 1):
    e = json.loads(line)
    c = json.dumps({k: e[k] for k in ("action", "actor", "actor_role", "audit_id",
                    "details", "object_id", "object_type", "ts")},
                   sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    links += 1
    if hashlib.sha256((e["prev_hash"] + c).encode()).hexdigest() != e["hash"]:
        bad += 1
        print("line", n, e["audit_id"], "ALTERED")
    if e["prev_hash"] and e["prev_hash"] not in seen:
        entries.append(e["prev_hash"])
    seen.add(e["hash"])
print(links, "links,", bad, "altered;", "entry points OK" if entries == m["entry_prev_hashes"] else "entry points MISMATCH")
EOF
(Numbers in details are hashed as written; Python re-prints integers the
   same way, but a fraction such as 1.50 would print as 1.5.)

5. KPI FIGURES (kpis.json)
   Each figure carries the KPI, its definition version, numerator, denominator,
   value, the exact SQL text that produced it and sql_sha256 = sha256 of that
   text; re-run the SQL on a copy of the store to reproduce the figure.

PERSONAL DATA
   Customers appear only as pseudonyms (c_ + 32 hex: a keyed HMAC of the phone
   number, made at ingest). Message bodies are never stored, so never exported.
   Events deleted under the retention policy appear in tombstones.csv with their
   leaf hash, so a bundle made before the deletion still checks against it.
`, BundleFormat, m.Scope.String(), orNone(m.AsOf), m.Tool, m.ToolVersion, m.Merkle.Leaves, len(m.Tables), m.Merkle.Root,
		m.AuditChain.Links, m.AuditChain.File, m.AuditChain.InScope)
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "(no rows)"
	}
	return s
}
