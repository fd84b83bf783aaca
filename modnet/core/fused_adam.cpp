#include "modnet/core/fused_adam.h"

#include "modnet/core/torch_compat.h"

#include <cmath>
#include <thread>
#include <vector>

namespace modnet {
namespace {

struct Coefficients {
  float beta1, beta2, one_minus_beta1, one_minus_beta2, step_size, inv_sqrt_bc2, eps, weight_decay;
};

// p -= step_size · m / (sqrt(v)/sqrt(bc2) + eps) after the moment updates, element by element:
// the operations and their order of torch::optim::Adam::step, in float.
void update(float* p, const float* g, float* m, float* v, int64_t begin, int64_t end, const Coefficients& c) {
  for (int64_t i = begin; i < end; ++i) {
    const float grad = c.weight_decay != 0.0f ? g[i] + c.weight_decay * p[i] : g[i];
    m[i] = m[i] * c.beta1 + c.one_minus_beta1 * grad;
    v[i] = v[i] * c.beta2 + c.one_minus_beta2 * grad * grad;
    const float denom = std::sqrt(v[i]) * c.inv_sqrt_bc2 + c.eps;
    p[i] -= c.step_size * m[i] / denom;
  }
}

void fused_update(const torch::Tensor& p, const torch::Tensor& g, const torch::Tensor& m, const torch::Tensor& v,
                  const Coefficients& c) {
  const int64_t n = p.numel();
  float* pp = p.data_ptr<float>();
  const float* gp = g.data_ptr<float>();
  float* mp = m.data_ptr<float>();
  float* vp = v.data_ptr<float>();
  // Large tensors are split over the cores (the update is memory-bound; BLAS threads are idle now).
  constexpr int64_t kParallelFrom = 1 << 18;
  const int64_t workers = n >= kParallelFrom ? std::max<int64_t>(1, std::thread::hardware_concurrency()) : 1;
  if (workers == 1) {
    update(pp, gp, mp, vp, 0, n, c);
    return;
  }
  const int64_t chunk = (n + workers - 1) / workers;
  std::vector<std::thread> threads;
  for (int64_t w = 1; w < workers; ++w)
    threads.emplace_back(update, pp, gp, mp, vp, w * chunk, std::min(n, (w + 1) * chunk), std::cref(c));
  update(pp, gp, mp, vp, 0, std::min(n, chunk), c);
  for (auto& t : threads) t.join();
}

// The update runs over the parameter's memory as one flat array: any dense layout works (e.g. the
// D-major projections of models::Modular) as long as the gradient has the same strides, which the
// autograd engine gives a dense parameter's gradient.
bool fusable(const torch::Tensor& p) {
  const auto& g = p.grad();
  return p.device().is_cpu() && p.scalar_type() == torch::kFloat && p.is_non_overlapping_and_dense() &&
         !g.is_sparse() && g.scalar_type() == torch::kFloat && g.strides() == p.strides();
}

}  // namespace

torch::Tensor FusedAdam::step(LossClosure closure) {
  // Fall back to the reference step unless every parameter can take the fused path.
  fused_last_step_ = false;
  for (const auto& group : param_groups()) {
    const auto& o = static_cast<const torch::optim::AdamOptions&>(group.options());
    if (o.amsgrad()) return torch::optim::Adam::step(std::move(closure));
    for (const auto& p : group.params())
      if (p.grad().defined() && !fusable(p)) return torch::optim::Adam::step(std::move(closure));
  }
  fused_last_step_ = true;
  torch::NoGradGuard no_grad;
  torch::Tensor loss = {};
  if (closure != nullptr) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  auto& states = state();
  for (auto& group : param_groups()) {
    const auto& o = static_cast<const torch::optim::AdamOptions&>(group.options());
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      const auto key = compat::optimizer_state_key(p);
      auto it = states.find(key);
      if (it == states.end()) {
        auto s = std::make_unique<torch::optim::AdamParamState>();
        s->step(0);
        s->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        s->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        it = states.emplace(key, std::move(s)).first;
      }
      auto& s = static_cast<torch::optim::AdamParamState&>(*it->second);
      // The flat update needs the moments in the parameter's layout (a loaded state may differ).
      if (s.exp_avg().strides() != p.strides()) s.exp_avg(torch::empty_like(p).copy_(s.exp_avg()));
      if (s.exp_avg_sq().strides() != p.strides()) s.exp_avg_sq(torch::empty_like(p).copy_(s.exp_avg_sq()));
      s.step(s.step() + 1);
      const double beta1 = std::get<0>(o.betas()), beta2 = std::get<1>(o.betas());
      const double bc1 = 1 - std::pow(beta1, double(s.step())), bc2 = 1 - std::pow(beta2, double(s.step()));
      const Coefficients c{float(beta1),         float(beta2),    float(1 - beta1), float(1 - beta2),
                           float(o.lr() / bc1), float(1 / std::sqrt(bc2)), float(o.eps()), float(o.weight_decay())};
      fused_update(p, p.grad(), s.exp_avg(), s.exp_avg_sq(), c);
    }
  }
  return loss;
}

}  // namespace modnet
