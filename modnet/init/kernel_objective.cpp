#include "modnet/init/kernel_objective.h"

#include <algorithm>
#include <vector>

#include <torch/autograd.h>

namespace modnet::init {

torch::Tensor pairwise_sq_distances(const torch::Tensor& z) {
  TORCH_CHECK(z.dim() == 3, "pairwise_sq_distances: expected z [K, n, b], got ", z.sizes());
  const auto sq = z.square().sum(-1);  // [K, n]
  // ‖a‖² + ‖b‖² − 2 a·b: one batched GEMM for the cross terms, the squared norms added in place.
  auto d = torch::baddbmm(sq.unsqueeze(2), z, z.transpose(1, 2), /*beta=*/1, /*alpha=*/-2);
  return d.add_(sq.unsqueeze(1)).clamp_min_(0);
}

namespace {

// Flat [n·n] positions of the strictly upper triangle, row by row.
torch::Tensor upper_triangle_positions(int64_t n, const torch::Device& device) {
  const auto iu = torch::triu_indices(n, n, 1, torch::TensorOptions().dtype(torch::kLong).device(device));
  return iu[0] * n + iu[1];
}

}  // namespace

torch::Tensor median_sq_distance(const torch::Tensor& sqd) {
  const int64_t K = sqd.size(0), n = sqd.size(1);
  TORCH_CHECK(n >= 2, "median_sq_distance: need at least 2 points, got ", n);
  return std::get<0>(sqd.reshape({K, n * n}).index_select(1, upper_triangle_positions(n, sqd.device())).median(1));
}

namespace {

// The median of each module's strictly upper-triangular distances and its flat [n·n] position.
// On the CPU by partial selection (std::nth_element on a copy of the n(n−1)/2 values, then one
// scan for its position): about a third faster than index_select + torch::median, which also
// copies and selects but through a generic reduction. torch's convention: the lower of the two
// middle values.
template <class T>
void upper_median_cpu(const torch::Tensor& d, torch::Tensor& values, torch::Tensor& positions) {
  const int64_t K = d.size(0), n = d.size(1), m = n * (n - 1) / 2, mid = (m - 1) / 2;
  const T* p = d.data_ptr<T>();
  auto* v = values.data_ptr<T>();
  auto* pos = positions.data_ptr<int64_t>();
  std::vector<T> buffer(static_cast<size_t>(m));
  for (int64_t k = 0; k < K; ++k) {
    const T* mat = p + k * n * n;
    T* out = buffer.data();
    for (int64_t a = 0; a + 1 < n; ++a) out = std::copy(mat + a * n + a + 1, mat + (a + 1) * n, out);
    std::nth_element(buffer.begin(), buffer.begin() + mid, buffer.end());
    const T median = buffer[size_t(mid)];
    v[k] = median;
    pos[k] = -1;
    for (int64_t a = 0; a + 1 < n && pos[k] < 0; ++a)
      for (int64_t b = a + 1; b < n; ++b)
        if (mat[a * n + b] == median) {
          pos[k] = a * n + b;
          break;
        }
  }
}

std::pair<torch::Tensor, torch::Tensor> upper_median(const torch::Tensor& d) {
  const int64_t K = d.size(0), n = d.size(1);
  if (d.device().is_cpu() && d.is_contiguous() && (d.scalar_type() == torch::kFloat || d.scalar_type() == torch::kDouble)) {
    auto values = torch::empty({K}, d.options());
    auto positions = torch::empty({K}, torch::TensorOptions().dtype(torch::kLong));
    if (d.scalar_type() == torch::kFloat) upper_median_cpu<float>(d, values, positions);
    else upper_median_cpu<double>(d, values, positions);
    return {values, positions};
  }
  const auto flat = upper_triangle_positions(n, d.device());
  const auto [med, which] = d.reshape({K, n * n}).index_select(1, flat).median(1);
  return {med, flat.index_select(0, which)};
}

}  // namespace

torch::Tensor rbf_gram_reference(const torch::Tensor& z, double scale, bool fixed, bool bandwidth_grad,
                                 torch::Tensor* sigma2_out) {
  TORCH_CHECK(scale > 0, "rbf_gram: bandwidth scale must be positive, got ", scale);
  const auto sqd = pairwise_sq_distances(z);
  torch::Tensor sigma2;
  if (fixed) {
    sigma2 = torch::full({z.size(0)}, scale * scale, z.options());
  } else {
    auto med = median_sq_distance(sqd);
    if (!bandwidth_grad) med = med.detach();
    sigma2 = (scale * scale) * med.clamp_min(1e-12);
  }
  if (sigma2_out) *sigma2_out = sigma2.detach();
  return torch::exp(-sqd / (2 * sigma2.view({-1, 1, 1})));
}

namespace {

// G = exp(−D / 2σ²), D_ab = ‖z_a − z_b‖², σ² = scale²·median_{a<b} D_ab (or scale² when fixed), as
// one autograd node. With P = ∂J/∂G and W = P ⊙ G the backward is
//   S = −W / 2σ²  (+ scale²·Σ(W ⊙ D)/2σ⁴ at the median's entry, when the bandwidth has a gradient)
//   ∂J/∂z_a = 2 Σ_b (S + Sᵀ)_ab (z_a − z_b) = 2 (rowsum(T)_a z_a − (T z)_a),  T = S + Sᵀ
// a handful of passes over the [K, n, n] matrices and one batched GEMM, where autograd runs about
// twenty (exp, division, clamp, the broadcast sums, the median's scatter, the GEMM's two sides).
// Where D was clamped at 0 (coincident points) the true gradient is 0 and so is z_a − z_b.
struct RbfGram : public torch::autograd::Function<RbfGram> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor z, double scale, bool fixed,
                               bool bandwidth_grad, torch::Tensor* sigma2_out) {
    const int64_t K = z.size(0), n = z.size(1);
    auto d = pairwise_sq_distances(z);
    d.diagonal(0, 1, 2).zero_();  // exactly 0: a point's distance to itself
    torch::Tensor sigma2, median_at;  // median_at: the flat [n·n] position of each module's median
    bool median_grad = false;
    if (fixed) {
      sigma2 = torch::full({K}, scale * scale, z.options());
    } else {
      TORCH_CHECK(n >= 2, "rbf_gram: the median bandwidth needs at least 2 points, got ", n);
      torch::Tensor med;
      std::tie(med, median_at) = upper_median(d);
      sigma2 = (scale * scale) * med.clamp_min(1e-12);
      median_grad = bandwidth_grad;
      ctx->saved_data["median_live"] = (med > 1e-12).to(z.scalar_type());  // where the clamp passes a gradient
    }
    if (sigma2_out) *sigma2_out = sigma2.clone();
    auto gram = d * (-0.5 / sigma2).view({K, 1, 1});
    gram.exp_();
    ctx->save_for_backward({z, gram, d, sigma2});
    ctx->saved_data["median_grad"] = median_grad;
    ctx->saved_data["scale2"] = scale * scale;
    if (median_grad) ctx->saved_data["median_at"] = median_at;
    return gram;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const auto &z = saved[0], &gram = saved[1], &d = saved[2], &sigma2 = saved[3];
    const int64_t K = z.size(0), n = z.size(1);
    torch::Tensor grad_z;
    if (!ctx->needs_input_grad(0)) return {grad_z, {}, {}, {}, {}};
    auto s = (grad_outputs[0] * gram).contiguous();  // W = ∂J/∂G ⊙ G (the incoming layout may be any)
    torch::Tensor grad_median;
    if (ctx->saved_data["median_grad"].toBool()) {
      // ∂J/∂σ² = Σ W⊙D / 2σ⁴, as a batched dot product (no [K, n, n] temporary).
      const auto dot = torch::bmm(s.reshape({K, 1, n * n}), d.reshape({K, n * n, 1})).view({K});
      grad_median = dot / (2 * sigma2.square()) * ctx->saved_data["scale2"].toDouble() *
                    ctx->saved_data["median_live"].toTensor();
    }
    s.mul_((-0.5 / sigma2).view({K, 1, 1}));  // S = ∂J/∂D
    if (grad_median.defined())
      s.view({K, n * n}).scatter_add_(1, ctx->saved_data["median_at"].toTensor().view({K, 1}), grad_median.view({K, 1}));
    const auto t = s + s.transpose(1, 2);
    grad_z = torch::bmm(t, z).mul_(-2).add_(z * (2 * t.sum(2)).unsqueeze(2));
    return {grad_z, {}, {}, {}, {}};
  }
};

}  // namespace

