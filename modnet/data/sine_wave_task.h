#pragma once
// The paper's modular sine-wave regression task (PAPER.md §3).
//
//   x ~ N(0, I_D);  module i sees z_i = U_iᵀx ∈ R^m  (U_i: D×m, orthonormal columns)
//   ridge target:   y_i(z) = Σ_{s=1..r} Σ_{(a,ω)∈bank} a·sin(ω·v_sᵀz + φ_{i,s,a}),  v_s unit vectors in R^m
//   product target: y_i(z) = Π_{s=1..m} Σ_{(a,ω)∈bank} a·sin(ω·z_s + φ_{i,s,a})      (non-separable)
//   y = (1/√k)·Σ_i y_i  (+ Gaussian label noise)
//
// Every split is generated in one batched computation from its own seeded stream, so a split does
// not depend on the sizes of the others, nor on the thread count.
#include <optional>

#include "modnet/core/config.h"
#include "modnet/data/task.h"

namespace modnet::data {

struct SineWaveOptions {
  int64_t dim = 32;          // D
  int64_t modules = 4;       // k
  int64_t module_dim = 2;    // m
  int64_t ridges = 0;        // ridge directions per module (0 = m); ridge target only
  std::vector<double> amplitudes{1.0, 0.5, 0.2};
  std::vector<double> frequencies{1.0, 3.0, 5.0};
  std::string projections = "random";  // random | disjoint
  std::string target = "ridge";        // ridge | product
  double noise = 0.0;                  // std of label noise on train and val targets
  bool noise_on_test = false;
  int64_t n_train = 1000;
  int64_t n_val = 1000;
  int64_t n_test = 2000;
  std::optional<int64_t> seed;  // task seed; by default derived from the run seed

  template <class V>
  void fields(V& v) {
    using namespace config;
    v("dim", dim, at_least(1), "ambient input dimension D");
    v("modules", modules, at_least(1), "number of true modules k");
    v("module_dim", module_dim, at_least(1), "dimension m of each module's projection");
    v("ridges", ridges, at_least(0), "ridge directions per module (0 = module_dim)");
    v("amplitudes", amplitudes, none(), "sine bank amplitudes a");
    v("frequencies", frequencies, greater_than(0), "sine bank frequencies ω");
    v("projections", projections, one_of({"random", "disjoint"}), "how the U_i are drawn");
    v("target", target, one_of({"ridge", "product"}), "module target family");
    v("noise", noise, at_least(0), "label noise std");
    v("noise_on_test", noise_on_test, none(), "add label noise to the test targets too");
    v("n_train", n_train, at_least(1), "training samples");
    v("n_val", n_val, at_least(0), "validation samples (early stopping, model choice)");
    v("n_test", n_test, at_least(1), "test samples");
    v("seed", seed, at_least(0), "task seed (default: derived from the run seed)");
  }
  void resolve(const config::Reader& r) {
    r.check(amplitudes.size() == frequencies.size() && !amplitudes.empty(),
            fmt::format("amplitudes and frequencies must be non-empty lists of equal length, got {} and {}",
                        amplitudes.size(), frequencies.size()));
    r.check(module_dim <= dim, fmt::format("module_dim ({}) must not exceed dim ({})", module_dim, dim));
    r.check(projections != "disjoint" || modules * module_dim <= dim,
            fmt::format("disjoint projections need modules*module_dim <= dim, got {}*{} > {}", modules,
                        module_dim, dim));
  }
};

class SineWaveTask : public Task {
 public:
  /// `run_seed` is used when options.seed is not set.
  SineWaveTask(const SineWaveOptions& options, uint64_t run_seed);

  std::string name() const override { return "sine"; }
  int64_t input_dim() const override { return options_.dim; }
  int64_t output_dim() const override { return 1; }
  int64_t module_count() const override { return options_.modules; }
  int64_t size(Split split) const override;
  Batch get(Split split, const torch::Tensor& index, const torch::Device& device) const override;
  std::vector<torch::Tensor> true_projections() const override;
  torch::Tensor true_ridge_directions() const override { return directions_; }

  const SineWaveOptions& options() const { return options_; }
  /// Noise-free targets for arbitrary inputs x [n, D] (float64 or float32), as [n, 1] float64.
  torch::Tensor target(const torch::Tensor& x) const;
  /// Exact mean and variance of the noise-free ridge target under x ~ N(0, I) (closed form).
  std::pair<double, double> ridge_target_moments() const;
  /// Unit ridge directions U_i v_s as columns, [D, k·r] float64.
  const torch::Tensor& ridge_directions() const { return directions_; }

 private:
  Batch generate(int64_t n, uint64_t seed, bool noisy) const;

  SineWaveOptions options_;
  int64_t ridges_;
  std::vector<torch::Tensor> projections_;  // k × [D, m] float64
  torch::Tensor directions_;                 // [D, k·r] float64
  torch::Tensor phases_;                     // [k, r, B] float64
  torch::Tensor amplitudes_, frequencies_;   // [B] float64
  Batch train_, val_, test_;
};

}  // namespace modnet::data
