package audit

import (
	"crypto/sha256"
	"fmt"
	"testing"
)

func testLeaves(n int) []Hash {
	out := make([]Hash, n)
	for i := range out {
		out[i] = LeafHash("t", fmt.Sprint(i), []byte(fmt.Sprintf(`{"i":"%d"}`, i)))
	}
	return out
}

// rfc6962 is the recursive Merkle Tree Hash of RFC 6962 §2.1 over leaf
// digests (our leaves are already hashed).
func rfc6962(ls []Hash) Hash {
	switch len(ls) {
	case 0:
		return sha256.Sum256(nil)
	case 1:
		return ls[0]
	}
	k := 1
	for k*2 < len(ls) {
		k *= 2
	}
	return NodeHash(rfc6962(ls[:k]), rfc6962(ls[k:]))
}

func TestMerkleRootIsRFC6962Shape(t *testing.T) {
	for n := 0; n <= 40; n++ {
		ls := testLeaves(n)
		if MerkleRoot(ls) != rfc6962(ls) {
			t.Fatalf("n=%d: root differs from RFC 6962", n)
		}
	}
}

func TestMerkleProofs(t *testing.T) {
	for _, n := range []int{1, 2, 3, 4, 5, 7, 8, 13} {
		ls := testLeaves(n)
		root := MerkleRoot(ls)
		idx := map[int]bool{0: true, n - 1: true, n / 2: true}
		if n > 40 {
			continue
		}
		for i := 0; i < n; i++ { // every leaf, which covers first, middle and last
			steps, err := MerkleProof(ls, i)
			if err != nil {
				t.Fatal(err)
			}
			if !VerifyProof(ls[i], steps, root) {
				t.Fatalf("n=%d leaf %d: proof does not verify", n, i)
			}
			if idx[i] && len(steps) > 0 {
				bad := append([]ProofStep(nil), steps...)
				bad[0].Sibling[0] ^= 1
				if VerifyProof(ls[i], bad, root) {
					t.Fatalf("n=%d leaf %d: tampered sibling accepted", n, i)
				}
				flipped := append([]ProofStep(nil), steps...)
				if flipped[0].Side == "left" {
					flipped[0].Side = "right"
				} else {
					flipped[0].Side = "left"
				}
				if VerifyProof(ls[i], flipped, root) {
					t.Fatalf("n=%d leaf %d: proof with the wrong side accepted", n, i)
				}
			}
			other := ls[(i+1)%n]
			if n > 1 && VerifyProof(other, steps, root) {
				t.Fatalf("n=%d leaf %d: proof accepted another leaf", n, i)
			}
		}
	}
	if _, err := MerkleProof(testLeaves(3), 3); err == nil {
		t.Fatal("out of range proof")
	}
}

func TestMerkleSmallTreesByHand(t *testing.T) {
	ls := testLeaves(3)
	want := NodeHash(NodeHash(ls[0], ls[1]), ls[2])
	if MerkleRoot(ls) != want {
		t.Fatal("3 leaves")
	}
	if MerkleRoot(ls[:1]) != ls[0] {
		t.Fatal("1 leaf is its own root")
	}
	steps, _ := MerkleProof(ls, 2)
	if len(steps) != 1 || steps[0].Side != "left" || steps[0].Sibling != NodeHash(ls[0], ls[1]) {
		t.Fatalf("proof of the carried-up leaf: %+v", steps)
	}
	if MerkleRoot(nil) != EmptyRoot {
		t.Fatal("empty")
	}
}
