#include "modnet/train/experiment.h"

#include <chrono>
#include <filesystem>

#include "modnet/core/device.h"
#include "modnet/core/log.h"
#include "modnet/core/rng.h"
#include "modnet/models/mlp.h"

namespace modnet::train {

ExperimentConfig parse_experiment_config(const config::Document& doc) { return config::read<ExperimentConfig>(doc); }

ExperimentConfig load_experiment_config(const std::string& path, const std::vector<std::string>& overrides) {
  auto doc = config::load_file(path);
  for (const auto& o : overrides) config::apply_override(doc, o);
  return parse_experiment_config(doc);
}

std::string experiment_config_yaml(const ExperimentConfig& config) { return config::to_yaml(config::write(config)); }

Experiment::Experiment(ExperimentConfig config) : config_(std::move(config)), device_(resolve_device(config_.device)) {
  log::set_level(log::parse_level(config_.log_level));
  set_threads(config_.threads);
  const auto seed = static_cast<uint64_t>(config_.seed);
  task_ = data::build_task(config_.task, seed);
  models::ModelContext context{task_->input_dim(), task_->output_dim(), task_.get()};
  seed_global(derive_seed(seed, "model"));
  model_ = models::build_model(config_.model, context);
  model_.ptr()->to(device_);
}

int64_t Experiment::parameter_count() const { return models::parameter_count(*model_.ptr()); }

TrainResult Experiment::run(const std::string& out_dir, RunDirMode mode, std::optional<int64_t> until_step) {
  const auto wall0 = std::chrono::steady_clock::now();
  prepare_run_dir(out_dir, mode);
  const std::string config_yaml = experiment_config_yaml(config_);
  if (mode == RunDirMode::resume) {
    const std::string saved = read_file(out_dir + "/config.yaml");
    if (saved != config_yaml)
      throw Error(fmt::format("cannot resume '{}': its config.yaml differs from the config being run", out_dir));
  } else {
    write_file_atomic(out_dir + "/config.yaml", config_yaml);
  }
  log::info("run {}: task {} (D={}, out={}, n_train={}), model {} with {} parameters, device {}", out_dir,
            config_.task.type, task_->input_dim(), task_->output_dim(), task_->size(data::Split::train),
            config_.model.type, parameter_count(), describe_device(device_));

  Trainer trainer(config_.train, model_, task_, device_, derive_seed(static_cast<uint64_t>(config_.seed), "train"),
                  out_dir);
  if (mode == RunDirMode::resume) trainer.resume();
  auto result = trainer.run(until_step);
  if (!result.finished) return result;

  // Variance of the test targets: the loss of predicting the mean, the reference for a regression.
  const auto test = task_->all(data::Split::test);
  Json summary;
  summary.set("name", config_.name)
      .set("task", config_.task.type)
      .set("model", config_.model.type)
      .set("parameters", parameter_count())
      .set("seed", config_.seed)
      .set("steps", result.steps)
      .set("epochs", double(result.steps) / double(trainer.steps_per_epoch()))
      .set("stopped_early", result.stopped_early)
      .set("best_step", result.best_step)
      .set("train_seconds", result.seconds)
      .set("wall_seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count())
      .set("config_hash", config::hash(config::write(config_)))
      .set("device", device_.str());
  if (test.y.is_floating_point()) summary.set("test_target_variance", test.y.var(/*unbiased=*/false).item<double>());
  for (const auto& [split, r] : result.final) {
    summary.set(data::to_string(split) + "_loss", r.loss);
    for (const auto& [metric, value] : r.metrics) summary.set(data::to_string(split) + "_" + metric, value);
  }
  write_file_atomic(out_dir + "/summary.json", summary.dump());
  std::string line = fmt::format("done: {} steps in {:.1f}s", result.steps, result.seconds);
  for (const auto& [split, r] : result.final) line += fmt::format(", {} loss {:.4g}", data::to_string(split), r.loss);
  log::info("{}", line);
  return result;
}

Experiment Experiment::from_run(const std::string& run_dir) {
  Experiment e(load_experiment_config(run_dir + "/config.yaml"));
  load_weights(run_dir + "/model.pt", *e.model_.ptr());
  e.model_.ptr()->to(e.device_);
  return e;
}

}  // namespace modnet::train
