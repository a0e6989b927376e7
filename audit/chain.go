package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"time"
)

// Link is one row of audit_events: a link of the hash chain.
type Link struct {
	EventID    string
	AuditID    string
	TS         time.Time
	Actor      string
	ActorRole  string
	Action     string
	ObjectType string
	ObjectID   string
	Details    string // JSON text as stored; "" is SQL NULL
	PrevHash   string
	Hash       string
	Source     string
}

// Canonical returns the canonical JSON of the link's hashed fields: the
// object {action, actor, actor_role, audit_id, details, object_id,
// object_type, ts} (keys in that, sorted, order) where the string fields are
// the stored text (NULL is ""), ts is FormatTime(ts) and details is the
// stored JSON text parsed and re-serialised canonically (NULL is null).
func (l Link) Canonical() ([]byte, error) {
	var details any
	if l.Details != "" {
		v, err := ParseJSON([]byte(l.Details))
		if err != nil {
			return nil, fmt.Errorf("details is not valid JSON: %v", err)
		}
		details = v
	}
	return CanonicalJSON(map[string]any{
		"audit_id":    l.AuditID,
		"ts":          FormatTime(l.TS),
		"actor":       l.Actor,
		"actor_role":  l.ActorRole,
		"action":      l.Action,
		"object_type": l.ObjectType,
		"object_id":   l.ObjectID,
		"details":     details,
	})
}

// ChainHash is the chain rule: lower-case hex SHA-256 of the previous
// link's hash (its 64 hex characters as ASCII; "" for the first link)
// immediately followed by the canonical JSON of the event.
func ChainHash(prevHash string, canonical []byte) string {
	h := sha256.New()
	h.Write([]byte(prevHash))
	h.Write(canonical)
	return hex.EncodeToString(h.Sum(nil))
}

// ComputeHash returns the hash the link should carry given its prev_hash.
func (l Link) ComputeHash() (string, error) {
	c, err := l.Canonical()
	if err != nil {
		return "", err
	}
	return ChainHash(l.PrevHash, c), nil
}

// LinkLess is the total order of the chain walk: ts, then audit_id, then
// event_id (byte order).
func LinkLess(a, b Link) bool {
	if !a.TS.Equal(b.TS) {
		return a.TS.Before(b.TS)
	}
	if a.AuditID != b.AuditID {
		return a.AuditID < b.AuditID
	}
	return a.EventID < b.EventID
}

// SortLinks sorts links into walk order.
func SortLinks(links []Link) {
	sort.SliceStable(links, func(i, j int) bool { return LinkLess(links[i], links[j]) })
}

// Problem kinds of a chain walk.
const (
	ChainContent  = "content changed"    // the stored hash is not the hash of the stored fields and prev_hash
	ChainPrevHash = "prev_hash mismatch" // prev_hash is the hash of no earlier link
	ChainFork     = "fork"               // two links follow the same prev_hash
	ChainDetails  = "invalid details"    // details is not JSON, so the link cannot be hashed
	ChainOrder    = "out of order"       // links are not in walk order
)

// ChainProblem is one broken link.
type ChainProblem struct {
	Index    int // position in the walk (0-based)
	Link     Link
	Kind     string
	Expected string // content: recomputed hash; prev_hash: hash of the preceding link of the same source
	Stored   string // content: stored hash; prev_hash/fork: stored prev_hash
	Detail   string
}

func (p ChainProblem) String() string {
	id := p.Link.AuditID
	if id == "" {
		id = p.Link.EventID
	}
	s := fmt.Sprintf("link %d %s (ts %s, source %s): %s", p.Index+1, id, FormatTime(p.Link.TS), p.Link.Source, p.Kind)
	switch p.Kind {
	case ChainContent:
		s += fmt.Sprintf(" — stored hash %s, but its fields and prev_hash hash to %s", p.Stored, p.Expected)
	case ChainPrevHash:
		s += fmt.Sprintf(" — stored prev_hash %s is the hash of no earlier link", p.Stored)
		if p.Expected != "" {
			s += fmt.Sprintf("; expected %s", p.Expected)
		}
	}
	if p.Detail != "" {
		s += " — " + p.Detail
	}
	return s
}

// ChainReport is the result of walking links.
type ChainReport struct {
	Links    int
	Geneses  int      // links with an empty prev_hash
	Entries  []string // non-empty prev_hashes that name no link of the walk, in walk order
	Heads    []string // hashes no later link follows, in walk order
	Sources  map[string]int
	Problems []ChainProblem
}

// OK reports a walk without problems (entries are not problems by themselves).
func (r ChainReport) OK() bool { return len(r.Problems) == 0 }

// WalkChain checks links given in walk order (LinkLess). Every link's hash
// is recomputed from its fields and prev_hash; every non-empty prev_hash
// must be the stored hash of an earlier link (otherwise it is reported in
// Entries, and, when entriesAllowed is false, as a prev_hash mismatch); no
// two links may follow the same prev_hash. Several chains may share the
// walk (each writer keeps its own; each starts with an empty prev_hash).
// A link whose content changed is reported alone: the next link still
// matches its stored hash, so exactly the altered link is named.
func WalkChain(links []Link, entriesAllowed bool) ChainReport {
	r := ChainReport{Links: len(links), Sources: map[string]int{}}
	seen := make(map[string]int, len(links))     // stored hash → index
	followed := make(map[string]int, len(links)) // prev_hash → index of the link that follows it
	lastBySource := map[string]int{}
	for i, l := range links {
		r.Sources[l.Source]++
		if i > 0 && LinkLess(l, links[i-1]) {
			r.Problems = append(r.Problems, ChainProblem{Index: i, Link: l, Kind: ChainOrder,
				Detail: fmt.Sprintf("comes before link %d %s in (ts, audit_id, event_id) order", i, links[i-1].AuditID)})
		}
		if exp, err := l.ComputeHash(); err != nil {
			r.Problems = append(r.Problems, ChainProblem{Index: i, Link: l, Kind: ChainDetails, Detail: err.Error()})
		} else if exp != l.Hash {
			r.Problems = append(r.Problems, ChainProblem{Index: i, Link: l, Kind: ChainContent, Expected: exp, Stored: l.Hash})
		}
		switch {
		case l.PrevHash == "":
			r.Geneses++
		default:
			if j, ok := followed[l.PrevHash]; ok {
				r.Problems = append(r.Problems, ChainProblem{Index: i, Link: l, Kind: ChainFork, Stored: l.PrevHash,
					Detail: fmt.Sprintf("link %d %s already follows prev_hash %s", j+1, links[j].AuditID, l.PrevHash)})
			} else if _, ok := seen[l.PrevHash]; !ok {
				r.Entries = append(r.Entries, l.PrevHash)
				if !entriesAllowed {
					p := ChainProblem{Index: i, Link: l, Kind: ChainPrevHash, Stored: l.PrevHash}
					if j, ok := lastBySource[l.Source]; ok {
						p.Expected = links[j].Hash
						p.Detail = fmt.Sprintf("the preceding link from source %s is %s; a link between them is missing or was changed", l.Source, links[j].AuditID)
					}
					r.Problems = append(r.Problems, p)
				}
			}
			followed[l.PrevHash] = i
		}
		if _, dup := seen[l.Hash]; !dup {
			seen[l.Hash] = i
		}
		lastBySource[l.Source] = i
	}
	for i, l := range links {
		if _, ok := followed[l.Hash]; !ok {
			r.Heads = append(r.Heads, links[i].Hash)
		}
	}
	return r
}
