package storetest

import (
	"bytes"
	"strings"
	"testing"

	"github.com/closedloop/closedloop/audit"
)

// flipByte changes one byte in the middle of data (or at the given offset).
func flipByte(data []byte, at int) []byte {
	out := append([]byte(nil), data...)
	if at < 0 {
		at = len(out) / 2
	}
	if out[at] == 'x' {
		out[at] = 'y'
	} else {
		out[at] = 'x'
	}
	return out
}

func TestTamperingIsDetectedAndNamed(t *testing.T) {
	f := newFixture(t)
	orig, res := f.export(t, caseScope)
	files := unzip(t, orig)
	csvLine := func(name string, n int) (int, int) { // byte range of line n (1-based)
		lines := bytes.SplitAfter(files[name], []byte("\n"))
		start := 0
		for i := 0; i < n-1; i++ {
			start += len(lines[i])
		}
		return start, start + len(lines[n-1])
	}

	type tamper struct {
		name   string
		mutate func(map[string][]byte)
		want   []string // substrings each expected in the report
	}
	s3, _ := csvLine("events/case_events.csv", 3)
	tampers := []tamper{
		{"parquet byte", func(m map[string][]byte) {
			m["events/case_events.parquet"] = flipByte(m["events/case_events.parquet"], -1)
		},
			[]string{"ALTERED   files       events/case_events.parquet: sha256 is"}},
		{"csv byte", func(m map[string][]byte) {
			i := s3 + bytes.Index(m["events/case_events.csv"][s3:], []byte("identity_failed"))
			m["events/case_events.csv"] = flipByte(m["events/case_events.csv"], i)
		}, []string{"ALTERED   files       events/case_events.csv: sha256", "ALTERED   events      events/case_events.csv line 3: event WF-0000002-hand differs from its signed leaf"}},
		{"csv byte in an event id", func(m map[string][]byte) {
			m["events/case_events.csv"] = flipByte(m["events/case_events.csv"], s3+len("WF-0000002-"))
		}, []string{"ADDED     events      events/case_events.csv line 3: event WF-0000002-xand is not among the signed leaves",
			"MISSING   events      events/case_events.csv: event WF-0000002-hand (signed leaf 3) is not in the CSV"}},
		{"manifest byte", func(m map[string][]byte) {
			m["manifest.json"] = bytes.Replace(m["manifest.json"], []byte(`"reveal": false`), []byte(`"reveal": falsf`), 1)
			m["manifest.json"] = bytes.Replace(m["manifest.json"], []byte(`"as_of": "2026`), []byte(`"as_of": "2027`), 1)
		}, []string{"manifest.json"}},
		{"manifest byte (still valid JSON)", func(m map[string][]byte) {
			m["manifest.json"] = bytes.Replace(m["manifest.json"], []byte(`"as_of": "2026`), []byte(`"as_of": "2027`), 1)
		}, []string{"ALTERED   signature   manifest.json / manifest.sig: the Ed25519 signature does not verify"}},
		{"kpis byte", func(m map[string][]byte) { m["kpis.json"] = flipByte(m["kpis.json"], -1) },
			[]string{"ALTERED   files       kpis.json: sha256"}},
		{"audit segment byte", func(m map[string][]byte) {
			m["audit/chain_segment.jsonl"] = bytes.Replace(m["audit/chain_segment.jsonl"], []byte("identity_failed"), []byte("identity_faileD"), 1)
		}, []string{"ALTERED   files       audit/chain_segment.jsonl: sha256", "audit/chain_segment.jsonl line 1: link AUD-00000012 changed"}},
		{"signature byte", func(m map[string][]byte) { m["manifest.sig"] = flipByte(m["manifest.sig"], 10) },
			[]string{"manifest.sig: the Ed25519 signature does not verify"}},
		{"leaves byte", func(m map[string][]byte) {
			b := append([]byte(nil), m["merkle/leaves.csv"]...)
			i := len(b) - 5
			if b[i] == '0' {
				b[i] = '1'
			} else {
				b[i] = '0'
			}
			m["merkle/leaves.csv"] = b
		},
			[]string{"ALTERED   files       merkle/leaves.csv: sha256", "merkle/leaves.csv: its leaves give root"}},
		{"readme byte", func(m map[string][]byte) { m["README.txt"] = flipByte(m["README.txt"], 3) },
			[]string{"ALTERED   files       README.txt"}},
		{"public key swapped", func(m map[string][]byte) {
			pub, _, _ := audit.GenerateKey()
			m["signing_key.pub"], _ = audit.EncodePublicKeyPEM(pub)
		}, []string{"signing_key.pub: is not the pinned key", "ALTERED   files       signing_key.pub"}},
		{"drop a file", func(m map[string][]byte) { delete(m, "events/writebacks.parquet") },
			[]string{"MISSING   files       events/writebacks.parquet: listed in the manifest"}},
		{"drop the signature", func(m map[string][]byte) { delete(m, "manifest.sig") },
			[]string{"MISSING   signature   manifest.sig: the bundle is not signed"}},
		{"drop a csv", func(m map[string][]byte) { delete(m, "events/messages.csv") },
			[]string{"MISSING   files       events/messages.csv", "MISSING   events      events/messages.csv"}},
		{"add a file", func(m map[string][]byte) { m["events/extra.csv"] = []byte("event_id\nforged\n") },
			[]string{"ADDED     files       events/extra.csv: is in the bundle but not in the manifest"}},
		{"reorder events", func(m map[string][]byte) {
			lines := strings.SplitAfter(string(m["events/case_events.csv"]), "\n")
			lines[1], lines[2] = lines[2], lines[1]
			m["events/case_events.csv"] = []byte(strings.Join(lines, ""))
		}, []string{"ALTERED   files       events/case_events.csv", "REORDERED events      events/case_events.csv line 3"}},
		{"delete an event row", func(m map[string][]byte) {
			lines := strings.SplitAfter(string(m["events/case_events.csv"]), "\n")
			m["events/case_events.csv"] = []byte(strings.Join(append(lines[:2], lines[3:]...), ""))
		}, []string{"MISSING   events      events/case_events.csv: event WF-0000002-hand"}},
		{"add an event row", func(m map[string][]byte) {
			m["events/writebacks.csv"] = append(m["events/writebacks.csv"], []byte("zz-forged,WB-x,WF-0000002,,,,,1,success,false,2026-02-17T23:00:00.000Z,,test,x,2026-02-17T23:00:00.000Z\n")...)
		}, []string{"ADDED     events      events/writebacks.csv line 4: event zz-forged is not among the signed leaves"}},
	}
	for _, tc := range tampers {
		t.Run(tc.name, func(t *testing.T) {
			m := unzip(t, orig)
			tc.mutate(m)
			r, out := verify(t, rezip(t, m), audit.VerifyOptions{PublicKey: f.pub})
			if r.Intact() || !strings.Contains(out, "RESULT: NOT INTACT") {
				t.Fatalf("not detected:\n%s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("report does not name %q:\n%s", w, out)
				}
			}
		})
	}
	_ = res

	// Without pinning, a bundle re-signed by someone else's key verifies
	// (integrity only), and the report says the key was not pinned.
	m := unzip(t, orig)
	r, out := verify(t, rezip(t, m), audit.VerifyOptions{})
	if !r.Intact() || !strings.Contains(out, "not pinned") {
		t.Fatalf("unpinned:\n%s", out)
	}
}

