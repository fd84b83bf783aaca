#pragma once
// Monte Carlo of the linear random-feature model itself (PAPER.md §2), to check the closed forms of
// losses.h, and the curves and figures of `modnet-theory` (which draw both). docs/theory.md §6–§7.
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

#include "modnet/core/config.h"
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

// ---- Curves and figures of modnet-theory (docs/theory.md §7) ------------------------------------
// (Here rather than in a file of their own because they draw the Monte Carlo points too.)

/// Everything `modnet-theory` draws; every key can be set in a YAML file or as key=value.
struct TheoryFigureOptions {
  double c = 1.16;     // Tr Λ (PAPER.md §2)
  double omega = 1.56;  // Ω (PAPER.md §2)
  int64_t d = 1;       // outputs
  std::vector<double> m = {2, 3, 4, 5, 6, 7, 8, 9};  // intrinsic dimensions (curves of the p- and n-sweeps)
  double n = 1000;     // samples of the p-, m- and k-sweeps (PAPER.md §2: n = 1000)
  double p = 1000;     // parameters of the n-sweep
  double sweep_min = 100;     // range of the p- and n-sweeps (the authors' axes: 1e2 … 1e5)
  double sweep_max = 100000;
  int64_t sweep_points = 200;  // log-spaced points of those sweeps (plus a few beside the pole)
  std::vector<double> m_sweep_p = {100, 300, 3000, 30000};  // p of the m-sweep's curves (at n)
  std::vector<int64_t> k = {1, 2, 3, 4, 5, 6, 7, 8, 9};     // modules of the k-sweep
  std::vector<double> module_b = {2};  // bottleneck dimension(s) b of the k-sweep's modules
  double k_sweep_p = 300;              // total parameters of the k-sweep (at n)
  std::vector<double> sample_p = {87, 213, 338, 1014, 2866, 4681, 14848, 43185, 72594};  // n*(m) curves
  std::optional<double> target_loss;   // L* of n*(m); unset = c/0.96 (PAPER.md §2: c/L* ≈ 0.96)
  bool simulate = false;               // overlay Monte Carlo points on the p-sweep
  double simulate_m = 7;               // m of those points
  std::vector<double> simulate_p = {100, 200, 400, 700, 850, 1150, 1400, 2000, 4000};
  int64_t simulate_trials = 8;
  int64_t seed = 0;

  template <class V>
  void fields(V& v) {
    v("c", c, config::greater_than(0), "Tr Λ, the target's variance per output (PAPER.md §2)");
    v("omega", omega, config::greater_than(0), "Ω in α = Ω^(−m) (PAPER.md §2)");
    v("d", d, config::at_least(1), "outputs (sharing the p parameters)");
    v("m", m, config::greater_than(0), "intrinsic dimensions: curves of the p- and n-sweeps, x of n*(m)");
    v("n", n, config::greater_than(0), "samples of the p-, m- and k-sweeps");
    v("p", p, config::greater_than(0), "parameters of the n-sweep");
    v("sweep_min", sweep_min, config::greater_than(0), "lower end of the p- and n-sweeps");
    v("sweep_max", sweep_max, config::greater_than(0), "upper end of the p- and n-sweeps");
    v("sweep_points", sweep_points, config::at_least(2), "log-spaced points of the p- and n-sweeps");
    v("m_sweep_p", m_sweep_p, config::greater_than(0), "parameters p of the m-sweep's curves");
    v("k", k, config::at_least(1), "module counts of the k-sweep");
    v("module_b", module_b, config::greater_than(0), "bottleneck dimensions b of the k-sweep's modules");
    v("k_sweep_p", k_sweep_p, config::greater_than(0), "total parameters of the k-sweep");
    v("sample_p", sample_p, config::at_least(0), "parameters p of the n*(m) curves");
    v("target_loss", target_loss, config::greater_than(0), "target loss L* of n*(m) (unset: c/0.96)");
    v("simulate", simulate, config::none(), "overlay Monte Carlo points on the p-sweep");
    v("simulate_m", simulate_m, config::greater_than(0), "m of the Monte Carlo points");
    v("simulate_p", simulate_p, config::at_least(1), "p of the Monte Carlo points (integers)");
    v("simulate_trials", simulate_trials, config::at_least(1), "Monte Carlo trials per point");
    v("seed", seed, config::at_least(0), "seed of the Monte Carlo points");
  }
  void resolve(const config::Reader& r) const {
    r.check(sweep_min < sweep_max, fmt::format("sweep_min ({}) must be < sweep_max ({})", sweep_min, sweep_max));
    r.check(!m.empty(), "m must list at least one intrinsic dimension");
    for (const double sp : simulate_p)
      r.check(sp == static_cast<double>(static_cast<int64_t>(sp)),
              fmt::format("simulate_p must hold integers (feature counts), got {}", sp));
  }
  /// L* actually used: target_loss, or c/0.96.
  double resolved_target_loss() const { return target_loss.value_or(c / 0.96); }
};

/// The options from an optional YAML file plus `key=value` overrides (ConfigError naming the key
/// and where it came from on anything wrong).
TheoryFigureOptions load_figure_options(const std::optional<std::string>& config_file,
                                        const std::vector<std::string>& overrides);

/// A list as typed on the command line → YAML: "2:9" (integer range) → "[2, 3, …, 9]", "87,213" →
/// "[87, 213]", "[…]" or a single value unchanged. modnet::Error on a malformed range.
std::string list_argument_yaml(const std::string& text);

/// Writes the CSVs and figures (PNG + gnuplot script) of docs/theory.md §7 into `dir` (created if
/// missing; files of the same names are replaced atomically), summary.json (the checks of PAPER.md §2)
/// and config.yaml (the resolved options). Returns the paths written. A figure is skipped with a warning when gnuplot is
/// missing (its script is still written).
std::vector<std::string> write_theory_figures(const TheoryFigureOptions& options, const std::string& dir);

/// Points spaced evenly in log between lo and hi (inclusive; count ≥ 2).
std::vector<double> log_grid(double lo, double hi, int64_t count);

}  // namespace modnet::theory
