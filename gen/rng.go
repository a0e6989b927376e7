package gen

import (
	"math"
	"math/rand/v2"
)

// Stream numbers separate the independent uses of one seed, so that adding a
// draw in one place does not shift the numbers drawn anywhere else.
const (
	streamPlan   uint64 = 1
	streamGlobal uint64 = 2
	streamSink   uint64 = 3 << 40 // + sink number
	streamCase   uint64 = 4 << 40 // + planning index of the case
	// streamChannel drives a case's SMS, e-mail and mini-app decisions
	// (+ planning index), apart from its WhatsApp stream.
	streamChannel uint64 = 5 << 40
)

// newRand returns a PCG generator for one stream of the seed.
func newRand(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), stream))
}

// splitmix64 is a bijective mixer used to derive fixed per-entity traits
// (a customer's country, a wamid's bytes) without keeping them in memory.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// chance reports true with probability p.
func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }

// between returns a uniform value in [lo, hi) (lo when the range is empty).
func between(r *rand.Rand, lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	return lo + r.Int64N(hi-lo)
}

// lognormal draws a positive, right-skewed value with the given median:
// response times and delays in service operations look like this.
func lognormal(r *rand.Rand, median, sigma float64) float64 {
	return median * math.Exp(sigma*r.NormFloat64())
}

// pickWeighted returns an index drawn with the given (not necessarily
// normalised) weights.
func pickWeighted(r *rand.Rand, weights []float64) int {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	x := r.Float64() * total
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

// pick returns a uniformly chosen element.
func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// weighted is a value with a relative weight.
type weighted[T any] struct {
	v T
	w float64
}

// pickW draws one value of a weighted list.
func pickW[T any](r *rand.Rand, xs []weighted[T]) T {
	total := 0.0
	for _, x := range xs {
		total += x.w
	}
	v := r.Float64() * total
	for _, x := range xs {
		if v < x.w {
			return x.v
		}
		v -= x.w
	}
	return xs[len(xs)-1].v
}
