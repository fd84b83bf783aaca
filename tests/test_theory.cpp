// Tests of modnet/theory: the spectrum, F(n, p), the predicted losses against a Monte Carlo of the
// model itself, the numbers PAPER.md §2 quotes, n*(m) against the authors' digitised curves, the
// modular prediction, and the figures of modnet-theory. Derivations: docs/theory.md.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "modnet/core/error.h"
#include "modnet/core/files.h"
#include "modnet/theory/losses.h"
#include "modnet/theory/simulation.h"
#include "modnet/theory/spectrum.h"
#include "fixtures.h"

namespace fs = std::filesystem;
namespace mt = modnet::theory;

namespace {

const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);

// |a − b| ≤ tol·|b|, with a message naming both.
::testing::AssertionResult Near(double a, double b, double tol) {
  if (std::abs(a - b) <= tol * std::abs(b)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << a << " vs " << b << ": relative difference " << (a - b) / b
                                       << " exceeds " << tol;
}

mt::Spectrum paper_spectrum(double m) { return mt::Spectrum{1.16, 1.56, m}; }  // PAPER.md §2: c ≈ 1.16, Ω ≈ 1.56

using TheoryTest = modnet::testing::SeededTest;

// ---- Spectrum ----------------------------------------------------------------------------------

TEST_F(TheoryTest, SpectrumAlphaAndEigenvaluesFollowTheDefinition) {
  const auto s = paper_spectrum(7);
  EXPECT_DOUBLE_EQ(s.alpha(), std::pow(1.56, -7.0));
  // λ_i = c[i^(−α) − (i+1)^(−α)] where the direct difference is accurate (small i).
  for (int64_t i : {1, 2, 10, 100}) {
    const double direct = 1.16 * (std::pow(double(i), -s.alpha()) - std::pow(double(i + 1), -s.alpha()));
    EXPECT_TRUE(Near(s.eigenvalue(i), direct, 1e-12)) << "i = " << i;
  }
  // Far out the difference cancels; λ_i ≈ c·α·i^(−α−1)·(1 − (α+1)/(2i)) to O(i^−2) relative.
  const double a = s.alpha(), i = 1e9;
  EXPECT_TRUE(Near(s.eigenvalue(1000000000), 1.16 * a * std::pow(i, -a - 1) * (1 - (a + 1) / (2 * i)), 1e-12));
  const auto ev = s.eigenvalues(50);
  ASSERT_EQ(ev.sizes(), (std::vector<int64_t>{50}));
  EXPECT_EQ(ev.scalar_type(), torch::kFloat64);
  for (int64_t k = 0; k < 50; ++k) EXPECT_DOUBLE_EQ(ev[k].item<double>(), s.eigenvalue(k + 1));
  EXPECT_TRUE((ev.slice(0, 1) < ev.slice(0, 0, -1)).all().item<bool>()) << "eigenvalues must decrease";
  EXPECT_THROW(s.eigenvalue(0), modnet::Error);
  EXPECT_THROW((mt::Spectrum{-1, 1.56, 2}.validate()), modnet::Error);
}

TEST_F(TheoryTest, SpectrumSumsToCAndTailMatchesTheNumericalSum) {
  // A fast-decaying spectrum (α = 0.5^(−2) = 4) sums to c within 1e-11 after 1000 terms.
  const mt::Spectrum fast{1.16, 0.5, 2};
  EXPECT_NEAR(fast.eigenvalues(1000).sum().item<double>(), fast.trace(), 1e-11);
  // The paper's spectra decay far too slowly for that (the tail after 10⁶ terms is still ≥ 0.2·c at
  // m ≥ 4), so check the telescoped tail against the partial sums instead:
  //   Tr Λ₂(p) = Σ_{p<i≤P} λ_i + Tr Λ₂(P), and Tr Λ₁(P) + Tr Λ₂(P) = c.
  for (const double m : {2.0, 5.0, 9.0}) {
    const auto s = paper_spectrum(m);
    const int64_t P = 200000;
    const auto ev = s.eigenvalues(P);
    EXPECT_TRUE(Near(ev.sum().item<double>() + s.tail(double(P)), s.trace(), 1e-12)) << "m = " << m;
    EXPECT_TRUE(Near(ev.sum().item<double>(), s.head(double(P)), 1e-11)) << "m = " << m;
    for (const int64_t p : {0, 10, 1000}) {
      const double numeric = ev.slice(0, p).sum().item<double>() + s.tail(double(P));
      EXPECT_TRUE(Near(s.tail(double(p)), numeric, 1e-12)) << "m = " << m << ", p = " << p;
    }
  }
  EXPECT_DOUBLE_EQ(paper_spectrum(3).tail(0), 1.16);
  EXPECT_GT(paper_spectrum(9).tail(100), paper_spectrum(2).tail(100)) << "larger m leaves more in the tail";
}

// ---- F(n, p) -------------------------------------------------------------------------------------

TEST_F(TheoryTest, FClosedFormAndPole) {
  EXPECT_DOUBLE_EQ(mt::F(100, 20), 20.0 / 79.0);
  EXPECT_DOUBLE_EQ(mt::F(20, 100), 20.0 / 79.0);
  EXPECT_DOUBLE_EQ(mt::F(200, 150), 150.0 / 49.0);
  EXPECT_DOUBLE_EQ(mt::F(1000, 0), 0.0);
  EXPECT_TRUE(std::isinf(mt::F(50, 50)));
  EXPECT_TRUE(std::isinf(mt::F(50, 51)));
  EXPECT_TRUE(std::isinf(mt::F(51, 50)));
  EXPECT_FALSE(std::isinf(mt::F(52, 50)));
  EXPECT_THROW(mt::F(-1, 3), modnet::Error);
}

TEST_F(TheoryTest, FMonteCarloMatchesClosedFormAwayFromThePole) {
  // Over 6 seeds the estimates scattered by ≤ 0.35 % (100×20, 500 trials) and ≤ 0.5 % (200×150, 400
  // trials) around F, so a 3 % band is many standard errors wide (docs/theory.md §2.1).
  struct Case {
    int64_t n, p, trials;
  };
  for (const auto& c : {Case{100, 20, 500}, Case{20, 100, 500}, Case{200, 150, 400}}) {
    const double mc = mt::F_monte_carlo(c.n, c.p, c.trials, 7);
    EXPECT_TRUE(Near(mc, mt::F(double(c.n), double(c.p)), 0.03)) << "n = " << c.n << ", p = " << c.p;
  }
  // Same seed, same answer.
  EXPECT_DOUBLE_EQ(mt::F_monte_carlo(30, 10, 50, 3), mt::F_monte_carlo(30, 10, 50, 3));
}

// ---- Predicted losses -----------------------------------------------------------------------------

TEST_F(TheoryTest, PredictionReproducesThePapersNumbers) {
  // PAPER.md §2: "With d = 1, c ≈ 1.16, Ω ≈ 1.56 and n = 1000, the formulas give at p = 100 train
  // 0.85 / test 1.05 for m = 7 (0.16 / 0.19 for m = 2, 0.96 / 1.18 for m = 9) and test → c ≈ 1.16
  // for large p". The values are quoted to two decimals, so each prediction must round to the
  // quoted figure (±0.005); the four ≥ 0.85 are also within 2 %. (m = 2 train is 0.1567: it rounds to
  // 0.16 but is 2.06 % below it; m = 2 test 0.1935 is 1.8 % above 0.19.)
  struct Quoted {
    double m, train, test;
  };
  for (const auto& q : {Quoted{7, 0.85, 1.05}, Quoted{2, 0.16, 0.19}, Quoted{9, 0.96, 1.18}}) {
    const auto l = mt::predict(paper_spectrum(q.m), 1000, 100);
    EXPECT_NEAR(l.train, q.train, 0.005) << "train, m = " << q.m;
    EXPECT_NEAR(l.test, q.test, 0.005) << "test, m = " << q.m;
    if (q.m != 2) {
      EXPECT_TRUE(Near(l.train, q.train, 0.02)) << "train, m = " << q.m;
      EXPECT_TRUE(Near(l.test, q.test, 0.02)) << "test, m = " << q.m;
    }
  }
  for (const double m : {2.0, 7.0, 9.0}) {
    EXPECT_TRUE(Near(mt::predict(paper_spectrum(m), 1000, 1e5).test, 1.16, 0.02)) << "large p, m = " << m;
    EXPECT_TRUE(Near(mt::predict(paper_spectrum(m), 1000, 1e9).test, 1.16, 1e-3)) << "p → ∞, m = " << m;
  }
}

TEST_F(TheoryTest, PredictionRegimesPoleAndOutputs) {
  const auto s = paper_spectrum(5);
  const auto under = mt::predict(s, 1000, 300);
  EXPECT_DOUBLE_EQ(under.train, s.tail(300) * (1 - 0.3));
  EXPECT_DOUBLE_EQ(under.test, s.tail(300) * (1 + 300.0 / 699.0));
  const auto over = mt::predict(s, 1000, 3000);
  EXPECT_EQ(over.train, 0.0);
  EXPECT_DOUBLE_EQ(over.test, s.tail(3000) * 1000.0 / 1999.0 - (1.0 / 3.0) * s.head(3000) + 1.16);
  // Double descent: the test loss diverges at p = dn and is finite around it.
  EXPECT_TRUE(std::isinf(mt::predict(s, 1000, 1000).test));
  EXPECT_TRUE(std::isinf(mt::predict(s, 1000, 999.5).test));
  EXPECT_GT(mt::predict(s, 1000, 990).test, 10 * under.test);
  EXPECT_GT(mt::predict(s, 1000, 1010).test, 10 * over.test);
  // d outputs share the parameters: the pole moves to p = dn, the losses scale with d.
  EXPECT_TRUE(std::isinf(mt::predict(s, 500, 1000, 2).test));
  const auto two = mt::predict(s, 1000, 300, 2);
  EXPECT_DOUBLE_EQ(two.train, 2 * s.tail(300) * (1 - 300.0 / 2000.0));
  EXPECT_DOUBLE_EQ(two.test, 2 * s.tail(300) * (1 + 300.0 / 1699.0));
  EXPECT_THROW(mt::predict(s, 0, 10), modnet::Error);
  EXPECT_THROW(mt::predict(s, 10, 10, 0), modnet::Error);
}

// ---- Monte Carlo of the model against the closed forms ------------------------------------------

TEST_F(TheoryTest, UnderparameterisedPredictionMatchesSimulation) {
  // Exact in expectation for any spectrum (docs/theory.md §2.2). With these trial counts the standard
  // error is ≈ 0.5 % (test) and ≈ 1 % (train), so 5 % is a wide band that a wrong formula still misses.
  struct Case {
    int64_t n, p;
    double m;
    int64_t d, trials;
  };
  for (const auto& c : {Case{200, 40, 2, 1, 150}, Case{400, 100, 9, 1, 80}, Case{300, 60, 5, 1, 150},
                        Case{100, 50, 7, 2, 150}, Case{60, 30, 3, 3, 200}}) {
    const auto spec = paper_spectrum(c.m);
    const auto sim = mt::simulate(spec, c.n, c.p, c.d, c.trials, 11);
    const auto pred = mt::predict(spec, double(c.n), double(c.p), c.d);
    ASSERT_LT(c.p, c.d * c.n);
    EXPECT_TRUE(Near(sim.train, pred.train, 0.05)) << "train, n = " << c.n << ", p = " << c.p << ", m = " << c.m
                                                   << ", d = " << c.d;
    EXPECT_TRUE(Near(sim.test, pred.test, 0.05)) << "test, n = " << c.n << ", p = " << c.p << ", m = " << c.m
                                                 << ", d = " << c.d;
  }
}

TEST_F(TheoryTest, OverparameterisedClosedFormIsExactForAFlatHead) {
  // The Theorem-1 form is exact when Λ₁ ∝ I (docs/theory.md §2.3): kept eigenvalues all T₁/p.
  struct Case {
    int64_t n, p, d;
    double T1, T2;
  };
  for (const auto& c : {Case{50, 200, 1, 0.8, 0.36}, Case{40, 150, 2, 0.5, 0.66}, Case{100, 140, 1, 1.0, 0.16}}) {
    const auto head = torch::full({c.p}, c.T1 / double(c.p), kF64);
    const auto sim = mt::simulate_features(head, c.T2, c.n, c.d, 200, 5);
    const auto pred = mt::predict_from_traces(c.T1, c.T2, double(c.n), double(c.p), c.d);
    EXPECT_EQ(pred.train, 0.0);
    EXPECT_LT(sim.mean.train, 1e-12) << "the fit interpolates";
    EXPECT_TRUE(Near(sim.mean.test, pred.test, 0.05))
        << "n = " << c.n << ", p = " << c.p << ", d = " << c.d << " (± " << sim.standard_error.test << ")";
  }
}

TEST_F(TheoryTest, OverparameterisedClosedFormIsNotExactForTheDecayingSpectrum) {
  // For the paper's decaying spectrum the Theorem-1 form is only an approximation; the measured gaps
  // are tabulated in docs/theory.md §2.3. Here (m = 2, fast decay): the minimum-norm fit spends its n
  // directions on the large eigenvalues, so its error is far below the isotropic (1 − n/p)·T₁ and the
  // closed form overestimates the test loss (0.93 against ≈ 0.34, the simulation's error ≈ 1 %).
  const auto spec = paper_spectrum(2);
  const int64_t n = 100, p = 400;
  const auto sim = mt::simulate_features(spec.eigenvalues(p), spec.tail(double(p)), n, 1, 100, 3);
  const auto pred = mt::predict(spec, double(n), double(p));
  EXPECT_LT(sim.mean.test, pred.test * 0.9) << "simulated " << sim.mean.test << " ± " << sim.standard_error.test
                                            << ", closed form " << pred.test;
}

TEST_F(TheoryTest, SeparateOutputsAreDTimesTheSingleOutputPrediction) {
  // y = φ(x)W with d separate fits on one design: d × predict(n, p, d = 1), pole at p = n — not the
  // shared-parameter predict(n, p, d), whose pole is at p = dn (docs/theory.md §2.4).
  const auto spec = paper_spectrum(4);
  const int64_t n = 200, p = 60, d = 3;
  const auto sim = mt::simulate(spec, n, p, d, 150, 13, mt::OutputModel::separate);
  const auto single = mt::predict(spec, double(n), double(p), 1);
  EXPECT_TRUE(Near(sim.train, d * single.train, 0.05));
  EXPECT_TRUE(Near(sim.test, d * single.test, 0.05));
  const auto shared = mt::predict(spec, double(n), double(p), d);
  EXPECT_GT(std::abs(sim.train - shared.train), 0.15 * shared.train) << "the two output models must differ";
}

// ---- Sample complexity -----------------------------------------------------------------------------

TEST_F(TheoryTest, SampleComplexityMatchesTheDigitisedCurves) {
  // PAPER.md §2 [F]: the authors' n*(m) curves run "from 102…71806 at m = 2 to 746…338150 at m = 9"
  // for p ∈ {87, …, 72594}, c/L* ≈ 0.96. The pairing that fits the formula: the lowest curve
  // (p = 87) starts at 102 (m = 2) and ends at 746 (m = 9); the highest (p = 72594) at 71806 and
  // 338150.
  const double c = 1.16, omega = 1.56, L = c / 0.96;
  EXPECT_TRUE(Near(mt::sample_complexity(87, L, c, omega, 2), 102, 0.05));
  EXPECT_TRUE(Near(mt::sample_complexity(87, L, c, omega, 9), 746, 0.05));
  EXPECT_TRUE(Near(mt::sample_complexity(72594, L, c, omega, 9), 338150, 0.05));
  // The digitised 71806 at (p = 72594, m = 2) lies BELOW p, which the formula cannot give: its
  // bracket is in (0, 1), so n* = 1 + p/bracket > p + 1 = 72595 always (the underparameterised
  // regime it solves needs n > p + 1). The reading is ≥ 1.1 % low by construction; we check only
  // that the formula stays just above p and within 5 % of the reading.
  const double top = mt::sample_complexity(72594, L, c, omega, 2);
  EXPECT_GT(top, 72595.0);
  EXPECT_TRUE(Near(top, 71806, 0.05));
  // Round trip: at n*, the predicted test loss is L*.
  for (const double m : {2.0, 5.5, 9.0})
    for (const double p : {87.0, 4681.0}) {
      const double n = mt::sample_complexity(p, L, c, omega, m);
      EXPECT_TRUE(Near(mt::predict(mt::Spectrum{c, omega, m}, n, p).test, L, 1e-9)) << "m = " << m << ", p = " << p;
      EXPECT_TRUE(Near(mt::sample_complexity(mt::Spectrum{c, omega, m}, p, L), n, 1e-12));
    }
  // d outputs: d·T₂·(1 + F(dn, p)) = L* at n*.
  const mt::Spectrum s{c, omega, 3};
  const double n2 = mt::sample_complexity(s, 500, 3.0, 2);
  EXPECT_TRUE(Near(mt::predict(s, n2, 500, 2).test, 3.0, 1e-9));
  // Unreachable target (L* ≤ Tr Λ₂(p)): NaN.
  EXPECT_TRUE(std::isnan(mt::sample_complexity(100, 0.5 * paper_spectrum(9).tail(100), c, omega, 9)));
  // Monotone in m: higher intrinsic dimension needs more samples.
  EXPECT_LT(mt::sample_complexity(1014, L, c, omega, 3), mt::sample_complexity(1014, L, c, omega, 4));
}

// ---- Modular prediction ----------------------------------------------------------------------------

TEST_F(TheoryTest, ModularPredictionDoesNotDependOnTheTaskDimension) {
  // PAPER.md §2: the modular form has the module's bottleneck b in place of m, so its
  // underparameterised test loss does not change with the task's m, while the monolithic one grows.
  const double b = 2, n = 1000, p = 300;
  const int64_t k = 4;
  const double reference = mt::predict_modular(paper_spectrum(2).with_m(b), k, n, p).test;
  double last_mono = 0;
  for (const double m : {2.0, 4.0, 6.0, 9.0}) {
    const auto task = paper_spectrum(m);
    const auto modular = mt::predict_modular(task.with_m(b), k, n, p);
    EXPECT_DOUBLE_EQ(modular.test, reference) << "m = " << m;
    const double mono = mt::predict(task, n, p).test;
    EXPECT_GT(mono, last_mono) << "monolithic test loss grows with m";
    last_mono = mono;
  }
  // k = 1 is the monolithic model with m = b; the tail is c·(p/k + 1)^(−Ω^(−b)).
  EXPECT_DOUBLE_EQ(mt::predict_modular(paper_spectrum(b), 1, n, p).test, mt::predict(paper_spectrum(b), n, p).test);
  EXPECT_DOUBLE_EQ(mt::modular_tail(paper_spectrum(3), 5, 300), 1.16 * std::pow(61.0, -std::pow(1.56, -3.0)));
  EXPECT_THROW(mt::predict_modular(paper_spectrum(b), 0, n, p), modnet::Error);
}

TEST_F(TheoryTest, ModularPredictionMatchesSimulation) {
  // Underparameterised: exact for any kept spectrum, here k repeated module spectra (docs/theory.md §4).
  struct Case {
    double b;
    int64_t k, n, p;
  };
  for (const auto& c : {Case{2, 4, 300, 80}, Case{5, 3, 200, 60}}) {
    const auto spec = paper_spectrum(c.b);
    const auto sim = mt::simulate_modular(spec, c.k, c.n, c.p, 1, 150, 17);
    const auto pred = mt::predict_modular(spec, c.k, double(c.n), double(c.p));
    EXPECT_TRUE(Near(sim.train, pred.train, 0.05)) << "b = " << c.b << ", k = " << c.k;
    EXPECT_TRUE(Near(sim.test, pred.test, 0.05)) << "b = " << c.b << ", k = " << c.k;
  }
  EXPECT_THROW(mt::simulate_modular(paper_spectrum(2), 3, 100, 10, 1, 2, 0), modnet::Error);  // 10 % 3 ≠ 0
}

}  // namespace
