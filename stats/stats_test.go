package stats

import (
	"math"
	"testing"
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.6f, want %.6f ± %g", what, got, want, tol)
	}
}

// Newcombe RG. Two-sided confidence intervals for the single proportion:
// comparison of seven methods. Statistics in Medicine 1998;17:857–872,
// Table I, method 3 (Wilson score interval without continuity correction),
// reported to four decimals.
func TestWilsonNewcombe1998(t *testing.T) {
	for _, c := range []struct {
		x, n   int64
		lo, hi float64
	}{
		{81, 263, 0.2553, 0.3662},
		{15, 148, 0.0624, 0.1605},
		{0, 20, 0.0000, 0.1611},
		{1, 29, 0.0061, 0.1718},
	} {
		iv := Wilson(c.x, c.n, Z95)
		near(t, "lower", iv.Lo, c.lo, 0.00005+1e-9)
		near(t, "upper", iv.Hi, c.hi, 0.00005+1e-9)
	}
}

func TestWilsonEdges(t *testing.T) {
	if iv := Wilson(0, 0, Z95); iv.Lo != 0 || iv.Hi != 1 {
		t.Errorf("n=0: %v, want [0,1]", iv)
	}
	if iv := Wilson(20, 20, Z95); iv.Hi != 1 || iv.Lo <= 0.8 || iv.Lo >= 0.85 {
		// 20/20 is the mirror of 0/20: lower bound 1 − 0.1611.
		t.Errorf("20/20: %v", iv)
	}
	near(t, "20/20 lower", Wilson(20, 20, Z95).Lo, 1-0.1611, 0.00005)
}

// Larson R, Farber B. Elementary Statistics: Picturing the World (4th ed.),
// §8.4 Example 1: seat-belt use, 86% of 150 car occupants against 74% of
// 200 pickup occupants; pooled p̄ = 0.7914 and z ≈ 2.73 (two-sided).
func TestTwoProportionZLarsonFarber(t *testing.T) {
	r, err := TwoProportionZ(129, 150, 148, 200)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "pooled", r.Pooled, 0.7914, 0.00005)
	near(t, "z", r.Z, 2.73, 0.005)
	near(t, "p", r.P, 0.0063, 0.0002)
}

// Diez, Çetinkaya-Rundel, Barr. OpenIntro Statistics (4th ed.), §6.2.3,
// the mammogram experiment: 500 of 44,925 deaths with mammograms against
// 505 of 44,910 in the control group; pooled p̂ = 0.0112, SE = 0.00070,
// Z = −0.17 and p-value 0.865 (the book rounds Z before looking it up, so
// the tolerances follow its rounding).
func TestTwoProportionZOpenIntro(t *testing.T) {
	r, err := TwoProportionZ(500, 44925, 505, 44910)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "pooled", r.Pooled, 0.0112, 0.00005)
	near(t, "se", r.SE, 0.00070, 0.000005)
	near(t, "z", r.Z, -0.17, 0.01)
	near(t, "p", r.P, 0.865, 0.01)
}

// The pooled z-test is the Pearson χ² test of the 2×2 table: z² = χ².
func TestZSquaredIsPearsonChiSquare(t *testing.T) {
	x1, n1, x2, n2 := int64(37), int64(120), int64(58), int64(131)
	r, _ := TwoProportionZ(x1, n1, x2, n2)
	obs := [2][2]float64{{float64(x1), float64(n1 - x1)}, {float64(x2), float64(n2 - x2)}}
	rows := [2]float64{float64(n1), float64(n2)}
	cols := [2]float64{float64(x1 + x2), float64(n1 + n2 - x1 - x2)}
	tot := float64(n1 + n2)
	var chi float64
	for i := 0; i < 2; i++ {
		for j := 0; j < 2; j++ {
			e := rows[i] * cols[j] / tot
			chi += (obs[i][j] - e) * (obs[i][j] - e) / e
		}
	}
	near(t, "z²", r.Z*r.Z, chi, 1e-9)
}

func TestTwoProportionZDegenerate(t *testing.T) {
	if _, err := TwoProportionZ(1, 0, 1, 2); err == nil {
		t.Error("empty cohort accepted")
	}
	r, err := TwoProportionZ(10, 10, 20, 20)
	if err != nil || r.P != 1 || r.Z != 0 {
		t.Errorf("all successes: %+v %v", r, err)
	}
}

// R's documentation of power.prop.test: power.prop.test(p1 = .50, p2 = .75,
// power = .90) gives n = 76.7 per group at the default sig.level 0.05.
func TestSampleSizeRPowerPropTest(t *testing.T) {
	near(t, "n", SampleSize(0.5, 0.75, 0.05, 0.90), 76.7, 0.05)
	if !math.IsInf(SampleSize(0.3, 0.3, 0.05, 0.8), 1) {
		t.Error("equal proportions should need an infinite sample")
	}
	// 80% power needs fewer than 90%.
	if SampleSize(0.5, 0.75, 0.05, 0.80) >= 76.7 {
		t.Error("80% power should need fewer cases than 90%")
	}
}

