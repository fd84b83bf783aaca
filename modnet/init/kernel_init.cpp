#include "modnet/init/kernel_init.h"

#include <chrono>
#include <cmath>

#include "modnet/core/error.h"
#include "modnet/core/fused_adam.h"
#include "modnet/core/log.h"
#include "modnet/core/rng.h"
#include "modnet/core/run_dir.h"
#include "modnet/init/kernel_objective.h"
#include "modnet/models/projected.h"
#include "modnet/core/csv.h"
#include "modnet/core/progress.h"

namespace modnet::init {

double kernel_step_flops(const KernelInitOptions& o, int64_t K, int64_t D, int64_t b, int64_t d,
                         const std::vector<int64_t>& widths) {
  const double n = double(o.batch_size);
  double f = 2 * n * D * b;                 // projection X Û
  f += 2 * n * n * b + 6 * n * n;           // distances + exp
  if (o.kernel == "ntk") {
    int64_t in = b;
    for (auto w : widths) {
      f += 2 * n * in * w + 2 * n * n * (in + 1) + 2 * n * n * w * std::min<int64_t>(d, 8);
      in = w;
    }
  }
  f += n * n * n / 3 + 2 * n * n * d + 2 * n * d;  // Cholesky, two triangular solves, trace
  return 3.0 * f * double(K);  // backward ≈ 2× forward
}

InitReport KernelInitializer::run(torch::nn::AnyModule& model, const InitContext& ctx) {
  const auto& o = options_;
  TORCH_CHECK(ctx.task, "KernelInitializer: no task");
  auto* projected = models::as_projected(model);
  if (!projected)
    throw ConfigError("init.type = kernel needs a model with module projections (e.g. model.type: modular)");
  const auto t0 = std::chrono::steady_clock::now();
  auto param = projected->projections();
  const int64_t K = param.size(0), D = param.size(1), b = param.size(2);
  const auto& task = *ctx.task;
  const int64_t n_train = task.size(data::Split::train);
  const int64_t n = std::min(o.batch_size, n_train);
  TORCH_CHECK(n >= 2, "kernel init: the training split has fewer than 2 samples");

  // Optimise a copy of Û (each module from its own random start: the model's random init).
  auto u = param.detach().clone().to(ctx.device).requires_grad_(true);
  // A slot-wired model keeps Û inside its slots: optimise (and hand back) Û ⊙ mask.
  auto mask = projected->projection_mask();
  if (mask.defined()) mask = mask.to(ctx.device);
  const auto start_norm = param.detach().norm(2, {1, 2}).to(ctx.device);  // [K]
  // Adam moves every entry by about lr per step; with lr_units = relative the step is a fixed
  // fraction of the entries' initial size, whatever D is.
  const double lr = o.lr_units == "relative" ? o.lr * param.detach().pow(2).mean().sqrt().item<double>() : o.lr;
  FusedAdam adam({u}, torch::optim::AdamOptions(lr));

  // Per-module target maps, fixed for the whole initialisation.
  Rng rng(derive_seed(ctx.seed, "kernel-init"));
  const auto probe_batch = task.get(data::Split::train, torch::arange(std::min<int64_t>(2, n_train)), ctx.device);
  const int64_t d = task.target_matrix(probe_batch.y).size(1);
  torch::Tensor mix;  // [K, d, d'] applied to Y
  if (o.targets == "column") {
    mix = torch::zeros({K, d, 1});
    for (int64_t j = 0; j < K; ++j) mix[j][static_cast<int64_t>(rng.below(uint64_t(d)))][0] = 1.0;
  } else if (o.targets == "random_combination") {
    auto gen = make_generator(rng.next() & 0x7fffffffffffffffULL);
    mix = torch::randn({K, d, 1}, gen, torch::kFloat);
    mix = mix / mix.norm(2, {1}, true);
  }
  if (mix.defined()) mix = mix.to(ctx.device);

  std::unique_ptr<CsvLog> log;
  if (!ctx.out_dir.empty()) {
    std::vector<std::string> cols{"step", "objective_mean", "objective_min", "objective_max", "sigma2_mean", "seconds"};
    cols.insert(cols.end(), ctx.probe_columns.begin(), ctx.probe_columns.end());
    log = std::make_unique<CsvLog>(RunDir{ctx.out_dir}.init_csv(), cols);
  }

  std::vector<int64_t> widths;
  for (const auto& [w, bias] : projected->module_layers()) widths.push_back(w.size(2));
  if (!widths.empty()) widths.pop_back();

  auto objective = [&](const torch::Tensor& x, const torch::Tensor& ymat, torch::Tensor* sigma2) {
    auto z = models::project(x, mask.defined() ? u * mask : u);
    torch::Tensor gram;
    if (o.kernel == "rbf") {
      gram = rbf_gram(z, o.bandwidth_scale, o.bandwidth == "fixed", o.bandwidth_grad, sigma2);
    } else {
      // The tangent kernel depends on the scale of z: evaluate it on norm-matched projections.
      const auto scale = (start_norm / u.norm(2, {1, 2}).clamp_min(1e-12)).view({K, 1, 1});
      gram = tangent_gram(*projected, z * scale);
      if (sigma2) *sigma2 = torch::full({K}, NAN);
    }
    auto y = mix.defined() ? torch::matmul(ymat.unsqueeze(0), mix) : ymat.unsqueeze(0).expand({K, -1, -1});
    return min_norm_objective(gram, y.contiguous(), o.jitter);  // [K]
  };

  Progress progress("kernel init", o.steps, 0, o.progress, 10.0);
  InitReport report;
  report.type = "kernel";
  auto seconds = [&] { return seconds_since(t0); };
  for (int64_t step = 0; step <= o.steps; ++step) {
    // A fresh mini-batch of the training split each step (seeded, without replacement within it).
    auto index = sample_without_replacement(n_train, n, rng);
    const auto batch = task.get(data::Split::train, index, ctx.device);
    auto ymat = task.target_matrix(batch.y).to(batch.x.scalar_type());
    if (o.center_targets) ymat = ymat - ymat.mean(0, true);
    torch::Tensor sigma2;
    const auto per_module = objective(batch.x, ymat, &sigma2);
    const auto values = per_module.detach().cpu();
    if (!torch::isfinite(values).all().item<bool>())
      throw Error(fmt::format("kernel init: the objective is not finite at step {} (try a larger init.jitter, now {})",
                              step, o.jitter));
    if (step == 0) report.objective_start = values.mean().item<double>();
    report.objective_end = values.mean().item<double>();
    if (log && (step % o.log_every == 0 || step == o.steps)) {
      std::vector<std::string> row{std::to_string(step), number(values.mean().item<double>()),
                                   number(values.min().item<double>()), number(values.max().item<double>()),
                                   number(sigma2.defined() ? sigma2.mean().item<double>() : NAN),
                                   number(seconds())};
      if (ctx.probe)
        for (double v : ctx.probe(u.detach())) row.push_back(number(v));
      log->row(row);
    }
    if (step == o.steps) break;  // the last evaluation only measures
    drop_gradients({u});
    per_module.sum().backward();  // modules are independent: the sum's gradient is each one's
    adam.step();
    progress.update(step + 1, fmt::format("objective {:.4g}", report.objective_end));
  }
  progress.finish();

  // Hand the projections to the model at the scale it was initialised with.
  {
    torch::NoGradGuard no_grad;
    auto result = u.detach();  // inside the mask already: its gradient is masked
    if (o.finalize == "orthonormalize") {
      result = std::get<0>(torch::linalg_qr(result, "reduced")) *
               (start_norm / std::sqrt(double(b))).view({K, 1, 1});
    } else if (o.finalize == "rescale") {
      result = result * (start_norm / result.norm(2, {1, 2}).clamp_min(1e-12)).view({K, 1, 1});
    }
    if (mask.defined()) result = result * mask;  // exact zeros outside the slots after the QR
    param.copy_(result.to(param.device()));
  }
  report.steps = o.steps;
  report.seconds = seconds();
  report.flops = double(o.steps + 1) * kernel_step_flops(o, K, D, b, d, widths);
  log::info("kernel init: {} steps in {:.1f}s, objective {:.4g} -> {:.4g} (~{:.3g} GFLOP)", o.steps, report.seconds,
            report.objective_start, report.objective_end, report.flops / 1e9);
  return report;
}

}  // namespace modnet::init
