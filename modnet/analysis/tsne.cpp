// Exact t-SNE, following van der Maaten & Hinton (JMLR 2008) and van der Maaten's reference
// implementation tsne.py (binary search of the Gaussian bandwidths, symmetrised P, Student-t Q,
// gradient descent with momentum and per-coordinate gains, early exaggeration), with the gradient
// scaled as in the paper (factor 4) and the defaults of scikit-learn's exact method. Every step is
// one batched computation over the n×n matrices; the perplexity search bisects all bandwidths at once.
#include "modnet/analysis/tsne.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "modnet/analysis/similarity.h"
#include "modnet/core/files.h"

namespace modnet::analysis {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Squared Euclidean distances [n, n] (clamped at 0 against round-off), from ‖a‖² + ‖b‖² − 2a·b.
torch::Tensor squared_distances(const torch::Tensor& x) {
  const auto sq = x.pow(2).sum(1);
  return (sq.unsqueeze(1) + sq.unsqueeze(0) - 2.0 * torch::mm(x, x.t())).clamp_min(0.0);
}

// Conditional probabilities p_{j|i} [n, n] (rows sum to 1, zero diagonal) whose entropies
// H_i = −Σ_j p_{j|i} log p_{j|i} equal log(perplexity) within tol: the reference x2p(), bisecting
// all the precisions β_i = 1/(2σ_i²) at once. β_i doubles (halves) until the entropy is bracketed,
// then bisects. Distances are shifted by each row's smallest one first: this leaves p_{j|i} and H_i
// unchanged but keeps Σ_j exp(−β_i d_ij) >= 1, so no row underflows to 0/0.
torch::Tensor conditional_p(const torch::Tensor& dist, double perplexity) {
  constexpr double tol = 1e-5;         // as in the reference implementation
  constexpr int64_t max_steps = 100;   // enough to bracket and bisect any reasonable scale
  const int64_t n = dist.size(0);
  const auto eye = torch::eye(n, torch::TensorOptions().dtype(torch::kBool));
  const auto off = dist.masked_fill(eye, kInf);
  const auto d = (off - std::get<0>(off.min(1, /*keepdim=*/true))).masked_fill(eye, 0.0);  // [n, n], >= 0
  const double log_u = std::log(perplexity);

  // Start at the inverse mean distance of each row, which is close to the answer for most data.
  auto beta = (1.0 / (d.sum(1, true) / static_cast<double>(n - 1)).clamp_min(1e-12));  // [n, 1]
  auto beta_min = torch::zeros_like(beta);
  auto beta_max = torch::full_like(beta, kInf);
  // Unnormalised p_j = exp(−β d_j), zero diagonal, on one fresh n×n buffer.
  auto probs = [&](const torch::Tensor& b) { return torch::mul(d, -b).exp_().fill_diagonal_(0.0); };
  for (int64_t step = 0; step < max_steps; ++step) {
    auto p = probs(beta);
    const auto sum_p = p.sum(1, true);
    // Hbeta(): H = log Σ_j p_j + β Σ_j d_j p_j / Σ_j p_j.
    const auto h = torch::log(sum_p) + beta * p.mul_(d).sum(1, true) / sum_p;
    const auto diff = h - log_u;
    const auto open = diff.abs() > tol;
    if (!open.any().item<bool>()) break;
    const auto up = open & (diff > 0);    // entropy too high: sharpen (larger β)
    const auto down = open & (diff < 0);  // entropy too low: widen (smaller β)
    beta_min = torch::where(up, beta, beta_min);
    beta_max = torch::where(down, beta, beta_max);
    const auto raised = torch::where(torch::isinf(beta_max), beta * 2.0, (beta + beta_max) / 2.0);
    const auto lowered = (beta + beta_min) / 2.0;  // beta_min starts at 0: halving until bracketed
    beta = torch::where(up, raised, torch::where(down, lowered, beta));
  }
  auto p = probs(beta);
  return p.div_(p.sum(1, true));
}

torch::Tensor points_as_double(const torch::Tensor& points, const char* where) {
  TORCH_CHECK(points.defined() && points.dim() == 2, where, ": points must be [n, f], got ",
              points.defined() ? points.sizes() : torch::IntArrayRef{});
  const auto x = points.detach().to(torch::kCPU, torch::kFloat64);
  TORCH_CHECK(torch::isfinite(x).all().item<bool>(), where, ": points contain NaN or inf");
  return x;
}

}  // namespace

torch::Tensor tsne_conditional_p(const torch::Tensor& points, double perplexity) {
  const auto x = points_as_double(points, "tsne_conditional_p");
  TORCH_CHECK(x.size(0) >= 2, "tsne_conditional_p: need at least 2 points, got ", x.size(0));
  TORCH_CHECK(perplexity > 0, "tsne_conditional_p: perplexity must be > 0, got ", perplexity);
  return conditional_p(squared_distances(x), perplexity);
}

