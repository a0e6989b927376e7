package audit

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

// genLinks reads testdata/gen_audit.jsonl, a chain written by the gen
// package (closedloop gen), as the store would hold it.
func genLinks(t *testing.T) []Link {
	t.Helper()
	f, err := os.Open("testdata/gen_audit.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Link
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l struct {
			AuditID, TS, Actor, ActorRole, Action, ObjectType, ObjectID, PrevHash, Hash string
			Details                                                                     json.RawMessage
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
			t.Fatal(err)
		}
		str := func(k string) string {
			var s string
			_ = json.Unmarshal(raw[k], &s)
			return s
		}
		l.Details = raw["details"]
		ts, err := time.Parse(time.RFC3339Nano, str("ts"))
		if err != nil {
			t.Fatal(err)
		}
		var compact strings.Builder
		c, err := CanonicalizeJSONText(l.Details)
		if err != nil {
			t.Fatal(err)
		}
		compact.Write(c)
		out = append(out, Link{EventID: "ev-" + str("audit_id"), AuditID: str("audit_id"), TS: ts, Actor: str("actor"),
			ActorRole: str("actor_role"), Action: str("action"), ObjectType: str("object_type"), ObjectID: str("object_id"),
			Details: compact.String(), PrevHash: str("prev_hash"), Hash: str("hash"), Source: "canonical"})
	}
	return out
}

func TestGeneratedChainVerifies(t *testing.T) {
	links := genLinks(t)
	if len(links) < 10 {
		t.Fatalf("fixture has %d links", len(links))
	}
	rep := WalkChain(links, false)
	if !rep.OK() {
		t.Fatalf("gen chain does not verify under the audit rule: %v", rep.Problems[0])
	}
	if rep.Geneses != 1 || len(rep.Heads) != 1 || rep.Heads[0] != links[len(links)-1].Hash {
		t.Fatalf("geneses %d heads %v", rep.Geneses, rep.Heads)
	}
}

func TestChainNamesTheBrokenLink(t *testing.T) {
	base := genLinks(t)
	clone := func() []Link { return append([]Link(nil), base...) }

	// Content change: exactly that link is named, as a content change.
	ls := clone()
	ls[5].Details = `{"tampered":true}`
	rep := WalkChain(ls, false)
	if len(rep.Problems) != 1 || rep.Problems[0].Index != 5 || rep.Problems[0].Kind != ChainContent {
		t.Fatalf("content change: %+v", rep.Problems)
	}
	if rep.Problems[0].Stored != base[5].Hash || rep.Problems[0].Expected == base[5].Hash {
		t.Fatalf("expected/stored: %+v", rep.Problems[0])
	}
	if !strings.Contains(rep.Problems[0].String(), base[5].AuditID) {
		t.Fatal(rep.Problems[0].String())
	}

	// Rewritten link with a recomputed hash: the next link's prev_hash no
	// longer matches and is named.
	ls = clone()
	ls[7].Actor = "mallory"
	ls[7].Hash, _ = ls[7].ComputeHash()
	rep = WalkChain(ls, false)
	if len(rep.Problems) != 1 || rep.Problems[0].Index != 8 || rep.Problems[0].Kind != ChainPrevHash || rep.Problems[0].Expected != ls[7].Hash {
		t.Fatalf("rehashed link: %+v", rep.Problems)
	}

	// A deleted link.
	ls = clone()
	ls = append(ls[:3], ls[4:]...)
	rep = WalkChain(ls, false)
	if len(rep.Problems) != 1 || rep.Problems[0].Link.AuditID != base[4].AuditID || rep.Problems[0].Kind != ChainPrevHash {
		t.Fatalf("deleted link: %+v", rep.Problems)
	}

	// A forged link following the same predecessor: a fork.
	ls = clone()
	forged := ls[10]
	forged.AuditID, forged.EventID = forged.AuditID+"x", forged.EventID+"x"
	forged.Hash, _ = forged.ComputeHash()
	ls = append(ls[:11], append([]Link{forged}, ls[11:]...)...)
	rep = WalkChain(ls, false)
	if len(rep.Problems) != 1 || rep.Problems[0].Kind != ChainFork || rep.Problems[0].Index != 11 {
		t.Fatalf("fork: %+v", rep.Problems)
	}

	// A segment starting mid-chain is fine when entries are allowed.
	rep = WalkChain(base[20:30], true)
	if !rep.OK() || len(rep.Entries) != 1 || rep.Entries[0] != base[19].Hash {
		t.Fatalf("segment: %+v", rep)
	}
}

func TestLinkCanonicalForm(t *testing.T) {
	l := Link{AuditID: "A-1", TS: time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC), Action: "ingest.run", Details: `{"b":2, "a":"x"}`}
	c, err := l.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"action":"ingest.run","actor":"","actor_role":"","audit_id":"A-1","details":{"a":"x","b":2},"object_id":"","object_type":"","ts":"2026-03-02T06:00:00.000Z"}`
	if string(c) != want {
		t.Fatalf("got  %s\nwant %s", c, want)
	}
	l.Details = ""
	c, _ = l.Canonical()
	if !strings.Contains(string(c), `"details":null`) {
		t.Fatal(string(c))
	}
	if ChainHash("", []byte("x")) != "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881" {
		t.Fatal("sha256 of x")
	}
}
