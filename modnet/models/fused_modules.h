#pragma once
// The K module MLPs of a modular network as one autograd node, with a hand-written backward.
//
// With autograd, a module stack of L layers records ~3L nodes (baddbmm, activation, and the sum
// over modules), and its backward runs each of them through the engine: on small modules (the
// sine task's 4 → 64 → 64 → 1) that per-op overhead, not arithmetic, is the step's cost. The fused
// form runs the same batched GEMMs (baddbmm over the [K, in, out] weight stacks) in one forward
// that keeps what the backward needs, and one backward that runs the chain rule of the whole stack
// directly:
//   forward   h_0 = z,  a_l = h_{l-1} W_l + b_l,  h_l = σ(a_l) (l < L),  out = a_L
//             combined: ŷ = scale · Σ_k out_k
//   backward  g_L = ∂ℓ/∂out (scale·∂ℓ/∂ŷ for every k when combined)
//             ∂W_l = h_{l-1}ᵀ g_l,  ∂b_l = Σ_B g_l,  g_{l-1} = (g_l W_lᵀ) ⊙ σ'(a_{l-1})
//             ∂z = g_1 W_1ᵀ (only when z needs a gradient)
// Every activation of models::Activation is supported; shared weights (S = 1) run as one MLP over
// the K·B rows. On a CPU each module's GEMMs are direct BLAS calls (see fused_modules.cpp). The autograd form (ModularImpl with fused(false)) is the reference it is tested
// against (tests/test_models.cpp, float64).
#include <vector>

#include <torch/torch.h>

#include "modnet/models/activation.h"

namespace modnet::models {

/// Forward buffers reused from one call to the next while their shapes stay the same and nothing
/// else holds them (a buffer still saved by a live autograd graph is never overwritten: a fresh one
/// is allocated instead). Owned by the model; not thread-safe (one per model, like its parameters).
class FusedWorkspace {
 public:
  /// Buffer `slot` with this shape and these options: the previous one if it is free, else new.
  torch::Tensor get(size_t slot, at::IntArrayRef shape, const torch::TensorOptions& options);
  /// Drops every buffer (e.g. after moving the model to another device).
  void clear() { buffers_.clear(); }

 private:
  std::vector<torch::Tensor> buffers_;
};

/// The module MLPs applied to their inputs, one autograd node for the whole stack.
///   z          [K, B, in] (any strides)
///   weights[l] [S, in_l, out_l] and biases[l] [S, 1, out_l], S = K (own weights) or 1 (shared)
///   σ          between layers, not after the last
///   combine_scale > 0: returns scale · Σ_k out_k, [B, out]; 0: the module outputs [K, B, out].
/// `workspace` (optional) supplies the forward buffers.
torch::Tensor fused_module_mlp(const torch::Tensor& z, const std::vector<torch::Tensor>& weights,
                               const std::vector<torch::Tensor>& biases, Activation activation, double combine_scale,
                               FusedWorkspace* workspace = nullptr);

/// Whether the CPU path calls BLAS directly per module (the default) or goes through torch::bmm;
/// both compute the same. For tests and comparisons.
void set_fused_direct_blas(bool enabled);

}  // namespace modnet::models
