// Monte Carlo of the linear random-feature model (PAPER.md §2); docs/theory.md §6.
#include "modnet/theory/simulation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>

#include "modnet/core/error.h"

namespace modnet::theory {

namespace {

const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);
// Matrix entries drawn per chunk of trials (~64 MiB of float64; a factorisation needs a few times that).
constexpr int64_t kMaxEntriesPerChunk = int64_t{1} << 23;

// The minimum-norm least-squares solution X⁺Y for a batch X [t, r, p], Y [t, r, k]. X has full rank
// with probability 1, so X⁺Y = (XᵀX)⁻¹XᵀY (r > p) or Xᵀ(XXᵀ)⁻¹Y (r < p), solved by Cholesky — 5–13×
// faster than an SVD. Within 10 % of the pole r = p (where the Gram matrix, whose condition number
// is the square of X's, is badly conditioned) or if a factorisation fails: torch::linalg_pinv (SVD).
torch::Tensor min_norm_solve(const torch::Tensor& X, const torch::Tensor& Y) {
  const int64_t r = X.size(1), p = X.size(2);
  if (10 * std::abs(r - p) >= std::min(r, p)) {
    const auto Xt = X.transpose(1, 2);
    const auto G = r > p ? torch::bmm(Xt, X) : torch::bmm(X, Xt);
    const auto [L, info] = torch::linalg_cholesky_ex(G);
    if (info.max().item<int64_t>() == 0)
      return r > p ? torch::cholesky_solve(torch::bmm(Xt, Y), L) : torch::bmm(Xt, torch::cholesky_solve(Y, L));
  }
  return torch::bmm(torch::linalg_pinv(X), Y);
}

// Per-trial losses of one chunk of `t` trials; appends to `train` and `test`.
void simulate_chunk(const torch::Tensor& lambda, double tail, int64_t n, int64_t d, int64_t t, at::Generator& gen,
                    OutputModel model, std::vector<double>& train, std::vector<double>& test) {
  const int64_t p = lambda.size(0);
  const double dd = static_cast<double>(d);
  const auto sqrt_lambda = lambda.sqrt();
  torch::Tensor loss_train, loss_test;
  if (model == OutputModel::shared) {
    // N = dn equations: every (sample, output) pair has its own feature row φ_j(x) ~ N(0, Λ₁).
    const int64_t N = d * n;
    const auto X = torch::randn({t, N, p}, gen, kF64) * sqrt_lambda;        // rows ~ N(0, Λ₁)
    const auto theta = torch::randn({t, p, 1}, gen, kF64);                  // θ*₁ iid N(0, 1)
    const auto noise = torch::randn({t, N, 1}, gen, kF64) * std::sqrt(tail);  // φ₂·θ*₂ ~ N(0, Tr Λ₂)
    const auto y = torch::bmm(X, theta) + noise;
    const auto theta_hat = min_norm_solve(X, y);  // minimum-norm least squares
    // train: Σ over the N equations of the squared residual, per sample (÷ n), i.e. summed over outputs.
    loss_train = (torch::bmm(X, theta_hat) - y).pow(2).sum({1, 2}) / static_cast<double>(n);
    // test: each of the d outputs sees a fresh φ_j(x): E(φ₁·(θ*₁ − θ̂))² = Σ_i λ_i (θ*_i − θ̂_i)², plus Tr Λ₂.
    loss_test = dd * ((theta - theta_hat).squeeze(2).pow(2) * lambda).sum(1) + dd * tail;
  } else {
    // One feature row per sample, W* ∈ ℝ^{p×d}; the d columns are d separate regressions on the same X.
    const auto X = torch::randn({t, n, p}, gen, kF64) * sqrt_lambda;
    const auto W = torch::randn({t, p, d}, gen, kF64);
    const auto noise = torch::randn({t, n, d}, gen, kF64) * std::sqrt(tail);
    const auto Y = torch::bmm(X, W) + noise;
    const auto W_hat = min_norm_solve(X, Y);
    loss_train = (torch::bmm(X, W_hat) - Y).pow(2).sum({1, 2}) / static_cast<double>(n);
    // test: Σ_i λ_i ‖W*_i − Ŵ_i‖² + d·Tr Λ₂ (a fresh φ(x) is shared by the outputs).
    loss_test = ((W - W_hat).pow(2).sum(2) * lambda).sum(1) + dd * tail;
  }
  const auto tr = loss_train.contiguous();
  const auto te = loss_test.contiguous();
  train.insert(train.end(), tr.data_ptr<double>(), tr.data_ptr<double>() + t);
  test.insert(test.end(), te.data_ptr<double>(), te.data_ptr<double>() + t);
}

// Mean and standard error (sample std / √count) of a list of per-trial values.
std::pair<double, double> mean_and_error(const std::vector<double>& v) {
  double mean = 0;
  for (const double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  if (v.size() < 2) return {mean, std::numeric_limits<double>::quiet_NaN()};
  double ss = 0;
  for (const double x : v) ss += (x - mean) * (x - mean);
  const double var = ss / static_cast<double>(v.size() - 1);
  return {mean, std::sqrt(var / static_cast<double>(v.size()))};
}

}  // namespace

MonteCarloLoss simulate_features(const torch::Tensor& head_eigenvalues, double tail_trace, int64_t n, int64_t d,
                                 int64_t trials, uint64_t seed, OutputModel model) {
  MODNET_CHECK(head_eigenvalues.defined() && head_eigenvalues.dim() == 1 && head_eigenvalues.size(0) >= 1,
               "theory simulate: head eigenvalues must be a 1-D tensor of length p >= 1, got {}",
               head_eigenvalues.defined() ? fmt::format("{} dimensions, {} entries", head_eigenvalues.dim(),
                                                        head_eigenvalues.numel())
                                          : std::string("an undefined tensor"));
  const auto lambda = head_eigenvalues.to(torch::kCPU, torch::kFloat64).contiguous();
  MODNET_CHECK(lambda.min().item<double>() >= 0 && torch::isfinite(lambda).all().item<bool>(),
               "theory simulate: head eigenvalues must be finite and >= 0");
  MODNET_CHECK(std::isfinite(tail_trace) && tail_trace >= 0, "theory simulate: Tr Λ₂ must be finite and >= 0, got {}",
               tail_trace);
  MODNET_CHECK(n >= 1 && d >= 1 && trials >= 1,
               "theory simulate: n, d and trials must be >= 1, got n = {}, d = {}, trials = {}", n, d, trials);
  const int64_t p = lambda.size(0);
  const int64_t rows = model == OutputModel::shared ? d * n : n;
  const int64_t per_trial = rows * std::max(p, d);
  const int64_t chunk = std::max<int64_t>(1, kMaxEntriesPerChunk / per_trial);
  auto gen = at::detail::createCPUGenerator(seed);
  std::vector<double> train, test;
  train.reserve(static_cast<size_t>(trials));
  test.reserve(static_cast<size_t>(trials));
  for (int64_t done = 0; done < trials; done += chunk)
    simulate_chunk(lambda, tail_trace, n, d, std::min(chunk, trials - done), gen, model, train, test);
  MonteCarloLoss out;
  out.trials = trials;
  std::tie(out.mean.train, out.standard_error.train) = mean_and_error(train);
  std::tie(out.mean.test, out.standard_error.test) = mean_and_error(test);
  return out;
}

LossPrediction simulate(const Spectrum& spectrum, int64_t n, int64_t p, int64_t d, int64_t trials, uint64_t seed,
                        OutputModel model) {
  spectrum.validate();
  MODNET_CHECK(p >= 1, "theory simulate: p (kept features) must be >= 1, got {}", p);
  // Kept: λ_1…λ_p (spectrum.h); unseen: Tr Λ₂(p) = c·(p+1)^(−α), drawn as noise (exact in expectation).
  return simulate_features(spectrum.eigenvalues(p), spectrum.tail(static_cast<double>(p)), n, d, trials, seed, model)
      .mean;
}

LossPrediction simulate_modular(const Spectrum& module_spectrum, int64_t k, int64_t n, int64_t p, int64_t d,
                                int64_t trials, uint64_t seed) {
  module_spectrum.validate();
  MODNET_CHECK(k >= 1 && p >= k && p % k == 0,
               "theory simulate_modular: p (total parameters) must be a positive multiple of k (modules), got p = {}, "
               "k = {}",
               p, k);
  // Each module: its first p/k eigenvalues scaled to trace c/k; the k modules' features are independent,
  // so the kept covariance is block-diagonal (order of the blocks is irrelevant) and the tails add up.
  // (Built from Spectrum directly, not from modular_tail, so that the check of predict_modular is independent.)
  const double kk = static_cast<double>(k);
  const Spectrum module{module_spectrum.c / kk, module_spectrum.omega, module_spectrum.m};
  const auto head = module.eigenvalues(p / k).repeat({k});
  const double tail = kk * module.tail(static_cast<double>(p / k));
  return simulate_features(head, tail, n, d, trials, seed).mean;
}

std::vector<double> log_grid(double lo, double hi, int64_t count) {
  MODNET_CHECK(lo > 0 && hi > lo && count >= 2, "theory log_grid: need 0 < lo < hi and count >= 2, got {}, {}, {}",
               lo, hi, count);
  std::vector<double> out(static_cast<size_t>(count));
  const double a = std::log(lo), b = std::log(hi);
  for (int64_t i = 0; i < count; ++i)
    out[static_cast<size_t>(i)] = std::exp(a + (b - a) * static_cast<double>(i) / static_cast<double>(count - 1));
  out.front() = lo;
  out.back() = hi;
  return out;
}

}  // namespace modnet::theory
