#pragma once
// A run directory and every file in it, named in one place. Written by `modnet-train` (through
// run::Experiment, train::Trainer and the initialiser), read by resume, `modnet-eval`, reports and
// sweeps:
//   config.yaml       the resolved config (every default filled in); a directory holding it is a run
//   metrics.csv       train rows and evaluations over training
//   similarity.csv    module similarity to the true modules over training (tasks that have them)
//   init.csv          the initialiser's objective over its steps; init.json its report
//   checkpoint.pt     everything needed to resume (model, optimiser, schedule, RNG, data position)
//   model.pt          the final (best) weights
//   summary.json      the final numbers; present only when the run finished
//   slot_energy.csv   per-module projection energy per input slot (slotted tasks)
//   tsne.csv/.png     t-SNE of learned and true projections (analysis.tsne)
//   eval_<split>.json modnet-eval's results
#include <string>

namespace modnet {

struct RunDir {
  static constexpr const char* kConfig = "config.yaml";
  static constexpr const char* kMetrics = "metrics.csv";
  static constexpr const char* kSimilarity = "similarity.csv";
  static constexpr const char* kInitCsv = "init.csv";
  static constexpr const char* kInitJson = "init.json";
  static constexpr const char* kCheckpoint = "checkpoint.pt";
  static constexpr const char* kModel = "model.pt";
  static constexpr const char* kSummary = "summary.json";
  static constexpr const char* kSlotEnergy = "slot_energy.csv";
  static constexpr const char* kTsneCsv = "tsne.csv";
  static constexpr const char* kTsnePng = "tsne.png";

  std::string path;  // the directory

  std::string file(const std::string& name) const { return path + "/" + name; }
  std::string config() const { return file(kConfig); }
  std::string metrics() const { return file(kMetrics); }
  std::string similarity() const { return file(kSimilarity); }
  std::string init_csv() const { return file(kInitCsv); }
  std::string init_json() const { return file(kInitJson); }
  std::string checkpoint() const { return file(kCheckpoint); }
  std::string model() const { return file(kModel); }
  std::string summary() const { return file(kSummary); }
  std::string slot_energy() const { return file(kSlotEnergy); }
  std::string tsne_csv() const { return file(kTsneCsv); }
  std::string tsne_png() const { return file(kTsnePng); }
  /// modnet-eval's results for a split ("test", "ood", ...).
  std::string eval(const std::string& split) const { return file("eval_" + split + ".json"); }
};

enum class RunDirMode {
  fresh,   // the directory must not exist (or be empty)
  force,   // an existing directory is emptied first
  resume,  // the directory must exist and hold a run
};

/// Prepares an output directory for a run according to `mode` (modnet::Error naming the path and
/// the flag that would allow it otherwise).
void prepare_run_dir(const std::string& dir, RunDirMode mode);

}  // namespace modnet