func TestInclusionProofs(t *testing.T) {
	f := newFixture(t)
	b, res := f.export(t, periodScope())
	files := unzip(t, b)
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(string(files["merkle/leaves.csv"])), "\n")[1:] {
		c := strings.Split(line, ",")
		ids = append(ids, c[1]+"/"+c[2])
	}
	if len(ids) != res.Manifest.Merkle.Leaves || len(ids) < 5 {
		t.Fatalf("%d leaves", len(ids))
	}
	for _, i := range []int{0, len(ids) / 2, len(ids) - 1} {
		r, out := verify(t, b, audit.VerifyOptions{PublicKey: f.pub, EventID: ids[i]})
		if !r.Intact() || r.Proof == nil || !r.Proof.Valid || r.Proof.LeafIndex != i {
			t.Fatalf("proof of leaf %d (%s):\n%s", i, ids[i], out)
		}
		if !strings.Contains(out, "inclusion proof of "+ids[i]) || !strings.Contains(out, res.Manifest.Merkle.Root) {
			t.Fatal(out)
		}
	}
	// A bare event id works too; an unknown one is a problem.
	bare := ids[1][strings.Index(ids[1], "/")+1:]
	if r, out := verify(t, b, audit.VerifyOptions{EventID: bare}); r.Proof == nil || !r.Proof.Valid {
		t.Fatal(out)
	}
	if r, _ := verify(t, b, audit.VerifyOptions{EventID: "nope"}); r.Intact() {
		t.Fatal("unknown event accepted")
	}
	// The proof of a row that was altered does not reach the signed root.
	m := unzip(t, b)
	m["events/actions.csv"] = bytes.Replace(m["events/actions.csv"], []byte("identity_failed"), []byte("identity_valid"), 1)
	r, _ := verify(t, rezip(t, m), audit.VerifyOptions{EventID: "actions/WF-0000002-a1"})
	if r.Proof == nil || r.Proof.Valid {
		t.Fatal("altered row still proves")
	}
}
