#pragma once
// The paper's learning rule (PAPER.md §4): before training, find each module's projection Û_j on
// its own, from its own random start, by gradient descent on the minimum-norm kernel objective
// tr(Y_jᵀ K(Û_j)⁻¹ Y_j) over mini-batches of the training set; then hand the model to the normal
// trainer, which trains everything (Û included). All K modules are one batched computation.
#include <string>

#include "modnet/core/config.h"
#include "modnet/init/initializer.h"

namespace modnet::init {

struct KernelInitOptions {
  std::string kernel = "rbf";         // rbf | ntk (the module MLP's tangent kernel at init)
  int64_t steps = 300;                // Adam steps on the projections
  double lr = 0.02;
  std::string lr_units = "absolute";  // absolute | relative (lr × the RMS entry of the initial Û)
  int64_t batch_size = 256;           // samples per kernel mini-batch (an n×n Cholesky per module)
  double jitter = 0.1;                // ε: ridge added to the Gram matrix, relative to its mean diagonal
  std::string bandwidth = "median";   // rbf: median (σ = scale · median distance) | fixed (σ = scale)
  double bandwidth_scale = 1.0;
  bool bandwidth_grad = true;         // gradient through the median (makes the objective scale-free)
  std::string targets = "all";        // all | column | random_combination (per module)
  bool center_targets = true;         // subtract the batch mean of the targets
  std::string finalize = "orthonormalize";  // orthonormalize | rescale | none: Û's scale before training
  int64_t log_every = 10;
  bool progress = true;

  template <class V>
  void fields(V& v) {
    using namespace config;
    v("kernel", kernel, one_of({"rbf", "ntk"}), "kernel of the projected inputs");
    v("steps", steps, at_least(0), "gradient steps on the projections");
    v("lr", lr, greater_than(0), "Adam learning rate for the projections");
    v("lr_units", lr_units, one_of({"absolute", "relative"}),
      "absolute: lr as given; relative: lr times the RMS entry of the initial projections (≈ 1/√D), so "
      "one lr fits every input dimension");
    v("batch_size", batch_size, at_least(2), "kernel mini-batch size");
    v("jitter", jitter, greater_than(0), "diagonal ridge, relative to the mean kernel diagonal");
    v("bandwidth", bandwidth, one_of({"median", "fixed"}), "rbf bandwidth rule");
    v("bandwidth_scale", bandwidth_scale, greater_than(0), "multiplies the median distance (or is σ when fixed)");
    v("bandwidth_grad", bandwidth_grad, none(), "let the gradient flow through the median bandwidth");
    v("targets", targets, one_of({"all", "column", "random_combination"}), "per-module objective targets");
    v("center_targets", center_targets, none(), "centre the targets per batch");
    v("finalize", finalize, one_of({"orthonormalize", "rescale", "none"}), "how Û is scaled before training");
    v("log_every", log_every, at_least(1), "steps between init.csv rows");
    v("progress", progress, none(), "show progress");
  }
};

class KernelInitializer : public Initializer {
 public:
  explicit KernelInitializer(KernelInitOptions options) : options_(std::move(options)) {}
  InitReport run(torch::nn::AnyModule& model, const InitContext& context) override;
  const KernelInitOptions& options() const { return options_; }

 private:
  KernelInitOptions options_;
};

/// Estimated FLOPs of one objective + gradient evaluation for K modules (forward ≈ 1/3 of it).
double kernel_step_flops(const KernelInitOptions& options, int64_t K, int64_t D, int64_t b, int64_t d,
                         const std::vector<int64_t>& module_widths);

}  // namespace modnet::init
