#pragma once
// Monte Carlo of the linear random-feature model itself (PAPER.md §2), to check the closed forms of
// losses.h (the figures of `modnet-theory` that draw both are analysis/theory_figures.h).
// docs/theory.md §6.
//
// One trial: draw the design, the target coefficients and the tail noise; fit the minimum-norm
// least-squares solution X⁺y (float64; by Cholesky on the Gram matrix of the shorter side, by the
// SVD-based pseudo-inverse near the pole); record the train loss (mean over samples of
// ‖ŷ − y‖², summed over outputs) and the test loss in closed form given the fit,
//   test = d·Σ_{i≤p} λ_i·(θ*_i − θ̂_i)² + d·Tr Λ₂      (shared parameters)
//   test = Σ_{i≤p} λ_i·‖W*_i − Ŵ_i‖² + d·Tr Λ₂         (separate outputs, W ∈ ℝ^{p×d}),
// and average over trials. The features beyond the first p enter only as the part of y the model
// cannot see, y − φ₁·θ*₁ = φ₂·θ*₂; it is drawn directly as iid N(0, Tr Λ₂) noise per equation.
// That is exact for the expected losses, which are quadratic in (θ*₁, noise) given the design and
// need only E[noise noiseᵀ] = Tr Λ₂·I and its independence from θ*₁ and the design
// (docs/theory.md §6). Trials are batched (bmm / batched SVD) in chunks of bounded memory.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "modnet/theory/losses.h"
#include "modnet/theory/spectrum.h"

namespace modnet::theory {

/// How the d outputs relate to the parameters (docs/theory.md §2.4).
enum class OutputModel {
  /// p parameters θ shared by the outputs; each output j of each sample has its own independent
  /// feature vector φ_j(x), y_j = φ_j(x)·θ*. One regression with dn equations: the model the
  /// closed forms of losses.h (F(dn, p)) describe exactly. The default; with d = 1 the two agree.
  shared,
  /// y = φ(x)·W*, W* ∈ ℝ^{∞×d} iid N(0, 1): one feature draw per sample, d separate fits with p
  /// parameters each (p·d in all). Its exact prediction is d × predict(…, n, p, d = 1), pole at p = n.
  separate,
};

/// Monte Carlo mean and its standard error (std over trials / √trials).
struct MonteCarloLoss {
  LossPrediction mean;
  LossPrediction standard_error;
  int64_t trials = 0;
};

/// The general simulation: the kept features have the eigenvalues `head_eigenvalues` (a 1-D float64
/// tensor of length p ≥ 1, entries ≥ 0), the rest of the target has trace `tail_trace` (≥ 0).
/// modnet::Error on bad arguments (n, d, trials ≥ 1).
MonteCarloLoss simulate_features(const torch::Tensor& head_eigenvalues, double tail_trace, int64_t n, int64_t d,
                                 int64_t trials, uint64_t seed, OutputModel model = OutputModel::shared);

/// Monte Carlo of the model of PAPER.md §2 with λ_1…λ_p of `spectrum` kept and Tr Λ₂(p) as noise;
/// returns the mean over trials. Compare with predict(spectrum, n, p, d).
LossPrediction simulate(const Spectrum& spectrum, int64_t n, int64_t p, int64_t d, int64_t trials, uint64_t seed,
                        OutputModel model = OutputModel::shared);

/// Monte Carlo of the modular model of predict_modular: k modules of p/k features each (p must be a
/// multiple of k), module spectrum scaled to trace c/k, the modules' tails summed into the noise.
LossPrediction simulate_modular(const Spectrum& module_spectrum, int64_t k, int64_t n, int64_t p, int64_t d,
                                int64_t trials, uint64_t seed);

/// Points spaced evenly in log between lo and hi (inclusive; count ≥ 2).
std::vector<double> log_grid(double lo, double hi, int64_t count);

}  // namespace modnet::theory
