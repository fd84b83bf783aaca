#include "modnet/train/experiment.h"

#include <chrono>
#include <filesystem>

#include "modnet/analysis/similarity.h"
#include "modnet/analysis/tsne.h"
#include "modnet/analysis/plot.h"
#include "modnet/core/device.h"
#include "modnet/core/log.h"
#include "modnet/core/rng.h"
#include "modnet/models/mlp.h"
#include "modnet/models/projected.h"

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

  const auto seed = static_cast<uint64_t>(config_.seed);
  auto* projected = models::as_projected(model_);

  // Module similarity to the task's true modules, with its chance level beside it.
  std::unique_ptr<analysis::SimilarityTracker> tracker;
  std::unique_ptr<CsvLog> similarity_log;
  if (config_.analysis.similarity && projected && !task_->true_projections().empty()) {
    const auto u = projected->projections();
    tracker = std::make_unique<analysis::SimilarityTracker>(task_->true_projections(), task_->true_ridge_directions(),
                                                            u.size(0), u.size(2), config_.analysis.chance_samples,
                                                            derive_seed(seed, "similarity-chance"));
  }
  auto measure = [&] { return tracker->measure(projected->projections().detach().cpu()); };

  // The initialiser runs once, before the first step; its report is kept for resumed runs.
  Json init_summary;
  if (mode == RunDirMode::resume) {
    if (file_exists(out_dir + "/init.json")) {
      const auto saved = YAML::LoadFile(out_dir + "/init.json");
      for (auto it = saved.begin(); it != saved.end(); ++it) {
        const auto key = it->first.as<std::string>();
        if (key == "init_type") init_summary.set(key, it->second.as<std::string>());
        else init_summary.set(key, it->second.as<double>());
      }
    }
  } else if (config_.init) {
    init::InitContext ctx;
    ctx.task = task_.get();
    ctx.device = device_;
    ctx.seed = derive_seed(seed, "init");
    ctx.out_dir = out_dir;
    if (tracker) {
      ctx.probe_columns = {"similarity", "ridge_coverage"};
      ctx.probe = [&](const torch::Tensor& u) {
        const auto r = tracker->measure(u.cpu());
        return std::vector<double>{r.score, r.ridge_coverage};
      };
    }
    const auto report = init::build_initializer(*config_.init)->run(model_, ctx);
    init_summary.set("init_type", report.type)
        .set("init_steps", report.steps)
        .set("init_seconds", report.seconds)
        .set("init_flops", report.flops)
        .set("init_objective_start", report.objective_start)
        .set("init_objective_end", report.objective_end);
    write_file_atomic(out_dir + "/init.json", init_summary.dump());
  }

  Trainer trainer(config_.train, model_, task_, device_, derive_seed(seed, "train"), out_dir);
  if (mode == RunDirMode::resume) trainer.resume();
  if (tracker) {
    // On resume keep the rows up to the checkpoint; otherwise start with the state after init.
    similarity_log = std::make_unique<CsvLog>(
        out_dir + "/similarity.csv",
        std::vector<std::string>{"step", "similarity", "chance", "ridge_coverage", "ridge_chance"},
        mode == RunDirMode::resume ? std::optional<int64_t>(trainer.step()) : std::nullopt);
    if (mode != RunDirMode::resume) {
      const auto r = measure();
      similarity_log->row({"0", number(r.score), number(r.chance), number(r.ridge_coverage), number(r.ridge_chance)});
    }
  }
  if (tracker)
    trainer.add_callback([&](const EvalPoint& p) {
      const auto r = measure();
      similarity_log->row({std::to_string(p.step), number(r.score), number(r.chance), number(r.ridge_coverage),
                           number(r.ridge_chance)});
    });
  auto result = trainer.run(until_step);
  if (!result.finished) return result;

  if (config_.analysis.tsne && projected && !task_->true_projections().empty()) write_tsne(out_dir);

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
  summary.merge(init_summary);
  if (tracker) {
    const auto r = measure();
    summary.set("similarity", r.score)
        .set("similarity_chance", r.chance)
        .set("ridge_coverage", r.ridge_coverage)
        .set("ridge_coverage_chance", r.ridge_chance);
  }
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

void Experiment::write_tsne(const std::string& out_dir) {
  // Learned and true projections as projectors ÛÛᵀ (basis-independent), embedded together.
  auto learned = models::as_projected(model_)->projections().detach().cpu().to(torch::kDouble);
  const auto truth = task_->true_projections();
  std::vector<torch::Tensor> all;
  std::vector<std::string> labels;
  for (int64_t j = 0; j < learned.size(0); ++j) {
    all.push_back(learned[j]);
    labels.push_back("learned");
  }
  for (const auto& t : truth) {
    all.push_back(t.to(torch::kDouble));
    labels.push_back("true");
  }
  analysis::TsneOptions options;
  options.perplexity = config_.analysis.tsne_perplexity;
  options.seed = derive_seed(static_cast<uint64_t>(config_.seed), "tsne");
  const auto coords = analysis::tsne(analysis::projector_features(all), options);
  analysis::write_tsne_csv(out_dir + "/tsne.csv", coords, labels);
  std::vector<analysis::Series> series(2);
  series[0].title = "learned modules";
  series[1].title = "true modules";
  for (auto& s : series) s.style = "points";
  for (size_t i = 0; i < labels.size(); ++i) {
    auto& s = series[labels[i] == "learned" ? 0 : 1];
    s.x.push_back(coords[int64_t(i)][0].item<double>());
    s.y.push_back(coords[int64_t(i)][1].item<double>());
  }
  analysis::Panel panel;
  panel.title = fmt::format("t-SNE of module projections ({})", config_.model.type + (config_.init ? " + " + config_.init->type + " init" : ""));
  panel.series = series;
  analysis::write_png(out_dir + "/tsne.png", {panel});
}

Experiment Experiment::from_run(const std::string& run_dir) {
  Experiment e(load_experiment_config(run_dir + "/config.yaml"));
  load_weights(run_dir + "/model.pt", *e.model_.ptr());
  e.model_.ptr()->to(e.device_);
  return e;
}

}  // namespace modnet::train
