#include "modnet/models/fused_modules.h"

#include <torch/autograd.h>

namespace modnet::models {

torch::Tensor FusedWorkspace::get(size_t slot, at::IntArrayRef shape, const torch::TensorOptions& options) {
  if (buffers_.size() <= slot) buffers_.resize(slot + 1);
  auto& b = buffers_[slot];
  // Free = nothing but this workspace refers to the tensor or its memory (a graph that saved it for
  // its backward, or a view handed out, keeps a reference to one of them).
  const bool free = b.defined() && b.use_count() == 1 && b.storage().use_count() == 1;
  // A buffer made under inference mode (an evaluation) cannot be written outside it.
  const bool writable = b.defined() && (!b.is_inference() || c10::InferenceMode::is_enabled());
  if (!free || !writable || b.sizes() != shape || b.dtype() != options.dtype() || b.device() != options.device())
    b = torch::empty(shape, options);
  return b;
}

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Activations whose derivative needs the pre-activation a_l rather than the output h_l = σ(a_l).
bool needs_pre_activation(Activation a) { return a == Activation::gelu || a == Activation::silu; }

// h = σ(a), in place where the derivative can be taken from h.
torch::Tensor apply_activation(Activation act, torch::Tensor& a, FusedWorkspace* ws, size_t slot) {
  switch (act) {
    case Activation::relu: return a.relu_();
    case Activation::tanh: return a.tanh_();
    case Activation::identity: return a;
    case Activation::gelu: {
      auto h = ws ? ws->get(slot, a.sizes(), a.options()) : torch::empty_like(a);
      return at::gelu_out(h, a);
    }
    case Activation::silu: {
      auto h = ws ? ws->get(slot, a.sizes(), a.options()) : torch::empty_like(a);
      return at::silu_out(h, a);
    }
  }
  return a;
}

// g ← g ⊙ σ'(a), from the layer's output h (relu, tanh) or pre-activation a (gelu, silu).
void activation_backward(Activation act, torch::Tensor& g, const torch::Tensor& h, const torch::Tensor& a) {
  switch (act) {
    case Activation::relu: at::threshold_backward_out(g, g, h, 0); return;
    case Activation::tanh: at::tanh_backward_out(g, g, h); return;
    case Activation::identity: return;
    case Activation::gelu: g = at::gelu_backward(g, a); return;
    case Activation::silu: g = at::silu_backward(g, a); return;
  }
}

struct ModuleMlpFunction : public torch::autograd::Function<ModuleMlpFunction> {
  // z [K, B, in]; weights [S, in, out]; biases [S, 1, out]. Rows are batched as [S, K·B/S, ·].
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor z, at::TensorList weights, at::TensorList biases,
                               int64_t activation, double scale, FusedWorkspace* ws) {
    const auto act = static_cast<Activation>(activation);
    const int64_t K = z.size(0), B = z.size(1), S = weights[0].size(0);
    const int64_t L = static_cast<int64_t>(weights.size());
    torch::Tensor h = S == 1 ? z.reshape({1, K * B, z.size(2)}) : z;
    const int64_t R = h.size(1);
    variable_list saved{h};  // inputs of every layer, then pre-activations where σ' needs them
    variable_list pre;
    for (int64_t l = 0; l < L; ++l) {
      const auto& w = weights[l];
      // The last layer's output goes to the caller when not combined: never a workspace buffer.
      const bool pooled = ws && (l + 1 < L || scale > 0);
      auto a = pooled ? ws->get(size_t(2 * l), {S, R, w.size(2)}, h.options()) : torch::empty({S, R, w.size(2)}, h.options());
      torch::baddbmm_out(a, biases[l], h, w);
      if (l + 1 == L) {
        h = a;
        break;
      }
      if (needs_pre_activation(act)) pre.push_back(a);
      h = apply_activation(act, a, ws, size_t(2 * l + 1));
      saved.push_back(h);
    }
    for (int64_t l = 0; l < L; ++l) saved.push_back(weights[l]);
    saved.insert(saved.end(), pre.begin(), pre.end());
    ctx->save_for_backward(saved);
    ctx->saved_data["activation"] = activation;
    ctx->saved_data["scale"] = scale;
    ctx->saved_data["K"] = K;
    ctx->saved_data["L"] = L;
    ctx->saved_data["z_sizes"] = z.sizes().vec();
    auto out = h.view({K, B, h.size(2)});
    return scale > 0 ? out.sum(0).mul_(scale) : out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const auto act = static_cast<Activation>(ctx->saved_data["activation"].toInt());
    const double scale = ctx->saved_data["scale"].toDouble();
    const int64_t K = ctx->saved_data["K"].toInt(), L = ctx->saved_data["L"].toInt();
    const auto z_sizes = ctx->saved_data["z_sizes"].toIntVector();
    // saved: h_0 … h_{L-1} (the inputs of the L layers), W_1 … W_L, then the pre-activations.
    auto input = [&](int64_t l) -> const torch::Tensor& { return saved[size_t(l)]; };
    auto weight = [&](int64_t l) -> const torch::Tensor& { return saved[size_t(L + l)]; };
    auto pre = [&](int64_t l) { return needs_pre_activation(act) ? saved[size_t(2 * L + l)] : torch::Tensor(); };
    const int64_t S = weight(0).size(0), R = input(0).size(1);

    torch::Tensor g = grad_outputs[0];
    if (scale > 0) {
      g = (g * scale).unsqueeze(0).expand({K, -1, -1});  // every module receives ∂ℓ/∂ŷ · scale
    }
    g = g.contiguous().view({S, R, g.size(-1)});

    std::vector<torch::Tensor> grad_w(static_cast<size_t>(L)), grad_b(static_cast<size_t>(L));
    torch::Tensor grad_z;
    const bool need_z = ctx->needs_input_grad(0);
    for (int64_t l = L - 1; l >= 0; --l) {
      grad_w[size_t(l)] = torch::bmm(input(l).transpose(1, 2), g);
      grad_b[size_t(l)] = g.sum(1, /*keepdim=*/true);
      if (l == 0 && !need_z) break;
      auto gh = torch::bmm(g, weight(l).transpose(1, 2));  // ∂ℓ/∂h_{l-1}
      if (l == 0) {
        grad_z = gh.view(z_sizes);
        break;
      }
      activation_backward(act, gh, input(l), pre(l - 1));
      g = gh;
    }
    variable_list out{grad_z};
    out.insert(out.end(), grad_w.begin(), grad_w.end());
    out.insert(out.end(), grad_b.begin(), grad_b.end());
    out.resize(out.size() + 3);  // activation, scale, workspace: not tensors
    return out;
  }
};

}  // namespace

