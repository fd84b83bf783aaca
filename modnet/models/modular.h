#pragma once
// The modular network of PAPER.md §4: ŷ(x) = (1/√K)·Σ_j f_j(Û_jᵀx). The K projections are one
// [K, D, b] parameter and the K module MLPs are stacked [K, in, out] weights, so the whole forward
// pass is one GEMM for the projections and one batched GEMM (baddbmm) per layer - no loop over
// modules. By default the module stack (and the sum over modules) is one autograd node with a
// hand-written backward (models/fused_modules.h); `fused(false)` runs the same computation through
// autograd op by op, the reference.
//
// The projections are a [K, D, b] parameter stored D-major (memory of a [D, K, b] tensor, strides
// (b, K·b, 1)), so that x·[Û_1 … Û_K] reads them as one [D, K·b] matrix without a copy, and its
// gradient comes back in the same layout.
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "modnet/core/config.h"
#include "modnet/models/fused_modules.h"
#include "modnet/models/mlp.h"
#include "modnet/models/projected.h"
#include "modnet/models/registry.h"

namespace modnet::models {

struct ModularOptions {
  ModularOptions(int64_t in_features, int64_t out_features, int64_t modules, int64_t module_dim)
      : in_features_(in_features), out_features_(out_features), modules_(modules), module_dim_(module_dim) {}
  TORCH_ARG(int64_t, in_features);   // D
  TORCH_ARG(int64_t, out_features);  // output dimension
  TORCH_ARG(int64_t, modules);       // K
  TORCH_ARG(int64_t, module_dim);    // b
  TORCH_ARG(std::vector<int64_t>, hidden) = std::vector<int64_t>{64, 64};  // module MLP widths
  TORCH_ARG(std::string, activation) = "relu";
  TORCH_ARG(bool, shared_weights) = false;  // one module MLP shared by all modules
  TORCH_ARG(std::string, projection_init) = "orthonormal";  // orthonormal | gaussian
  TORCH_ARG(double, projection_scale) = 1.0;  // orthonormal: column norm; gaussian: std·√D
  TORCH_ARG(bool, fused) = true;  // module stack as one autograd node (false: autograd op by op)
  /// Slot-wired: module j's projection lives inside slot j mod k for all of training (a 0/1 mask
  /// on Û and its gradient); needs input_slots.
  TORCH_ARG(bool, slot_wired) = false;
  TORCH_ARG(torch::Tensor, input_slots);  // the slot of every input coordinate, int64 [D] (slot_wired)
};

class ModularImpl : public torch::nn::Cloneable<ModularImpl>, public ProjectedModules {
 public:
  explicit ModularImpl(ModularOptions options);
  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  torch::Tensor forward(torch::Tensor x);
  /// forward() after the projection: the modules' outputs on z [K, B, b], summed / √K → [B, out].
  torch::Tensor forward_projected(const torch::Tensor& z);
  /// The same function as forward(), written as a loop over the K modules (x·Û_j, then module j's
  /// own MLP, outputs summed / √K) with the same parameters: the reference the batched form is
  /// tested against, and the "per-module loop" formulation modnet-bench times. Not for training.
  torch::Tensor forward_per_module(const torch::Tensor& x);

  /// Projected inputs z_j = Û_jᵀx for all modules at once: x [B, D] → [K, B, b].
  torch::Tensor project(const torch::Tensor& x);
  torch::Tensor projections() override { return projections_; }
  torch::Tensor module_outputs(const torch::Tensor& z) override;
  std::vector<std::pair<torch::Tensor, torch::Tensor>> module_layers() override;
  Activation module_activation() const override { return activation_; }
  /// Slot-wired networks: the 0/1 mask [K, D, b] (a buffer, "slot_mask"); undefined otherwise.
  torch::Tensor projection_mask() override { return mask_; }

  ModularOptions options;

 private:
  Activation activation_ = Activation::relu;
  torch::Tensor projections_;
  torch::Tensor mask_;  // slot-wired: Û ⊙ mask_ = Û always (gradients masked by a hook)
  std::vector<torch::Tensor> weights_, biases_;
  std::shared_ptr<FusedWorkspace> workspace_;  // the fused forward's buffers (each clone its own)
};
TORCH_MODULE(Modular);

/// Parameters of a modular network (projections + module MLPs).
int64_t modular_parameter_count(int64_t in, int64_t out, int64_t modules, int64_t module_dim,
                                const std::vector<int64_t>& hidden, bool shared_weights);

/// Config options of the `modular` model type: the module options (defaults as in
/// ModularOptions; the sizes D and out come from the task) and how the module widths are given.
struct ModularModelOptions : WidthOptions {
  ModularOptions module{0, 0, 4, 2};  // D, out from the task; K (0 = 2k of the task), b

  template <class V>
  void fields(V& v) {
    using namespace config;
    v("modules", module.modules(), at_least(0), "number of modules K (0 = twice the task's module count k)");
    v("module_dim", module.module_dim(), at_least(1), "projection dimension b of each module");
    width_fields(v, "module MLP hidden widths", "target total parameter count (module width solved)",
                 "module hidden layers when `params` is given");
    v("activation", module.activation(), one_of(activation_names()), "activation");
    v("shared_weights", module.shared_weights(), none(), "share one module MLP between all modules");
    v("projection_init", module.projection_init(), one_of({"orthonormal", "gaussian"}), "random init of Û");
    v("projection_scale", module.projection_scale(), greater_than(0), "scale of the random Û");
    v("fused", module.fused(), none(),
      "module MLPs as one autograd node with a hand-written backward (false: autograd op by op, the reference)");
    v("slot_wired", module.slot_wired(), none(),
      "wire module j to input slot j mod k for all of training (its projection masked to that slot's coordinates; "
      "tasks with input slots, e.g. compositional; needs modules >= k)");
  }
};

/// The module widths the options ask for, given the task sizes (solves `params`).
std::vector<int64_t> modular_hidden(const ModularModelOptions& options, int64_t in, int64_t out);
Modular make_modular(const ModularModelOptions& options, const ModelContext& context);

}  // namespace modnet::models
