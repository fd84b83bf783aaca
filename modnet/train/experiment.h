#pragma once
// One experiment = one config: task + model (+ later an initialiser) + training, written to a run
// directory (config.yaml, metrics.csv, checkpoint.pt, model.pt, summary.json). The apps are thin
// wrappers around this.
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "modnet/core/config.h"
#include "modnet/core/files.h"
#include "modnet/data/registry.h"
#include "modnet/models/registry.h"
#include "modnet/train/options.h"
#include "modnet/train/trainer.h"

namespace modnet::train {

struct ExperimentConfig {
  std::string name;
  int64_t seed = 0;
  std::string device = "auto";
  int64_t threads = 0;  // torch intra-op threads (0 = library default)
  std::string log_level = "info";
  data::TaskSpec task;
  models::ModelSpec model;
  TrainOptions train;

  template <class V>
  void fields(V& v) {
    using namespace config;
    v("name", name, none(), "free-form run name");
    v("seed", seed, at_least(0), "seed of every random stream (task, init, batches)");
    v("device", device, none(), "auto | cpu | cuda | cuda:N");
    v("threads", threads, at_least(0), "torch intra-op threads (0 = default)");
    v("log_level", log_level, one_of({"debug", "info", "warn", "error", "quiet"}), "log level");
    v("task", task, required(), "the task: {type: sine, ...}");
    v("model", model, required(), "the model: {type: monolithic, ...}");
    v("train", train, required(), "training options");
  }
};

/// Reads a config file, applies `key.sub=value` overrides and validates everything.
ExperimentConfig load_experiment_config(const std::string& path, const std::vector<std::string>& overrides = {});
/// Validates an already parsed document.
ExperimentConfig parse_experiment_config(const config::Document& doc);
/// The resolved config as YAML text (every default filled in).
std::string experiment_config_yaml(const ExperimentConfig& config);

class Experiment {
 public:
  /// Builds the task and the model (seeded) on the configured device.
  explicit Experiment(ExperimentConfig config);

  const ExperimentConfig& config() const { return config_; }
  const data::TaskPtr& task() const { return task_; }
  torch::nn::AnyModule& model() { return model_; }
  const torch::Device& device() const { return device_; }
  int64_t parameter_count() const;

  /// Trains into `out_dir` (prepared according to `mode`; resume continues from its checkpoint).
  /// Writes config.yaml first and summary.json at the end. `until_step` stops early (checkpointed),
  /// e.g. to split a long run.
  TrainResult run(const std::string& out_dir, RunDirMode mode, std::optional<int64_t> until_step = {});

  /// Loads a finished run's config and final weights (for evaluation).
  static Experiment from_run(const std::string& run_dir);

 private:
  ExperimentConfig config_;
  torch::Device device_;
  data::TaskPtr task_;
  torch::nn::AnyModule model_;
};

}  // namespace modnet::train