torch::Tensor tsne(const torch::Tensor& points, const TsneOptions& o) {
  TORCH_CHECK(o.perplexity > 0, "tsne: perplexity must be > 0, got ", o.perplexity);
  TORCH_CHECK(o.iterations >= 0 && o.exaggeration_iterations >= 0,
              "tsne: iterations and exaggeration_iterations must be >= 0, got ", o.iterations, " and ",
              o.exaggeration_iterations);
  TORCH_CHECK(o.learning_rate > 0, "tsne: learning_rate must be > 0, got ", o.learning_rate);
  TORCH_CHECK(o.early_exaggeration >= 1, "tsne: early_exaggeration must be >= 1, got ", o.early_exaggeration);
  TORCH_CHECK(o.momentum >= 0 && o.momentum < 1 && o.final_momentum >= 0 && o.final_momentum < 1,
              "tsne: momenta must be in [0, 1), got ", o.momentum, " and ", o.final_momentum);
  const auto x = points_as_double(points, "tsne");
  const int64_t n = x.size(0);
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  if (n <= 1) return torch::zeros({n, 2}, f64);

  // A perplexity near n leaves no room for neighbourhoods (scikit-learn requires perplexity < n;
  // (n-1)/3 keeps three "neighbourhoods" worth of points); below 1 the entropy target is negative.
  const double perplexity = std::min(o.perplexity, std::max((n - 1) / 3.0, 1.0));
  auto P = conditional_p(squared_distances(x), perplexity);
  P = ((P + P.t()) / (2.0 * n)).clamp_min(1e-12);  // symmetrised joint p_ij (paper eq. 1/§3.1)

  auto gen = at::detail::createCPUGenerator(o.seed);
  auto Y = torch::randn({n, 2}, gen, f64) * 1e-2;  // N(0, 1e-4·I), paper Algorithm 1
  auto update = torch::zeros_like(Y);
  auto gains = torch::ones_like(Y);
  const auto P_early = P * o.early_exaggeration;
  for (int64_t it = 0; it < o.iterations; ++it) {
    const bool early = it < o.exaggeration_iterations;
    // Student-t kernel (1 + ‖y_i − y_j‖²)⁻¹ with a zero diagonal (paper eq. 4), built in place on
    // one n×n buffer: 1 + ‖y_i‖² + ‖y_j‖² − 2 y_i·y_j (no clamp needed: round-off is ~1e-16 ≪ 1).
    const auto sq = Y.pow(2).sum(1);
    auto num = torch::addmm(sq.unsqueeze(0), Y, Y.t(), /*beta=*/1.0, /*alpha=*/-2.0);
    num.add_((sq + 1.0).unsqueeze(1)).reciprocal_().fill_diagonal_(0.0);
    const double z = num.sum().item<double>();  // q_ij = num_ij / z
    // ∂C/∂y_i = 4 Σ_j (p_ij − q_ij)(y_i − y_j)(1 + ‖y_i − y_j‖²)⁻¹ (paper eq. 5), as
    // 4 (rowsum(W) ⊙ y_i − W Y) with W = (p − q) ⊙ num = p ⊙ num − num²/z. (The reference
    // floors q at 1e-12 first; that changes W by at most 1e-12·num and is left out.)
    auto W = torch::mul(early ? P_early : P, num);
    W.addcmul_(num, num, -1.0 / z);
    const auto grad = 4.0 * (W.sum(1, true) * Y - torch::mm(W, Y));
    // Gains (Jacobs 1988, as in the reference): grow where the gradient turned against the last
    // step, shrink where it agrees; never below 0.01.
    gains = torch::where((grad > 0) != (update > 0), gains + 0.2, gains * 0.8).clamp_min(0.01);
    update = (early ? o.momentum : o.final_momentum) * update - o.learning_rate * gains * grad;
    Y = Y + update;
    Y = Y - Y.mean(0, true);
  }
  return Y;
}

torch::Tensor projector_features(const torch::Tensor& bases) {
  TORCH_CHECK(bases.defined() && bases.dim() == 3, "projector_features: bases must be [n, D, b], got ",
              bases.defined() ? bases.sizes() : torch::IntArrayRef{});
  const auto q = orthonormal_basis(bases);  // [n, D, b]
  const int64_t n = q.size(0), D = q.size(1);
  return torch::matmul(q, q.transpose(1, 2)).reshape({n, D * D});
}

torch::Tensor projector_features(const std::vector<torch::Tensor>& bases) {
  TORCH_CHECK(!bases.empty(), "projector_features: need at least one basis, got none");
  std::vector<torch::Tensor> rows;
  int64_t D = -1;
  for (size_t i = 0; i < bases.size(); ++i) {
    const auto& u = bases[i];
    TORCH_CHECK(u.defined() && u.dim() == 2, "projector_features: basis ", i, " must be [D, m], got ",
                u.defined() ? u.sizes() : torch::IntArrayRef{});
    if (i == 0) D = u.size(0);
    TORCH_CHECK(u.size(0) == D, "projector_features: basis ", i, " has D = ", u.size(0), ", expected ", D,
                " like basis 0");
    const auto q = orthonormal_basis(u);
    rows.push_back(torch::mm(q, q.t()).reshape({D * D}));
  }
  return torch::stack(rows);
}

void write_tsne_csv(const std::string& path, const torch::Tensor& coords, const std::vector<std::string>& labels) {
  TORCH_CHECK(coords.defined() && coords.dim() == 2 && coords.size(1) == 2,
              "write_tsne_csv: coords must be [n, 2], got ", coords.defined() ? coords.sizes() : torch::IntArrayRef{});
  TORCH_CHECK(static_cast<int64_t>(labels.size()) == coords.size(0), "write_tsne_csv: ", coords.size(0),
              " points but ", labels.size(), " labels");
  const auto c = coords.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  const auto a = c.accessor<double, 2>();
  std::string out = "x,y,label\n";
  for (int64_t i = 0; i < c.size(0); ++i) {
    const auto& label = labels[static_cast<size_t>(i)];
    std::string field = label;
    if (label.find_first_of(",\"\r\n") != std::string::npos) {  // RFC 4180: quote, double the quotes
      field = "\"";
      for (const char ch : label) field += ch == '"' ? std::string("\"\"") : std::string(1, ch);
      field += "\"";
    }
    out += fmt::format("{},{},{}\n", a[i][0], a[i][1], field);
  }
  write_file_atomic(path, out);
}

}  // namespace modnet::analysis