torch::Tensor rbf_gram(const torch::Tensor& z, double scale, bool fixed, bool bandwidth_grad, torch::Tensor* sigma2_out) {
  TORCH_CHECK(scale > 0, "rbf_gram: bandwidth scale must be positive, got ", scale);
  TORCH_CHECK(z.dim() == 3, "rbf_gram: expected z [K, n, b], got ", z.sizes());
  return RbfGram::apply(z, scale, fixed, bandwidth_grad, sigma2_out);
}

torch::Tensor tangent_gram(models::ProjectedModules& model, const torch::Tensor& z) {
  const auto layers = model.module_layers();
  TORCH_CHECK(!layers.empty(), "tangent_gram: the model's modules are not plain MLPs (module_layers() is empty); "
              "use the rbf kernel");
  const auto act = model.module_activation();
  const int64_t K = z.size(0), L = static_cast<int64_t>(layers.size());
  auto weight = [&](int64_t l) { return layers[l].first.expand({K, -1, -1}); };
  auto bias = [&](int64_t l) { return layers[l].second.expand({K, -1, -1}); };
  // Forward: inputs a_{l-1} of every layer and pre-activations h_l of the hidden layers.
  std::vector<torch::Tensor> inputs{z}, pre;
  torch::Tensor a = z;
  for (int64_t l = 0; l + 1 < L; ++l) {
    auto h = torch::baddbmm(bias(l), a, weight(l));
    pre.push_back(h);
    a = models::activate(act, h);
    inputs.push_back(a);
  }
  const int64_t d = layers.back().first.size(2);
  // Output layer: δ^o = e_o for every o, so Σ_o δ·δ' = d.
  auto gram = (torch::bmm(inputs[L - 1], inputs[L - 1].transpose(1, 2)) + 1) * double(d);
  // Hidden layers: δ^o_l = (δ^o_{l+1} W_{l+1}ᵀ) ⊙ σ'(h_l), carried for a chunk of outputs at a time
  // ([K, c, n, w]) so that memory stays bounded for many outputs.
  const int64_t chunk = 8;
  for (int64_t o0 = 0; o0 < d && L > 1; o0 += chunk) {
    const int64_t c = std::min(chunk, d - o0);
    auto delta = weight(L - 1).slice(2, o0, o0 + c).transpose(1, 2).unsqueeze(2);  // [K, c, 1, w]
    delta = delta * models::activate_grad(act, pre[L - 2]).unsqueeze(1);            // [K, c, n, w]
    for (int64_t l = L - 2; l >= 0; --l) {
      const int64_t n = delta.size(2), w = delta.size(3);
      const auto flat = delta.permute({0, 2, 1, 3}).reshape({K, n, c * w});  // Σ_o folded into the GEMM
      gram = gram + (torch::bmm(inputs[l], inputs[l].transpose(1, 2)) + 1) * torch::bmm(flat, flat.transpose(1, 2));
      if (l > 0) {
        delta = torch::matmul(delta, weight(l).transpose(1, 2).unsqueeze(1));  // [K, c, n, w_{l-1}]
        delta = delta * models::activate_grad(act, pre[l - 1]).unsqueeze(1);
      }
    }
  }
  return gram / double(d);
}

