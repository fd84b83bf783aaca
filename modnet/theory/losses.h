#pragma once
// Predicted train and test losses of the linear random-feature model (PAPER.md §2), the modular
// version, and the sample complexity n*(m). Derivations: docs/theory.md §2–§5.
//
// The model behind every closed form here ("shared parameters", the one for which the paper's
// F(dn, p) is exact): p scalar parameters θ; for each sample x and each of the d outputs j an
// independent draw of the feature vector φ_j(x) ~ N(0, Λ); y_j(x) = φ_j(x)·θ* with θ* iid N(0, 1);
// the model keeps the first p features, ŷ_j = φ_j,1:p(x)·θ, fitted by minimum-norm least squares
// on n samples — i.e. a single regression with dn equations and p unknowns. Losses are summed over
// the d outputs and averaged over samples. With d = 1 this is the plain y = φ(x)·θ* model.
// (For d separate fits y = φ(x)W, W ∈ ℝ^{∞×d}, the exact prediction is d × predict(…, d = 1);
// see simulation.h, OutputModel::separate, and docs/theory.md §2.4.)
#include <cstdint>

#include "modnet/theory/spectrum.h"

namespace modnet::theory {

/// F(n, p) = E‖R⁺‖²_F for R ∈ ℝ^{n×p} with iid N(0, 1) entries = min(n, p)/(|n − p| − 1), and +inf
/// for |n − p| ≤ 1 (PAPER.md §2; the mean of an inverse-Wishart trace, docs/theory.md §2.1).
/// Symmetric in n and p (R⁺ of Rᵀ is (R⁺)ᵀ). modnet::Error unless n, p ≥ 0.
double F(double n, double p);

/// Monte Carlo estimate of F(n, p): the mean over `trials` draws of ‖R⁺‖²_F = Σ_i σ_i(R)^(−2)
/// = tr(G⁻¹), G the Gram matrix of R's shorter side (float64, generator seeded with `seed`; by
/// Cholesky, or by the singular values near the pole; batched, in chunks of bounded memory). modnet::Error unless n, p, trials ≥ 1.
double F_monte_carlo(int64_t n, int64_t p, int64_t trials, uint64_t seed);

/// Expected losses, each summed over the d outputs (a mean over samples of ‖ŷ − y‖²).
struct LossPrediction {
  double train = 0;
  double test = 0;
};

/// The closed forms of PAPER.md §2 in terms of the traces alone, N = dn equations (docs/theory.md §2):
///   underparameterised, p < N:  train = d·T₂·(1 − p/N),  test = d·T₂·(1 + F(N, p))      [exact]
///   overparameterised,  p > N:  train = 0,  test = d·T₂·F(N, p) − d·(N/p)·T₁ + d·(T₁ + T₂)
///                               [the Theorem-1 form; exact only when Λ₁ ∝ I_p]
///   pole, |N − p| ≤ 1:          test = +inf (F diverges); train follows the side p is on.
/// T₁ = Tr Λ₁ (kept features), T₂ = Tr Λ₂ (the rest, which acts as label noise).
/// modnet::Error unless T₁, T₂ ≥ 0, n > 0, p ≥ 0, d ≥ 1.
LossPrediction predict_from_traces(double head_trace, double tail_trace, double n, double p, int64_t d = 1);

/// predict_from_traces with T₁ = spectrum.head(p), T₂ = spectrum.tail(p) (PAPER.md §2).
LossPrediction predict(const Spectrum& spectrum, double n, double p, int64_t d = 1);

/// Tail trace of the modular model: k modules, each with p/k of the p parameters and its own
/// spectrum of trace c/k with the module's bottleneck dimension b = module_spectrum.m in place of
/// the task's m:  T₂ = k·(c/k)·(p/k + 1)^(−Ω^(−b)) = c·(p/k + 1)^(−Ω^(−b))  (docs/theory.md §4 [D]).
double modular_tail(const Spectrum& module_spectrum, int64_t k, double p);

/// The modular prediction (PAPER.md §2, last bullet; choices in docs/theory.md §4 [D]): the target
/// is the sum of k independent module targets (total trace module_spectrum.c, c/k each, as the
/// task's y = (1/√k)·Σ y_i of PAPER.md §3); module i's features have the spectrum of
/// `module_spectrum` scaled by 1/k, with m = the module's bottleneck dimension b; each module keeps
/// its first p/k features; all p parameters are fitted jointly by minimum-norm least squares. So it
/// is predict_from_traces(c − T₂, T₂, n, p, d) with T₂ = modular_tail(…): the same form, with b in
/// place of m and p the sum of the modules' parameters. It involves no task dimension m at all, so
/// its losses (underparameterised ones exactly) do not depend on m. k = 1 gives predict(…).
LossPrediction predict_modular(const Spectrum& module_spectrum, int64_t k, double n, double p, int64_t d = 1);

/// Sample complexity at fixed p for a target test loss L* (PAPER.md §2; docs/theory.md §5): the n at
/// which the d = 1 underparameterised test loss T₂·(1 + F(n, p)) equals L*,
///   n*(m) = 1 + p / (1 − (c/L*)·(p+1)^(−Ω^(−m))).
/// NaN when the bracket is ≤ 0 (L* ≤ Tr Λ₂(p): not reachable with p parameters at any n). Always
/// n* > p + 1 otherwise. modnet::Error unless p ≥ 0, target_loss > 0, c > 0, omega > 0.
double sample_complexity(double p, double target_loss, double c, double omega, double m);

/// The same for d outputs in the shared-parameter model: d·n* = 1 + p/(1 − d·T₂(p)/L*), i.e. n* in
/// samples (each giving d equations). d = 1 equals the function above.
double sample_complexity(const Spectrum& spectrum, double p, double target_loss, int64_t d = 1);

}  // namespace modnet::theory
