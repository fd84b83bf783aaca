#include "modnet/data/sine_wave_task.h"

#include <cmath>

#include "modnet/core/error.h"
#include "modnet/core/rng.h"

namespace modnet::data {

namespace {
torch::Tensor orthonormal(int64_t rows, int64_t cols, torch::Generator& gen) {
  auto a = torch::randn({rows, cols}, gen, torch::kDouble);
  auto q = std::get<0>(torch::linalg_qr(a, "reduced"));
  return q.contiguous();
}
}  // namespace

SineWaveTask::SineWaveTask(const SineWaveOptions& options, uint64_t run_seed) : options_(options) {
  const auto& o = options_;
  TORCH_CHECK(o.amplitudes.size() == o.frequencies.size() && !o.amplitudes.empty(),
              "SineWaveTask: amplitudes and frequencies must be non-empty and of equal length");
  TORCH_CHECK(o.module_dim <= o.dim, "SineWaveTask: module_dim ", o.module_dim, " > dim ", o.dim);
  TORCH_CHECK(o.projections != "disjoint" || o.modules * o.module_dim <= o.dim,
              "SineWaveTask: disjoint projections need modules*module_dim <= dim");
  const uint64_t task_seed = o.seed ? static_cast<uint64_t>(*o.seed) : derive_seed(run_seed, "task");
  auto gen = make_generator(derive_seed(task_seed, "structure"));
  const int64_t k = o.modules, m = o.module_dim, D = o.dim;
  const auto B = static_cast<int64_t>(o.amplitudes.size());
  ridges_ = o.target == "product" ? m : (o.ridges > 0 ? o.ridges : m);

  if (o.projections == "disjoint") {
    auto q = orthonormal(D, D, gen);
    for (int64_t i = 0; i < k; ++i) projections_.push_back(q.slice(1, i * m, (i + 1) * m).contiguous());
  } else {
    for (int64_t i = 0; i < k; ++i) projections_.push_back(orthonormal(D, m, gen));
  }
  std::vector<torch::Tensor> dirs;
  for (int64_t i = 0; i < k; ++i) {
    torch::Tensor v;
    if (o.target == "product") {
      v = torch::eye(m, torch::kDouble);
    } else {
      v = torch::randn({m, ridges_}, gen, torch::kDouble);
      v = v / v.norm(2, {0}, true);
    }
    dirs.push_back(projections_[i].matmul(v));
  }
  directions_ = torch::cat(dirs, 1).contiguous();
  phases_ = torch::rand({k, ridges_, B}, gen, torch::kDouble) * (2 * M_PI);
  amplitudes_ = torch::tensor(o.amplitudes, torch::kDouble);
  frequencies_ = torch::tensor(o.frequencies, torch::kDouble);

  train_ = generate(o.n_train, derive_seed(task_seed, "train"), true);
  if (o.n_val > 0) val_ = generate(o.n_val, derive_seed(task_seed, "val"), true);
  test_ = generate(o.n_test, derive_seed(task_seed, "test"), o.noise_on_test);
}

torch::Tensor SineWaveTask::target(const torch::Tensor& x_in) const {
  TORCH_CHECK(x_in.dim() == 2 && x_in.size(1) == options_.dim, "SineWaveTask::target: expected x of shape [n, ",
              options_.dim, "], got ", x_in.sizes());
  const auto x = x_in.to(torch::kDouble);
  const int64_t n = x.size(0), k = options_.modules;
  auto proj = x.matmul(directions_).view({n, k, ridges_, 1});                      // [n, k, r, 1]
  auto waves = torch::sin(proj * frequencies_ + phases_.unsqueeze(0)) * amplitudes_;  // [n, k, r, B]
  auto per_ridge = waves.sum(-1);                                                   // [n, k, r]
  auto per_module = options_.target == "product" ? per_ridge.prod(-1) : per_ridge.sum(-1);  // [n, k]
  return (per_module.sum(-1, true) / std::sqrt(static_cast<double>(k)));
}

Batch SineWaveTask::generate(int64_t n, uint64_t seed, bool noisy) const {
  auto gen = make_generator(seed);
  auto x = torch::randn({n, options_.dim}, gen, torch::kDouble);
  auto y = target(x);
  if (noisy && options_.noise > 0) y = y + options_.noise * torch::randn({n, 1}, gen, torch::kDouble);
  return {x.to(torch::kFloat), y.to(torch::kFloat)};
}

int64_t SineWaveTask::size(Split split) const {
  switch (split) {
    case Split::train: return options_.n_train;
    case Split::val: return options_.n_val;
    case Split::test: return options_.n_test;
    case Split::ood: return 0;
  }
  return 0;
}

Batch SineWaveTask::get(Split split, const torch::Tensor& index, const torch::Device& device) const {
  TORCH_CHECK(split != Split::ood, "SineWaveTask: the sine task has no ood split");
  const Batch& src = split == Split::train ? train_ : split == Split::val ? val_ : test_;
  TORCH_CHECK(src.x.defined(), "SineWaveTask: split '", to_string(split), "' is empty");
  return {src.x.index_select(0, index).to(device), src.y.index_select(0, index).to(device)};
}

std::vector<torch::Tensor> SineWaveTask::true_projections() const { return projections_; }

std::pair<double, double> SineWaveTask::ridge_target_moments() const {
  TORCH_CHECK(options_.target == "ridge", "ridge_target_moments: the task's target is '", options_.target, "'");
  // Components c = (module i, ridge s, bank b): α·sin(ω wᵀx + φ), wᵀx ~ N(0, 1).
  const int64_t k = options_.modules, B = amplitudes_.size(0);
  const auto alpha = (amplitudes_.view({1, 1, B}).expand({k, ridges_, B}) / std::sqrt(double(k))).reshape({-1});
  const auto omega = frequencies_.view({1, 1, B}).expand({k, ridges_, B}).reshape({-1});
  const auto phi = phases_.reshape({-1});
  const auto w = directions_.unsqueeze(-1).expand({options_.dim, k * ridges_, B}).reshape({options_.dim, -1});
  const auto rho = w.t().matmul(w);  // correlations of the projections
  // E sin(ωu+φ) = e^{-ω²/2} sin φ;  E[sin A sin B] = ½(E cos(A−B) − E cos(A+B)).
  const auto mean_c = torch::exp(-0.5 * omega * omega) * torch::sin(phi);
  const auto o1 = omega.unsqueeze(1), o2 = omega.unsqueeze(0);
  const auto p1 = phi.unsqueeze(1), p2 = phi.unsqueeze(0);
  const auto var_minus = o1 * o1 + o2 * o2 - 2 * rho * o1 * o2;
  const auto var_plus = o1 * o1 + o2 * o2 + 2 * rho * o1 * o2;
  const auto second = 0.5 * (torch::exp(-0.5 * var_minus) * torch::cos(p1 - p2) -
                             torch::exp(-0.5 * var_plus) * torch::cos(p1 + p2));
  const double mean = (alpha * mean_c).sum().item<double>();
  const double second_moment = (alpha.unsqueeze(1) * alpha.unsqueeze(0) * second).sum().item<double>();
  return {mean, second_moment - mean * mean};
}

}  // namespace modnet::data
