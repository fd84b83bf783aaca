#pragma once
// The curves and figures of `modnet-theory` (docs/theory.md §7): the closed forms of
// theory/losses.h drawn against p, n, m and k, the sample complexity n*(m), Monte Carlo points of
// theory/simulation.h beside them, and the numbers PAPER.md §2 quotes recomputed (summary.json).
#include <optional>
#include <string>
#include <vector>

#include "modnet/core/config.h"
#include "modnet/theory/losses.h"

namespace modnet::analysis {

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

/// Writes the CSVs and figures (PNG + gnuplot script) of docs/theory.md §7 into `dir` (created if
/// missing; files of the same names are replaced atomically), summary.json (the checks of PAPER.md §2)
/// and config.yaml (the resolved options) - one function below per figure. Returns the paths
/// written. A figure is skipped with a warning when gnuplot is missing (its script is still written).
std::vector<std::string> write_theory_figures(const TheoryFigureOptions& options, const std::string& dir);

}  // namespace modnet::analysis
