#pragma once
// The training loop: mini-batch optimisation with schedules, clipping, periodic evaluation,
// early stopping on the validation split, CSV metrics and resumable checkpoints.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "modnet/data/task.h"
#include "modnet/train/checkpoint.h"
#include "modnet/train/evaluator.h"
#include "modnet/core/csv.h"
#include "modnet/train/options.h"

namespace modnet::train {

/// What callbacks see at every evaluation.
struct EvalPoint {
  int64_t step = 0;
  double epoch = 0.0;
  double lr = 0.0;
  double seconds = 0.0;
  double train_loss = 0.0;  // mean mini-batch loss since the previous evaluation
  std::map<data::Split, EvalResult> results;  // val (when present) and test
};

struct TrainResult {
  bool finished = false;       // false when stopped by until_step or an interrupt
  bool stopped_early = false;
  int64_t steps = 0;
  int64_t best_step = -1;      // step of the best validation loss (-1 without validation)
  double seconds = 0.0;        // training wall time (all sessions of a resumed run)
  std::map<data::Split, EvalResult> final;  // of the final (or restored best) weights
  // Where this session's time went (seconds; a resumed run counts only its last session):
  double step_seconds = 0.0;        // training steps (batches, forward, backward, optimiser)
  double eval_seconds = 0.0;        // evaluations during training
  double checkpoint_seconds = 0.0;  // checkpoints during training
  double final_write_seconds = 0.0; // the final weights and checkpoint
  double final_eval_seconds = 0.0;  // the final evaluation of every split
};

/// Builds the optimiser named by the options over `parameters`.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainOptions& options,
                                                        const std::vector<torch::Tensor>& parameters);

/// Sets by signal handler (SIGINT/SIGTERM) when installed; the trainer then checkpoints and stops.
void install_interrupt_handler();
bool interrupted();

class Trainer {
 public:
  /// `out_dir` receives metrics.csv, checkpoint.pt and model.pt ("" = write nothing).
  /// `seed` drives the order of training batches.
  Trainer(TrainOptions options, torch::nn::AnyModule model, data::TaskPtr task, torch::Device device, uint64_t seed,
          std::string out_dir);

  /// Called at every evaluation (after metrics are written); e.g. to log module similarity.
  void add_callback(std::function<void(const EvalPoint&)> callback);
  /// Restores everything from out_dir/checkpoint.pt.
  void resume();
  /// Trains until the budget is spent, early stopping triggers, `until_step` is reached or an
  /// interrupt arrives. Saves a checkpoint whenever it stops before the end.
  TrainResult run(std::optional<int64_t> until_step = {});

  int64_t total_steps() const { return total_steps_; }
  int64_t steps_per_epoch() const { return steps_per_epoch_; }
  int64_t step() const { return state_.step; }
  torch::nn::AnyModule& model() { return model_; }
  torch::optim::Optimizer& optimizer() { return *optimizer_; }
  static const std::vector<std::string>& metric_columns();

 private:
  void evaluate_now(double lr, CsvLog* log);
  void checkpoint();

  TrainOptions options_;
  torch::nn::AnyModule model_;
  data::TaskPtr task_;
  torch::Device device_;
  uint64_t seed_;
  std::string out_dir_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  int64_t projection_group_ = -1;  // the optimiser's group of the projections Û when it has its own lr
  std::vector<std::function<void(const EvalPoint&)>> callbacks_;
  TrainerState state_;
  std::vector<torch::Tensor> best_weights_;
  int64_t steps_per_epoch_ = 0, total_steps_ = 0, batch_size_ = 0;
  bool resumed_ = false;
  std::optional<EvalPoint> last_eval_;
  std::map<data::Split, torch::Tensor> eval_index_;  // fixed subsets for evaluations during training
  torch::Tensor train_eval_index_;                   // the final train-loss evaluation's subset
  double eval_seconds_ = 0.0, checkpoint_seconds_ = 0.0;
};

}  // namespace modnet::train
