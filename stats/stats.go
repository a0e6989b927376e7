// Package stats holds the small, dependency-free statistics the pilot
// comparison needs: Wilson score intervals for a proportion, the pooled
// two-proportion z-test, and the sample size that would detect a given
// difference. Everything is closed-form and deterministic.
package stats

import (
	"errors"
	"math"
)

// Z95 is the standard normal quantile for a two-sided 95% interval.
const Z95 = 1.959963984540054

// Interval is a confidence interval for a proportion.
type Interval struct {
	Lo, Hi float64
}

// Wilson returns the Wilson score interval for x successes out of n at the
// normal quantile z (Z95 for 95%). n = 0 gives [0, 1]: nothing is known.
// Wilson (1927); Newcombe (1998) method 3.
func Wilson(x, n int64, z float64) Interval {
	if n <= 0 {
		return Interval{0, 1}
	}
	nf := float64(n)
	p := float64(x) / nf
	z2 := z * z
	den := 1 + z2/nf
	centre := (p + z2/(2*nf)) / den
	half := z / den * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	lo, hi := centre-half, centre+half
	// The bounds are exact at the edges; clamp rounding noise.
	if x == 0 || lo < 0 {
		lo = 0
	}
	if x == n || hi > 1 {
		hi = 1
	}
	return Interval{lo, hi}
}

// ZTest is the result of a pooled two-proportion z-test.
type ZTest struct {
	P1, P2 float64 // the two sample proportions
	Diff   float64 // P1 - P2
	Pooled float64 // (x1 + x2) / (n1 + n2)
	SE     float64 // pooled standard error of the difference
	Z      float64 // Diff / SE
	P      float64 // two-sided p-value
}

// ErrEmpty reports a cohort with no observations.
var ErrEmpty = errors.New("a cohort has no observations")

// TwoProportionZ tests H0: p1 = p2 against p1 ≠ p2 with the pooled
// standard error sqrt(p̂(1-p̂)(1/n1 + 1/n2)), p̂ = (x1+x2)/(n1+n2). When
// both cohorts are all successes or all failures the difference is 0 and
// so is the evidence: Z = 0, P = 1.
func TwoProportionZ(x1, n1, x2, n2 int64) (ZTest, error) {
	if n1 <= 0 || n2 <= 0 {
		return ZTest{}, ErrEmpty
	}
	t := ZTest{P1: float64(x1) / float64(n1), P2: float64(x2) / float64(n2)}
	t.Diff = t.P1 - t.P2
	t.Pooled = float64(x1+x2) / float64(n1+n2)
	t.SE = math.Sqrt(t.Pooled * (1 - t.Pooled) * (1/float64(n1) + 1/float64(n2)))
	if t.SE == 0 {
		t.P = 1
		return t, nil
	}
	t.Z = t.Diff / t.SE
	t.P = TwoSidedP(t.Z)
	return t, nil
}

// NormalCDF is Φ(x), the standard normal distribution function.
func NormalCDF(x float64) float64 {
	return 0.5 * math.Erfc(-x/math.Sqrt2)
}

// TwoSidedP is 2·(1 − Φ(|z|)), computed without cancellation.
func TwoSidedP(z float64) float64 {
	return math.Erfc(math.Abs(z) / math.Sqrt2)
}

// NormalQuantile is Φ⁻¹(p) for 0 < p < 1 (±Inf at the ends, NaN outside).
func NormalQuantile(p float64) float64 {
	switch {
	case p <= 0:
		if p == 0 {
			return math.Inf(-1)
		}
		return math.NaN()
	case p >= 1:
		if p == 1 {
			return math.Inf(1)
		}
		return math.NaN()
	}
	return -math.Sqrt2 * math.Erfcinv(2*p)
}

// SampleSize is the number of observations per cohort (equal cohorts)
// needed for a two-sided pooled two-proportion z-test at level alpha to
// detect the difference between p1 and p2 with the given power:
//
//	n = [z(1-α/2)·sqrt(2·p̄·q̄) + z(power)·sqrt(p1·q1 + p2·q2)]² / (p1 − p2)²
//
// with p̄ = (p1+p2)/2 (Fleiss, Statistical Methods for Rates and
// Proportions, without continuity correction; the formula R's
// power.prop.test solves). It returns the unrounded n, or +Inf when the
// proportions are equal (no sample detects no difference).
func SampleSize(p1, p2, alpha, power float64) float64 {
	d := math.Abs(p1 - p2)
	if d == 0 || math.IsNaN(d) {
		return math.Inf(1)
	}
	za := NormalQuantile(1 - alpha/2)
	zb := NormalQuantile(power)
	pb := (p1 + p2) / 2
	a := za*math.Sqrt(2*pb*(1-pb)) + zb*math.Sqrt(p1*(1-p1)+p2*(1-p2))
	return a * a / (d * d)
}

// Adequacy says whether a cohort is large enough for the normal
// approximation behind the z-test and the interval's reading.
type Adequacy struct {
	OK     bool
	Reason string // why not, in plain words
}

// MinN is the smallest cohort the comparison decides on.
const MinN = 30

// MinExpected is the smallest expected count of successes and of failures
// (under the pooled proportion) for the z-test to be trusted.
const MinExpected = 5

// CheckAdequacy applies the usual rules of thumb to one cohort of n
// observations under the pooled proportion: n ≥ MinN and both n·p̂ and
// n·(1−p̂) at least MinExpected.
func CheckAdequacy(n int64, pooled float64) Adequacy {
	switch {
	case n == 0:
		return Adequacy{false, "no cases"}
	case n < MinN:
		return Adequacy{false, "fewer than 30 cases"}
	case float64(n)*pooled < MinExpected:
		return Adequacy{false, "fewer than 5 expected successes"}
	case float64(n)*(1-pooled) < MinExpected:
		return Adequacy{false, "fewer than 5 expected failures"}
	}
	return Adequacy{OK: true}
}