namespace {

// J = tr(Yᵀ M⁻¹ Y) / n with M = G + c·I (c = ε·mean diag G, a constant): one Cholesky factor for
// the forward, and a closed-form backward that needs no second factorisation or triangular solve:
//   A = M⁻¹Y,  ∂J/∂G = −A·Aᵀ / n,  ∂J/∂Y = 2A / n.
// (Autograd through linalg_cholesky and cholesky_solve runs two more triangular solves of n×n
// right-hand sides per module: most of the initialiser's time.)
struct MinNormObjective : public torch::autograd::Function<MinNormObjective> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor gram, torch::Tensor y,
                               double jitter) {
    const int64_t n = gram.size(1);
    const auto diag_mean = gram.diagonal(0, 1, 2).mean(-1);  // [K]
    auto reg = gram.clone();
    reg.diagonal(0, 1, 2).add_((jitter * diag_mean).unsqueeze(1));
    const auto chol = torch::linalg_cholesky(reg);
    const auto alpha = torch::cholesky_solve(y, chol);  // (G + εI)⁻¹ Y
    ctx->save_for_backward({alpha});
    ctx->saved_data["n"] = n;
    return (y * alpha).sum({1, 2}) / double(n);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto alpha = ctx->get_saved_variables()[0];
    const double n = double(ctx->saved_data["n"].toInt());
    const auto g = grad_outputs[0].view({-1, 1, 1});  // [K, 1, 1]
    torch::Tensor grad_gram, grad_y;
    if (ctx->needs_input_grad(0)) grad_gram = torch::bmm(alpha, alpha.transpose(1, 2)).mul_(-g / n);
    if (ctx->needs_input_grad(1)) grad_y = alpha * (2.0 * g / n);
    return {grad_gram, grad_y, torch::Tensor()};
  }
};

}  // namespace

torch::Tensor min_norm_objective(const torch::Tensor& gram, const torch::Tensor& y, double jitter) {
  TORCH_CHECK(gram.dim() == 3 && gram.size(1) == gram.size(2), "min_norm_objective: expected gram [K, n, n], got ",
              gram.sizes());
  TORCH_CHECK(y.dim() == 3 && y.size(0) == gram.size(0) && y.size(1) == gram.size(1),
              "min_norm_objective: expected y [", gram.size(0), ", ", gram.size(1), ", d], got ", y.sizes());
  TORCH_CHECK(jitter > 0, "min_norm_objective: jitter must be positive (it keeps the Cholesky factorisation "
              "defined), got ", jitter);
  return MinNormObjective::apply(gram, y, jitter);
}

torch::Tensor min_norm_objective_reference(const torch::Tensor& gram, const torch::Tensor& y, double jitter) {
  const int64_t n = gram.size(1);
  const auto diag_mean = gram.diagonal(0, 1, 2).mean(-1).detach();  // [K]
  const auto eye = torch::eye(n, gram.options());
  const auto reg = gram + (jitter * diag_mean).view({-1, 1, 1}) * eye;
  const auto chol = torch::linalg_cholesky(reg);
  const auto alpha = torch::cholesky_solve(y, chol);
  return (y * alpha).sum({1, 2}) / double(n);
}

}  // namespace modnet::init
