package stats

import (
	"math"
	"sort"
)

// MannWhitney is the result of a two-sided Mann–Whitney U test (Wilcoxon
// rank-sum test) with the normal approximation.
type MannWhitney struct {
	N1, N2 int
	// R1 is the rank sum of the first sample in the pooled ranking
	// (tied values share their mean rank).
	R1 float64
	// U1 = R1 − n1(n1+1)/2 counts the pairs (x, y) with x > y, ties
	// counting one half; U2 = n1·n2 − U1.
	U1, U2 float64
	// Mean and SD of U under H0; SD includes the tie correction
	// σ² = n1·n2/12 · ((n+1) − Σ(t³ − t)/(n(n−1))).
	Mean, SD float64
	// Z is (U1 − Mean ∓ ½)/SD with the continuity correction toward the
	// mean (0 when |U1 − Mean| ≤ ½); P is the two-sided p-value.
	Z, P float64
	// PSup = U1/(n1·n2): the chance that a value of the first sample
	// exceeds one of the second, ties counting one half (the "common
	// language effect size"; 0.5 when the samples do not differ).
	PSup float64
}

// MannWhitneyU tests H0: the two samples come from the same distribution
// against a shift either way, as R's wilcox.test(x, y, exact = FALSE,
// correct = TRUE) and SciPy's mannwhitneyu(x, y, method="asymptotic") do:
// pooled mid-ranks, tie-corrected variance, continuity correction of ½.
// Both samples must be non-empty (ErrEmpty otherwise). When every value
// is tied the variance is 0: Z = 0 and P = 1.
func MannWhitneyU(x, y []float64) (MannWhitney, error) {
	n1, n2 := len(x), len(y)
	if n1 == 0 || n2 == 0 {
		return MannWhitney{}, ErrEmpty
	}
	type obs struct {
		v     float64
		first bool
	}
	all := make([]obs, 0, n1+n2)
	for _, v := range x {
		all = append(all, obs{v, true})
	}
	for _, v := range y {
		all = append(all, obs{v, false})
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].v < all[j].v })
	n := float64(n1 + n2)
	var r1, tieSum float64
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		// Positions i..j-1 (0-based) hold ranks i+1..j: their mean.
		rank := float64(i+1+j) / 2
		t := float64(j - i)
		tieSum += t*t*t - t
		for k := i; k < j; k++ {
			if all[k].first {
				r1 += rank
			}
		}
		i = j
	}
	f1, f2 := float64(n1), float64(n2)
	r := MannWhitney{N1: n1, N2: n2, R1: r1}
	r.U1 = r1 - f1*(f1+1)/2
	r.U2 = f1*f2 - r.U1
	r.Mean = f1 * f2 / 2
	r.PSup = r.U1 / (f1 * f2)
	variance := f1 * f2 / 12 * ((n + 1) - tieSum/(n*(n-1)))
	if n < 2 || variance <= 0 {
		r.P = 1
		return r, nil
	}
	r.SD = math.Sqrt(variance)
	d := r.U1 - r.Mean
	switch {
	case d > 0.5:
		d -= 0.5
	case d < -0.5:
		d += 0.5
	default:
		d = 0
	}
	r.Z = d / r.SD
	r.P = math.Min(1, TwoSidedP(r.Z))
	return r, nil
}

// MannWhitneySampleSize is the number of observations per cohort (equal
// cohorts) for a two-sided Mann–Whitney test at level alpha to detect,
// with the given power, samples whose PSup (see MannWhitney) is psup:
//
//	N = (z(1−α/2) + z(power))² / (12·c·(1−c)·(psup − ½)²),  c = ½,
//
// per cohort N/2 (Noether, "Sample size determination for some common
// nonparametric tests", JASA 82 (1987) 645–647). It returns the unrounded
// n, or +Inf when psup is ½ (no sample detects no difference).
func MannWhitneySampleSize(psup, alpha, power float64) float64 {
	d := math.Abs(psup - 0.5)
	if d == 0 || math.IsNaN(d) {
		return math.Inf(1)
	}
	z := NormalQuantile(1-alpha/2) + NormalQuantile(power)
	total := z * z / (12 * 0.25 * d * d)
	return total / 2
}

// Median is the median by the nearest-rank method used for every
// percentile in closedloop (SPEC §3): the value at 1-based position
// ceil(n/2) of the ascending list. NaN for an empty list. The input is
// not modified.
func Median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[(len(s)+1)/2-1]
}
