// modnet-bench --end-to-end: one whole training run, timed phase by phase (bench.h).
#include <chrono>
#include <cstdlib>
#include <filesystem>

#include <yaml-cpp/yaml.h>

#include "modnet/bench/bench.h"
#include "modnet/core/error.h"
#include "modnet/core/log.h"
#include "modnet/core/run_dir.h"
#include "modnet/models/mlp.h"
#include "modnet/models/modular.h"
#include "modnet/run/experiment.h"

namespace modnet::bench {

namespace fs = std::filesystem;

double model_forward_flops(const torch::nn::AnyModule& model) {
  if (model.is_empty()) return 0.0;
  const auto* module = model.ptr().get();
  if (const auto* m = dynamic_cast<const models::ModularImpl*>(module)) {
    const auto& o = m->options;
    return modular_forward_flops(1, o.in_features(), o.modules(), o.module_dim(), o.hidden(), o.out_features());
  }
  if (const auto* m = dynamic_cast<const models::MLPImpl*>(module))
    return mlp_forward_flops(1, m->options.in_features(), m->options.hidden(), m->options.out_features());
  return 0.0;
}

double EndToEndResult::phase(const std::string& name) const {
  for (const auto& [n, s] : phases)
    if (n == name) return s;
  return 0.0;
}

double EndToEndResult::train_steps_gflops() const {
  const double s = phase("train steps");
  return s > 0 ? train_flops() / s / 1e9 : 0.0;
}

double EndToEndResult::post_training_fraction() const {
  return wall_seconds > 0 ? (phase("final evaluation") + phase("write")) / wall_seconds : 0.0;
}

namespace {

// A temporary directory that is removed with everything in it when this goes out of scope
// (modnet created it and all it holds).
struct TemporaryDirectory {
  TemporaryDirectory() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/modnet-bench-e2e-XXXXXX";
    if (!mkdtemp(pattern.data())) throw Error(fmt::format("end-to-end: cannot create a temporary directory '{}'", pattern));
    path = pattern;
  }
  ~TemporaryDirectory() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string path;
};

}  // namespace

EndToEndResult run_end_to_end(const BenchOptions& options) {
  if (!fs::exists(options.end_to_end_config))
    throw Error(fmt::format("end_to_end_config '{}': no such file (the end-to-end run's experiment config)",
                            options.end_to_end_config));
  const auto config = run::load_experiment_config(options.end_to_end_config);
  std::optional<TemporaryDirectory> temporary;
  std::string dir = options.end_to_end_out;
  if (dir.empty()) {
    temporary.emplace();
    dir = temporary->path + "/run";
  }
  log::info("end-to-end: {} ({}) into {}", options.end_to_end_config, config.name, dir);

  const auto t0 = std::chrono::steady_clock::now();
  run::Experiment experiment(config);  // load the data, build the model
  const auto result = experiment.run(dir, RunDirMode::fresh);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!result.finished) throw Error("end-to-end: the run was interrupted");

  EndToEndResult r;
  r.config = options.end_to_end_config;
  r.name = config.name;
  r.steps = result.steps;
  const auto& task = *experiment.task();
  const int64_t n = task.size(data::Split::train);
  const int64_t batch = std::min(config.train.batch_size, n), per_epoch = (n + batch - 1) / batch;
  r.samples = (result.steps / per_epoch) * n + std::min(n, (result.steps % per_epoch) * batch);
  r.flops_per_sample = training_step_flops(model_forward_flops(experiment.model()));
  r.wall_seconds = wall;
  // The phases as the run recorded them in summary.json.
  const auto summary = YAML::LoadFile(RunDir{dir}.summary());
  auto seconds = [&](const char* key) { return summary[key] ? summary[key].as<double>() : 0.0; };
  r.phases = {{"load", seconds("phase_load_seconds")},
              {"kernel init", seconds("phase_init_seconds")},
              {"train steps", seconds("phase_train_steps_seconds")},
              {"evaluations during training", seconds("phase_eval_seconds")},
              {"checkpoints during training", seconds("phase_checkpoint_seconds")},
              {"final evaluation", seconds("phase_final_eval_seconds")},
              {"write", seconds("phase_write_seconds")}};
  if (config.init && config.init->type != "kernel") r.phases[1].first = config.init->type + " init";
  double accounted = 0;
  for (const auto& [name, s] : r.phases) accounted += s;
  r.phases.emplace_back("other", std::max(0.0, wall - accounted));
  return r;
}

}  // namespace modnet::bench