func TestNormal(t *testing.T) {
	near(t, "Φ⁻¹(0.975)", NormalQuantile(0.975), Z95, 1e-12)
	near(t, "Φ⁻¹(0.8)", NormalQuantile(0.8), 0.8416212335729143, 1e-12)
	near(t, "Φ(1.96)", NormalCDF(1.96), 0.9750021048517795, 1e-12)
	near(t, "p(1.96)", TwoSidedP(1.959963984540054), 0.05, 1e-12)
}

func TestAdequacy(t *testing.T) {
	if a := CheckAdequacy(29, 0.5); a.OK {
		t.Error("29 cases should be too few")
	}
	if a := CheckAdequacy(100, 0.02); a.OK {
		t.Error("2 expected successes should be too few")
	}
	if a := CheckAdequacy(100, 0.98); a.OK {
		t.Error("2 expected failures should be too few")
	}
	if a := CheckAdequacy(100, 0.5); !a.OK {
		t.Error("100 cases at 50% should be enough")
	}
}

// Moore, McCabe & Craig, Introduction to the Practice of Statistics,
// chapter "Nonparametric Tests", the corn-yield example (lamb's-quarter
// weeds): yields of 4 weed-free plots against 4 plots with 3 weeds per
// meter. Rank sum of the weed-free plots W = 23, μ_W = 18, σ_W = 3.464,
// and with the continuity correction z = (22.5 − 18)/3.464 = 1.30,
// one-sided P = 0.0968.
func TestMannWhitneyMooreMcCabe(t *testing.T) {
	weedFree := []float64{166.7, 172.2, 165.0, 176.9}
	weeds := []float64{158.6, 176.4, 153.1, 156.0}
	r, err := MannWhitneyU(weedFree, weeds)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "W", r.R1, 23, 1e-12)
	near(t, "U1", r.U1, 13, 1e-12)
	near(t, "U2", r.U2, 3, 1e-12)
	near(t, "σ_U", r.SD, 3.464, 0.0005)
	near(t, "z", r.Z, 1.30, 0.005)
	near(t, "one-sided P", r.P/2, 0.0968, 0.0005)
	near(t, "PSup", r.PSup, 13.0/16, 1e-12)
	// The test is symmetric: swapping the samples flips z only.
	s, _ := MannWhitneyU(weeds, weedFree)
	near(t, "swapped z", s.Z, -r.Z, 1e-12)
	near(t, "swapped P", s.P, r.P, 1e-12)
}

// ClickHouse's mannWhitneyUTest conformance case (tests/queries/0_stateless/
// 01560_mann_whitney), whose reference values come from SciPy's
// mannwhitneyu with the continuity correction: 20 against 20 values with
// ties, U = 223, two-sided p = 0.5426959774289482.
func TestMannWhitneyTiesSciPy(t *testing.T) {
	x := []float64{310, 195, 530, 155, 530, 245, 385, 450, 465, 545, 170, 180, 125, 180, 230, 75, 430, 480, 495, 295}
	y := []float64{116, 171, 176, 421, 111, 326, 481, 111, 346, 441, 261, 411, 206, 521, 456, 446, 296, 51, 426, 261}
	r, err := MannWhitneyU(x, y)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "U1", r.U1, 223, 1e-9)
	near(t, "p", r.P, 0.5426959774289482, 1e-12)
}

func TestMannWhitneyEdges(t *testing.T) {
	if _, err := MannWhitneyU(nil, []float64{1}); err != ErrEmpty {
		t.Errorf("empty sample: %v", err)
	}
	r, err := MannWhitneyU([]float64{5, 5}, []float64{5, 5, 5})
	if err != nil || r.P != 1 || r.Z != 0 || r.PSup != 0.5 {
		t.Errorf("all tied: %+v %v", r, err)
	}
	// Noether: PSup 0.6 at α = 0.05, 80% power needs N = 7.849/(3·0.01) =
	// 261.6 in all, 130.8 per cohort.
	near(t, "Noether n", MannWhitneySampleSize(0.6, 0.05, 0.80), 130.81, 0.01)
	if !math.IsInf(MannWhitneySampleSize(0.5, 0.05, 0.8), 1) {
		t.Error("no difference needs an infinite sample")
	}
	if m := Median([]float64{4, 1, 3, 2}); m != 2 {
		t.Errorf("nearest-rank median of 1..4 = %v, want 2", m)
	}
	if m := Median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median of 1..3 = %v", m)
	}
}
