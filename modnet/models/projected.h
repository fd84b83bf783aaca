#pragma once
// The interface of models built from K modules, each reading its own learned projection of the
// input: ŷ(x) = combine_j f_j(Û_jᵀx). Initialisers (kernel-based) and analyses (module similarity,
// t-SNE) work on any model that implements it, built-in or user-defined.
#include <optional>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "modnet/models/activation.h"

namespace modnet::models {

class ProjectedModules {
 public:
  virtual ~ProjectedModules() = default;
  /// The projection parameter Û, [K, D, b] (a live parameter: writes go into the model).
  virtual torch::Tensor projections() = 0;
  /// The module networks applied to projected inputs z [K, B, b] → [K, B, out].
  virtual torch::Tensor module_outputs(const torch::Tensor& z) = 0;
  /// The module networks as stacked dense layers (weight [K|1, in, out], bias [K|1, 1, out]) and
  /// their activation, for closed-form kernels such as the tangent kernel. Empty when the
  /// modules are not plain MLPs.
  virtual std::vector<std::pair<torch::Tensor, torch::Tensor>> module_layers() { return {}; }
  virtual Activation module_activation() const { return Activation::relu; }
  /// For models whose projections are constrained to a support (slot-wired networks): a 0/1 tensor
  /// shaped like projections() that training keeps them inside. Initialisers that write Û must
  /// respect it (the kernel initialiser optimises and hands back Û ⊙ mask). Undefined = no constraint.
  virtual torch::Tensor projection_mask() { return {}; }
};

// Slots: inputs made of k parts (images side by side, data::Task::input_slots() gives the slot of
// every coordinate). The oracle initialiser and the slot-wired network put each module inside one.

/// Module j's slot: j mod k, so every slot gets ⌊K/k⌋ or ⌈K/k⌉ modules (K = 2k: two each).
std::vector<int64_t> slot_assignment(int64_t modules, int64_t slots);
/// The number of slots of an input_slots tensor (its largest entry + 1).
int64_t slot_count(const torch::Tensor& input_slots);
/// 0/1 float mask [K, D, b] (D-major storage, as Modular's projections): module j's rows are 1 on the
/// coordinates of slot assignment[j], 0 elsewhere.
torch::Tensor slot_mask(const torch::Tensor& input_slots, const std::vector<int64_t>& assignment, int64_t b);
/// Random projections inside the modules' slots, [K, D, b] (D-major storage): module j's b columns
/// orthonormal (Haar within its slot, via QR of a Gaussian), supported on slot assignment[j]'s
/// coordinates only (exact zeros elsewhere), times column_norm[j]. Draws from `generator` (global
/// generator when undefined).
torch::Tensor slot_projections(const torch::Tensor& input_slots, const std::vector<int64_t>& assignment, int64_t b,
                               const torch::Tensor& column_norm, std::optional<torch::Generator> generator = std::nullopt);

/// Projected inputs z_j = Û_jᵀx of all K modules at once: x [B, D], projections [K, D, b] →
/// [K, B, b], as one GEMM [B, D] × [D, K·b] (the model's forward pass, the kernel objective and
/// the benchmark all project this way).
inline torch::Tensor project(const torch::Tensor& x, const torch::Tensor& projections) {
  const int64_t K = projections.size(0), D = projections.size(1), b = projections.size(2);
  return x.matmul(projections.permute({1, 0, 2}).reshape({D, K * b})).view({x.size(0), K, b}).transpose(0, 1);
}

/// The model's ProjectedModules interface, or nullptr when it has none.
inline ProjectedModules* as_projected(const torch::nn::AnyModule& model) {
  return model.is_empty() ? nullptr : dynamic_cast<ProjectedModules*>(model.ptr().get());
}

}  // namespace modnet::models
