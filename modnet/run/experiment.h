#pragma once
// One experiment = one config: task + model (+ later an initialiser) + training, written to a run
// directory (config.yaml, metrics.csv, checkpoint.pt, model.pt, summary.json). The apps are thin
// wrappers around this.
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "modnet/core/config.h"
#include "modnet/core/run_dir.h"
#include "modnet/data/registry.h"
#include "modnet/init/initializer.h"
#include "modnet/models/registry.h"
#include "modnet/train/options.h"
#include "modnet/train/trainer.h"

namespace modnet::run {

/// Analyses run beside training (`analysis:` in a config).
struct AnalysisOptions {
  bool similarity = true;       // module similarity to the task's true modules, to similarity.csv
  int64_t chance_samples = 256; // random projections behind the similarity's chance level
  bool tsne = false;            // t-SNE of learned and true projections at the end (tsne.csv/.png)
  double tsne_perplexity = 5.0;
  std::vector<double> noise;    // input-noise σ at which test (and ood) are evaluated at the end

  template <class V>
  void fields(V& v) {
    using namespace config;
    v("similarity", similarity, none(), "log module similarity when the task has true modules");
    v("chance_samples", chance_samples, at_least(1), "samples for the similarity chance level");
    v("tsne", tsne, none(), "t-SNE of learned and true projections at the end of training");
    v("tsne_perplexity", tsne_perplexity, greater_than(0), "t-SNE perplexity");
    v("noise", noise, at_least(0), "input-noise σ list: test/ood evaluated under each at the end");
  }
};

struct ExperimentConfig {
  std::string name;
  int64_t seed = 0;
  std::string device = "auto";
  int64_t threads = 0;       // torch intra-op threads (0 = 1, the measured default)
  int64_t blas_threads = 0;  // OpenBLAS threads (0 = OpenBLAS default or OPENBLAS_NUM_THREADS)
  std::string log_level = "info";
  data::TaskSpec task;
  models::ModelSpec model;
  std::optional<init::InitSpec> init;
  train::TrainOptions train;
  AnalysisOptions analysis;

  template <class V>
  void fields(V& v) {
    using namespace config;
    v("name", name, none(), "free-form run name");
    v("seed", seed, at_least(0), "seed of every random stream (task, init, batches)");
    v("device", device, none(), "auto | cpu | cuda | cuda:N");
    v("threads", threads, at_least(0), "torch intra-op threads (0 = 1: measured best beside OpenBLAS's own threads)");
    v("blas_threads", blas_threads, at_least(0),
      "OpenBLAS threads (0 = its default: all cores, or OPENBLAS_NUM_THREADS); see docs/performance.md");
    v("log_level", log_level, one_of({"debug", "info", "warn", "error", "quiet"}), "log level");
    v("task", task, required(), "the task: {type: sine, ...}");
    v("model", model, required(), "the model: {type: monolithic, ...}");
    v("init", init, none(), "initialiser run before training: {type: kernel, ...}");
    v("train", train, required(), "training options");
    v("analysis", analysis, none(), "analyses beside training");
  }
};

/// Markdown reference of every config key (top level, and each registered task, model and
/// initialiser type) - docs/configuration.md.
std::string config_reference();
/// Reads a config file, applies `key.sub=value` overrides and validates everything.
ExperimentConfig load_experiment_config(const std::string& path, const std::vector<std::string>& overrides = {});
/// Validates an already parsed document.
ExperimentConfig parse_experiment_config(const config::Document& doc);
/// The resolved config as YAML text (every default filled in).
std::string experiment_config_yaml(const ExperimentConfig& config);
/// The checks across sections that a run makes when it builds its task and model - e.g. a
/// `model.module_dim` larger than the task's input - without building the task's data (the
/// task's sizes come from data::task_shape; nothing is checked for a task type without one).
/// ConfigError naming the key and where it was set.
void check_experiment(const ExperimentConfig& config);

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
  /// e.g. to split a long run. summary.json gives the run's phases (phase_*_seconds: load, init,
  /// train_steps, eval, checkpoint (during training), final_eval, write (after training)) beside
  /// its wall_seconds.
  train::TrainResult run(const std::string& out_dir, RunDirMode mode, std::optional<int64_t> until_step = {});

  /// Loads a finished run's config and final weights (for evaluation).
  static Experiment from_run(const std::string& run_dir);

 private:
  void write_tsne(const std::string& out_dir);

  ExperimentConfig config_;
  torch::Device device_;
  data::TaskPtr task_;
  torch::nn::AnyModule model_;
  double load_seconds_ = 0.0;  // the constructor: loading the data, building the model
};

}  // namespace modnet::run
