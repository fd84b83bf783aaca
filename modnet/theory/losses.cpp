// Closed-form losses of the linear random-feature model (PAPER.md §2), derived in docs/theory.md.
#include "modnet/theory/losses.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <ATen/CPUGeneratorImpl.h>

#include "modnet/core/error.h"

namespace modnet::theory {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// F_monte_carlo draws at most this many matrix entries per batched SVD (~64 MiB of float64).
constexpr int64_t kMaxEntriesPerChunk = int64_t{1} << 23;
}  // namespace

// F(n, p) = E‖R⁺‖²_F = min(n, p)/(|n − p| − 1) (PAPER.md §2). For n > p, ‖R⁺‖²_F = tr((RᵀR)⁻¹)
// with RᵀR ~ Wishart_p(n, I), whose inverse has mean I/(n − p − 1); so F = p/(n − p − 1), finite
// iff n − p > 1. n < p follows by transposition. docs/theory.md §2.1.
double F(double n, double p) {
  MODNET_CHECK(n >= 0 && p >= 0, "theory F(n, p): n and p must be >= 0, got n = {}, p = {}", n, p);
  const double gap = std::abs(n - p);
  if (gap <= 1) return kInf;
  return std::min(n, p) / (gap - 1);
}

// E‖R⁺‖²_F by Monte Carlo. ‖R⁺‖²_F = Σ_i 1/σ_i² over the min(n, p) singular values of R (all nonzero
// with probability 1) = tr(G⁻¹) for the Gram matrix G of the shorter side (RᵀR if n > p, else RRᵀ).
// Away from the pole tr(G⁻¹) = ‖L⁻¹‖²_F from a Cholesky factor G = LLᵀ, ~5× faster than an SVD;
// within 10 % of the pole (where G is badly conditioned) or if a factorisation fails, the singular
// values are used.
double F_monte_carlo(int64_t n, int64_t p, int64_t trials, uint64_t seed) {
  MODNET_CHECK(n >= 1 && p >= 1 && trials >= 1,
               "theory F_monte_carlo: n, p and trials must be >= 1, got n = {}, p = {}, trials = {}", n, p, trials);
  auto gen = at::detail::createCPUGenerator(seed);
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  const int64_t q = std::min(n, p);
  const bool near_pole = 10 * std::abs(n - p) < q;
  const int64_t chunk = std::max<int64_t>(1, kMaxEntriesPerChunk / (n * p));
  double total = 0;
  for (int64_t done = 0; done < trials; done += chunk) {
    const int64_t t = std::min(chunk, trials - done);
    const auto R = torch::randn({t, n, p}, gen, f64);
    if (!near_pole) {
      const auto G = n > p ? torch::bmm(R.transpose(1, 2), R) : torch::bmm(R, R.transpose(1, 2));  // [t, q, q]
      const auto [L, info] = torch::linalg_cholesky_ex(G);
      if (info.max().item<int64_t>() == 0) {
        const auto eye = torch::eye(q, f64).expand({t, q, q});
        total += torch::linalg_solve_triangular(L, eye, /*upper=*/false).pow(2).sum().item<double>();
        continue;
      }
    }
    total += torch::linalg_svdvals(R).pow(-2).sum().item<double>();  // σ(R): [t, q]
  }
  return total / static_cast<double>(trials);
}

LossPrediction predict_from_traces(double head_trace, double tail_trace, double n, double p, int64_t d) {
  MODNET_CHECK(head_trace >= 0 && tail_trace >= 0 && std::isfinite(head_trace) && std::isfinite(tail_trace),
               "theory predict: Tr Λ₁ and Tr Λ₂ must be finite and >= 0, got {} and {}", head_trace, tail_trace);
  MODNET_CHECK(n > 0 && std::isfinite(n), "theory predict: n (samples) must be finite and > 0, got {}", n);
  MODNET_CHECK(p >= 0 && std::isfinite(p), "theory predict: p (parameters) must be finite and >= 0, got {}", p);
  MODNET_CHECK(d >= 1, "theory predict: d (outputs) must be >= 1, got {}", d);
  const double dd = static_cast<double>(d);
  const double N = dd * n;  // equations: n samples × d outputs
  const double T1 = head_trace, T2 = tail_trace;
  // PAPER.md §2, "Predicted losses"; N = dn because the d outputs share the p parameters, each
  // sample giving d independent equations (docs/theory.md §2.2–§2.3).
  LossPrediction out;
  if (p < N) {
    // Underparameterised. Train: the residual of projecting the noise (variance T₂ per equation)
    // off a p-dimensional column space of ℝ^N, per sample: d·T₂·(1 − p/N). Test: the fitted
    // coefficients are unbiased and their error is noise amplified by E‖Z⁺‖²_F = F(N, p), plus the
    // unseen tail: d·T₂·(1 + F(N, p)). Both exact for any Λ₁ (docs/theory.md §2.2).
    out.train = dd * T2 * (1.0 - p / N);
    out.test = dd * T2 * (1.0 + F(N, p));  // +inf at the pole N − p ≤ 1
  } else {
    out.train = 0.0;  // p ≥ N: the model interpolates the training set
    const double f = F(N, p);
    // Overparameterised test, the Theorem-1 form of PAPER.md §2 with min(N, p) = N:
    // d·T₂·F(N, p) [noise] + d·T₁·(1 − N/p) [the part of θ* outside the row space] + d·T₂ [tail].
    // Exact iff Λ₁ ∝ I_p (docs/theory.md §2.3); +inf at the pole p − N ≤ 1.
    out.test = std::isinf(f) ? kInf : dd * T2 * f - dd * (N / p) * T1 + dd * (T1 + T2);
  }
  return out;
}