torch::Tensor fused_module_mlp(const torch::Tensor& z, const std::vector<torch::Tensor>& weights,
                               const std::vector<torch::Tensor>& biases, Activation activation, double combine_scale,
                               FusedWorkspace* workspace) {
  TORCH_CHECK(z.dim() == 3, "fused_module_mlp: expected z [K, B, in], got ", z.sizes());
  TORCH_CHECK(!weights.empty() && weights.size() == biases.size(),
              "fused_module_mlp: expected as many biases as weights (at least one layer), got ", weights.size(), " and ",
              biases.size());
  const int64_t S = weights[0].size(0);
  TORCH_CHECK(S == 1 || S == z.size(0), "fused_module_mlp: weight stacks of ", S, " modules for ", z.size(0),
              " module inputs");
  int64_t in = z.size(2);
  for (size_t l = 0; l < weights.size(); ++l) {
    const auto& w = weights[l];
    TORCH_CHECK(w.dim() == 3 && w.size(0) == S && w.size(1) == in, "fused_module_mlp: layer ", l, " weight ",
                w.sizes(), " does not take inputs of width ", in);
    TORCH_CHECK(biases[l].dim() == 3 && biases[l].size(0) == S && biases[l].size(1) == 1 &&
                    biases[l].size(2) == w.size(2),
                "fused_module_mlp: layer ", l, " bias ", biases[l].sizes(), " does not match weight ", w.sizes());
    in = w.size(2);
  }
  TORCH_CHECK(combine_scale >= 0, "fused_module_mlp: combine_scale must be >= 0, got ", combine_scale);
  return ModuleMlpFunction::apply(z, at::TensorList(weights), at::TensorList(biases), static_cast<int64_t>(activation),
                                  combine_scale, workspace);
}

}  // namespace modnet::models
