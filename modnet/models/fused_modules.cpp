#include "modnet/models/fused_modules.h"

#include <dlfcn.h>

#include <atomic>
#include <limits>

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

// ---- batched GEMMs straight to BLAS -----------------------------------------------------------------
// ATen's CPU bmm runs a loop over the batch that dispatches select and addmm_ for every matrix:
// for the small per-module GEMMs (a sine module's 64×64 layer) that bookkeeping costs more than the
// arithmetic. On the CPU the fused stack calls BLAS's sgemm_/dgemm_ (looked up at run time among
// the loaded symbols, as torch's own BLAS) once per module instead; where they are absent (a
// libtorch with a private BLAS), for other dtypes and on CUDA it uses torch::bmm.

template <class T>
using GemmFn = void (*)(const char*, const char*, const int*, const int*, const int*, const T*, const T*,
                        const int*, const T*, const int*, const T*, T*, const int*);

struct Blas {
  GemmFn<float> sgemm = reinterpret_cast<GemmFn<float>>(dlsym(RTLD_DEFAULT, "sgemm_"));
  GemmFn<double> dgemm = reinterpret_cast<GemmFn<double>>(dlsym(RTLD_DEFAULT, "dgemm_"));
};
const Blas& blas() {
  static const Blas b;
  return b;
}
std::atomic<bool> g_direct_blas{true};

// A [S, rows, cols] tensor's matrices as BLAS sees them: row-major (unit column stride) or
// column-major (unit row stride), with the leading dimension.
struct MatrixLayout {
  bool ok = false, column_major = false;
  int64_t ld = 0;
};
MatrixLayout layout_of(const torch::Tensor& t) {
  const int64_t r = t.size(1), c = t.size(2), sr = t.stride(1), sc = t.stride(2);
  MatrixLayout m;
  if ((c == 1 || sc == 1) && sr >= std::max<int64_t>(1, c)) {
    m.ok = true;
    m.ld = sr;
  } else if ((r == 1 || sr == 1) && sc >= std::max<int64_t>(1, r)) {
    m.ok = m.column_major = true;
    m.ld = sc;
  }
  return m;
}

template <class T>
bool blas_gemm(GemmFn<T> gemm, const torch::Tensor& a, const torch::Tensor& b, torch::Tensor& c, T beta) {
  const auto la = layout_of(a), lb = layout_of(b), lc = layout_of(c);
  if (!la.ok || !lb.ok || !lc.ok || lc.column_major) return false;
  const int64_t S = c.size(0), m = c.size(1), n = c.size(2), k = a.size(2);
  constexpr int64_t kMax = std::numeric_limits<int>::max();
  if (m > kMax || n > kMax || k > kMax || la.ld > kMax || lb.ld > kMax || lc.ld > kMax) return false;
  // Row-major C = A·B is column-major Cᵀ = Bᵀ·Aᵀ: B first; a row-major operand is already its
  // transpose in column-major terms ('N'), a column-major one needs 'T'.
  const char tb = lb.column_major ? 'T' : 'N', ta = la.column_major ? 'T' : 'N';
  const int im = int(m), in = int(n), ik = int(k), lda = int(la.ld), ldb = int(lb.ld), ldc = int(lc.ld);
  const T alpha = 1;
  const T* pa = a.data_ptr<T>();
  const T* pb = b.data_ptr<T>();
  T* pc = c.data_ptr<T>();
  for (int64_t s = 0; s < S; ++s)
    gemm(&tb, &ta, &in, &im, &ik, &alpha, pb + s * b.stride(0), &ldb, pa + s * a.stride(0), &lda, &beta,
         pc + s * c.stride(0), &ldc);
  return true;
}

// c = a·b + beta·c, batched over the first dimension (beta is 0 or 1).
void batched_gemm(const torch::Tensor& a, const torch::Tensor& b, torch::Tensor& c, double beta) {
  if (g_direct_blas.load(std::memory_order_relaxed) && c.device().is_cpu() && a.scalar_type() == c.scalar_type() &&
      b.scalar_type() == c.scalar_type() && c.numel() > 0 && a.size(2) > 0) {
    if (c.scalar_type() == torch::kFloat && blas().sgemm && blas_gemm<float>(blas().sgemm, a, b, c, float(beta))) return;
    if (c.scalar_type() == torch::kDouble && blas().dgemm && blas_gemm<double>(blas().dgemm, a, b, c, beta)) return;
  }
  if (beta == 0) {
    torch::bmm_out(c, a, b);
  } else {
    c.baddbmm_(a, b);
  }
}

