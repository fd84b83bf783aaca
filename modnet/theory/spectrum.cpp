// The power-law-difference spectrum of PAPER.md §2; formulas derived in docs/theory.md §1.
#include "modnet/theory/spectrum.h"

#include <cmath>

#include "modnet/core/error.h"

namespace modnet::theory {

void Spectrum::validate() const {
  MODNET_CHECK(std::isfinite(c) && c > 0, "theory spectrum: c (= Tr Λ) must be a finite number > 0, got {}", c);
  MODNET_CHECK(std::isfinite(omega) && omega > 0, "theory spectrum: omega (Ω) must be a finite number > 0, got {}",
               omega);
  MODNET_CHECK(std::isfinite(m), "theory spectrum: m must be finite, got {}", m);
  const double a = alpha();
  MODNET_CHECK(std::isfinite(a) && a > 0,
               "theory spectrum: α = Ω^(−m) = {}^(−{}) = {} must be finite and > 0 (choose a smaller |m|)", omega,
               m, a);
}

// α = Ω^(−m) (PAPER.md §2).
double Spectrum::alpha() const { return std::pow(omega, -m); }

// λ_i = c·[i^(−α) − (i+1)^(−α)] (PAPER.md §2). Written as c·i^(−α)·[1 − (1 + 1/i)^(−α)]
// = c·i^(−α)·(−expm1(−α·log1p(1/i))), which keeps full relative precision where the two powers
// are nearly equal (small α, large i); the direct difference would lose ~log10(1/(α/i)) digits.
double Spectrum::eigenvalue(int64_t i) const {
  MODNET_CHECK(i >= 1, "theory spectrum: eigenvalue index must be >= 1 (λ_1 is the largest), got {}", i);
  const double a = alpha();
  const double x = static_cast<double>(i);
  return c * std::pow(x, -a) * -std::expm1(-a * std::log1p(1.0 / x));
}

// Tr Λ₂(p) = Σ_{i>p} λ_i = c·(p+1)^(−α): the sum telescopes to its first term (PAPER.md §2).
double Spectrum::tail(double p) const {
  MODNET_CHECK(p >= 0, "theory spectrum: the number of kept features p must be >= 0, got {}", p);
  return c * std::pow(p + 1.0, -alpha());
}

torch::Tensor Spectrum::eigenvalues(int64_t count) const {
  MODNET_CHECK(count >= 0, "theory spectrum: eigenvalue count must be >= 0, got {}", count);
  auto out = torch::empty({count}, torch::TensorOptions().dtype(torch::kFloat64));
  auto* v = out.data_ptr<double>();
  for (int64_t i = 0; i < count; ++i) v[i] = eigenvalue(i + 1);
  return out;
}

}  // namespace modnet::theory
