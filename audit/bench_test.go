package audit

import (
	"fmt"
	"testing"
)

// benchSizes are a daily export (10k events) and a large one (1M events).
var benchSizes = []int{10_000, 1_000_000}

// benchTrees runs f over each size's leaves and their root, reporting bytes as 32 per leaf.
func benchTrees(b *testing.B, f func(b *testing.B, leaves []Hash, root Hash)) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("leaves=%d", n), func(b *testing.B) {
			leaves := testLeaves(n)
			root := MerkleRoot(leaves)
			b.SetBytes(int64(32 * n))
			b.ReportAllocs()
			f(b, leaves, root)
		})
	}
}

// BenchmarkMerkleRoot builds the export manifest's Merkle root, paid once per audit export.
func BenchmarkMerkleRoot(b *testing.B) {
	benchTrees(b, func(b *testing.B, leaves []Hash, root Hash) {
		for b.Loop() {
			if MerkleRoot(leaves) != root {
				b.Fatal("root changed")
			}
		}
	})
}

// BenchmarkMerkleProof builds and verifies one inclusion proof, the cost of answering "was this event exported?".
func BenchmarkMerkleProof(b *testing.B) {
	benchTrees(b, func(b *testing.B, leaves []Hash, root Hash) {
		i := 0
		for b.Loop() {
			i = (i + 7919) % len(leaves)
			steps, err := MerkleProof(leaves, i)
			if err != nil || !VerifyProof(leaves[i], steps, root) {
				b.Fatalf("proof of leaf %d does not verify (err %v)", i, err)
			}
		}
	})
}