struct ModuleMlpFunction : public torch::autograd::Function<ModuleMlpFunction> {
  // z [K, B, in]; weights [S, in, out]; biases [S, 1, out]. Rows are batched as [S, K·B/S, ·].
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor z, at::TensorList weights, at::TensorList biases,
                               int64_t activation, double scale, FusedWorkspace* ws) {
    const auto act = static_cast<Activation>(activation);
    const int64_t K = z.size(0), B = z.size(1), S = weights[0].size(0);
    const int64_t L = static_cast<int64_t>(weights.size());
    const torch::Tensor h0 = S == 1 ? z.reshape({1, K * B, z.size(2)}) : z;
    const int64_t R = h0.size(1);
    // The forward's buffers: pre-activations a_l and, where σ' needs a_l kept, activations h_l.
    std::vector<torch::Tensor> pre(static_cast<size_t>(L)), post(static_cast<size_t>(L - 1));  // a_l, h_l = σ(a_l)
    for (int64_t l = 0; l < L; ++l) {
      const int64_t out = weights[l].size(2);
      // The last layer's output goes to the caller when not combined: never a workspace buffer.
      const bool pooled = ws && (l + 1 < L || scale > 0);
      pre[size_t(l)] = pooled ? ws->get(size_t(2 * l), {S, R, out}, h0.options()) : torch::empty({S, R, out}, h0.options());
      if (l + 1 < L)
        post[size_t(l)] = !needs_pre_activation(act) ? pre[size_t(l)]
                          : ws ? ws->get(size_t(2 * l + 1), {S, R, out}, h0.options())
                               : torch::empty({S, R, out}, h0.options());
    }
    {
      torch::Tensor h = h0;
      for (int64_t l = 0; l < L; ++l) {
        auto a = pre[size_t(l)];
        a.copy_(biases[l].expand_as(a));
        batched_gemm(h, weights[l], a, 1.0);
        if (l + 1 == L) break;
        auto out = post[size_t(l)];
        switch (act) {
          case Activation::relu: a.relu_(); break;
          case Activation::tanh: a.tanh_(); break;
          case Activation::identity: break;
          case Activation::gelu: at::gelu_out(out, a); break;
          case Activation::silu: at::silu_out(out, a); break;
        }
        h = out;
      }
    }
    variable_list saved{h0};  // inputs of every layer, the weights, then pre-activations where σ' needs them
    saved.insert(saved.end(), post.begin(), post.end());
    for (int64_t l = 0; l < L; ++l) saved.push_back(weights[l]);
    if (needs_pre_activation(act)) saved.insert(saved.end(), pre.begin(), pre.end() - 1);
    ctx->save_for_backward(saved);
    ctx->saved_data["activation"] = activation;
    ctx->saved_data["scale"] = scale;
    ctx->saved_data["K"] = K;
    ctx->saved_data["L"] = L;
    ctx->saved_data["z_sizes"] = z.sizes().vec();
    auto out = pre[size_t(L - 1)].view({K, B, pre[size_t(L - 1)].size(2)});
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

    torch::Tensor g_out = grad_outputs[0];
    if (scale > 0) g_out = (g_out * scale).unsqueeze(0).expand({K, -1, -1});  // every module gets ∂ℓ/∂ŷ·scale
    g_out = g_out.contiguous().view({S, R, g_out.size(-1)});

    const bool need_z = ctx->needs_input_grad(0);
    std::vector<torch::Tensor> grad_w(static_cast<size_t>(L)), grad_b(static_cast<size_t>(L));
    for (int64_t l = 0; l < L; ++l) {
      grad_w[size_t(l)] = torch::empty(weight(l).sizes(), weight(l).options());
    }
    torch::Tensor grad_z = need_z ? torch::empty({S, R, input(0).size(2)}, input(0).options()) : torch::Tensor();
    {
      torch::Tensor g = g_out;
      for (int64_t l = L - 1; l >= 0; --l) {
        const auto& w = weight(l);
        batched_gemm(input(l).transpose(1, 2), g, grad_w[size_t(l)], 0.0);
        grad_b[size_t(l)] = g.sum(1, /*keepdim=*/true);
        if (l == 0) {
          if (need_z) batched_gemm(g, w.transpose(1, 2), grad_z, 0.0);
          break;
        }
        auto gh = torch::empty({S, g.size(1), w.size(1)}, g.options());  // ∂ℓ/∂h_{l-1}
        batched_gemm(g, w.transpose(1, 2), gh, 0.0);
        activation_backward(act, gh, input(l), pre(l - 1));
        g = gh;
      }
    }
    variable_list out{need_z ? grad_z.view(z_sizes) : torch::Tensor()};
    out.insert(out.end(), grad_w.begin(), grad_w.end());
    out.insert(out.end(), grad_b.begin(), grad_b.end());
    out.resize(out.size() + 3);  // activation, scale, workspace: not tensors
    return out;
  }
};

}  // namespace

void set_fused_direct_blas(bool enabled) { g_direct_blas.store(enabled); }

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
