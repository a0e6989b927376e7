package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// Hash is a SHA-256 digest.
type Hash [32]byte

func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// ParseHash reads 64 hex characters.
func ParseHash(s string) (Hash, error) {
	var h Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(h) {
		return h, fmt.Errorf("%q is not a SHA-256 hex digest", s)
	}
	copy(h[:], b)
	return h, nil
}

// LeafHash is the Merkle leaf of one exported event:
// SHA-256( table ‖ 0x00 ‖ event_id ‖ 0x00 ‖ row JSON ), where row JSON is
// RowJSON of the event's CSV row.
func LeafHash(table, eventID string, rowJSON []byte) Hash {
	h := sha256.New()
	h.Write([]byte(table))
	h.Write([]byte{0})
	h.Write([]byte(eventID))
	h.Write([]byte{0})
	h.Write(rowJSON)
	var out Hash
	h.Sum(out[:0])
	return out
}

// NodeHash joins two subtrees: SHA-256( 0x01 ‖ left ‖ right ) over the raw
// 32-byte digests. The 0x01 prefix keeps interior nodes apart from leaves
// (a leaf's input starts with a table name).
func NodeHash(left, right Hash) Hash {
	var b [65]byte
	b[0] = 1
	copy(b[1:], left[:])
	copy(b[33:], right[:])
	return sha256.Sum256(b[:])
}

// EmptyRoot is the root of a tree without leaves: SHA-256 of nothing.
var EmptyRoot = Hash(sha256.Sum256(nil))

// MerkleRoot builds the tree level by level: neighbours are paired left to
// right; an odd last node is carried up unchanged. This is the same tree
// as RFC 6962 §2.1 (left subtree = the largest power of two of leaves).
func MerkleRoot(leaves []Hash) Hash {
	if len(leaves) == 0 {
		return EmptyRoot
	}
	level := append([]Hash(nil), leaves...)
	for len(level) > 1 {
		next := level[:0:0]
		for i := 0; i < len(level); i += 2 {
			if i+1 < len(level) {
				next = append(next, NodeHash(level[i], level[i+1]))
			} else {
				next = append(next, level[i])
			}
		}
		level = next
	}
	return level[0]
}

// ProofStep is one sibling on the path from a leaf to the root.
type ProofStep struct {
	Level   int    // 0 = the leaves' level
	Side    string // "left" or "right": where the sibling sits
	Sibling Hash
	Parent  Hash // the node computed at this step
}

// MerkleProof returns the inclusion proof of leaf i: the siblings from the
// leaf up to the root. Levels where the node is carried up have no step.
func MerkleProof(leaves []Hash, i int) ([]ProofStep, error) {
	if i < 0 || i >= len(leaves) {
		return nil, fmt.Errorf("leaf %d out of range (tree has %d leaves)", i, len(leaves))
	}
	var steps []ProofStep
	level := append([]Hash(nil), leaves...)
	idx := i
	for depth := 0; len(level) > 1; depth++ {
		if idx%2 == 1 {
			steps = append(steps, ProofStep{Level: depth, Side: "left", Sibling: level[idx-1], Parent: NodeHash(level[idx-1], level[idx])})
		} else if idx+1 < len(level) {
			steps = append(steps, ProofStep{Level: depth, Side: "right", Sibling: level[idx+1], Parent: NodeHash(level[idx], level[idx+1])})
		}
		next := level[:0:0]
		for j := 0; j < len(level); j += 2 {
			if j+1 < len(level) {
				next = append(next, NodeHash(level[j], level[j+1]))
			} else {
				next = append(next, level[j])
			}
		}
		level = next
		idx /= 2
	}
	return steps, nil
}

// VerifyProof folds the siblings onto leaf and compares with root.
func VerifyProof(leaf Hash, steps []ProofStep, root Hash) bool {
	cur := leaf
	for _, s := range steps {
		switch s.Side {
		case "left":
			cur = NodeHash(s.Sibling, cur)
		case "right":
			cur = NodeHash(cur, s.Sibling)
		default:
			return false
		}
	}
	return cur == root
}