LossPrediction predict(const Spectrum& spectrum, double n, double p, int64_t d) {
  spectrum.validate();
  MODNET_CHECK(p >= 0, "theory predict: p (parameters) must be >= 0, got {}", p);
  return predict_from_traces(spectrum.head(p), spectrum.tail(p), n, p, d);  // Tr Λ₁(p), Tr Λ₂(p): PAPER.md §2
}

// k modules × (c/k)·(p/k + 1)^(−α_b): each module's own telescoped tail (spectrum.h) with trace c/k
// and p/k kept features; α_b = Ω^(−b). docs/theory.md §4 [D].
double modular_tail(const Spectrum& module_spectrum, int64_t k, double p) {
  module_spectrum.validate();
  MODNET_CHECK(k >= 1, "theory predict_modular: k (modules) must be >= 1, got {}", k);
  MODNET_CHECK(p >= 0, "theory predict_modular: p (parameters, all modules) must be >= 0, got {}", p);
  const double kk = static_cast<double>(k);
  return kk * (module_spectrum.c / kk) * std::pow(p / kk + 1.0, -module_spectrum.alpha());
}

LossPrediction predict_modular(const Spectrum& module_spectrum, int64_t k, double n, double p, int64_t d) {
  const double T2 = modular_tail(module_spectrum, k, p);
  // Same closed form as the monolithic model, with Tr Λ = c, Tr Λ₂ the modules' summed tails and p
  // the total parameter count (PAPER.md §2, last bullet; docs/theory.md §4).
  return predict_from_traces(module_spectrum.c - T2, T2, n, p, d);
}

// n*(m) = 1 + p/(1 − (c/L*)·(p+1)^(−Ω^(−m))) (PAPER.md §2): solve T₂·(1 + p/(n − p − 1)) = L* for n,
// i.e. T₂·(n − 1)/(n − p − 1) = L*  ⇒  (n − 1)·(1 − T₂/L*) = p. docs/theory.md §5.
double sample_complexity(double p, double target_loss, double c, double omega, double m) {
  MODNET_CHECK(p >= 0 && std::isfinite(p), "theory sample_complexity: p must be finite and >= 0, got {}", p);
  MODNET_CHECK(target_loss > 0, "theory sample_complexity: the target loss L* must be > 0, got {}", target_loss);
  const Spectrum s{c, omega, m};
  s.validate();
  const double bracket = 1.0 - (c / target_loss) * std::pow(p + 1.0, -s.alpha());
  if (!(bracket > 0)) return kNaN;  // L* ≤ Tr Λ₂(p): unreachable at this p, whatever n
  return 1.0 + p / bracket;
}

// With d outputs sharing the parameters: d·T₂·(1 + F(dn, p)) = L*  ⇒  dn = 1 + p/(1 − d·T₂/L*).
double sample_complexity(const Spectrum& spectrum, double p, double target_loss, int64_t d) {
  spectrum.validate();
  MODNET_CHECK(d >= 1, "theory sample_complexity: d (outputs) must be >= 1, got {}", d);
  MODNET_CHECK(p >= 0 && std::isfinite(p), "theory sample_complexity: p must be finite and >= 0, got {}", p);
  MODNET_CHECK(target_loss > 0, "theory sample_complexity: the target loss L* must be > 0, got {}", target_loss);
  const double dd = static_cast<double>(d);
  const double bracket = 1.0 - dd * spectrum.tail(p) / target_loss;
  if (!(bracket > 0)) return kNaN;
  return (1.0 + p / bracket) / dd;
}

}  // namespace modnet::theory
