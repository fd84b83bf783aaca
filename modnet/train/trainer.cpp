#include "modnet/train/trainer.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cmath>

#include "modnet/core/error.h"
#include "modnet/core/log.h"
#include "modnet/core/precision.h"
#include "modnet/core/fused_adam.h"
#include "modnet/core/rng.h"
#include "modnet/core/run_dir.h"
#include "modnet/core/progress.h"
#include "modnet/models/projected.h"

namespace modnet::train {

namespace {
std::atomic<bool> g_interrupted{false};
void on_signal(int) { g_interrupted.store(true); }
}  // namespace

void install_interrupt_handler() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}
bool interrupted() { return g_interrupted.load(); }

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainOptions& o, const std::vector<torch::Tensor>& params) {
  if (o.optimizer == "sgd")
    return std::make_unique<torch::optim::SGD>(
        params, torch::optim::SGDOptions(o.lr).momentum(o.momentum).nesterov(o.nesterov).weight_decay(o.weight_decay));
  if (o.optimizer == "adamw")
    return std::make_unique<torch::optim::AdamW>(
        params, torch::optim::AdamWOptions(o.lr).betas({o.beta1, o.beta2}).eps(o.eps).weight_decay(o.weight_decay));
  if (o.optimizer == "adam")
    return std::make_unique<FusedAdam>(
        params, torch::optim::AdamOptions(o.lr).betas({o.beta1, o.beta2}).eps(o.eps).weight_decay(o.weight_decay));
  throw ConfigError(fmt::format("train.optimizer '{}': expected adam, adamw or sgd", o.optimizer));
}

const std::vector<std::string>& Trainer::metric_columns() {
  static const std::vector<std::string> columns{"step", "epoch", "split", "loss", "accuracy", "lr", "seconds"};
  return columns;
}

Trainer::Trainer(TrainOptions options, torch::nn::AnyModule model, data::TaskPtr task, torch::Device device,
                 uint64_t seed, std::string out_dir)
    : options_(std::move(options)),
      model_(std::move(model)),
      task_(std::move(task)),
      device_(device),
      seed_(seed),
      out_dir_(std::move(out_dir)) {
  TORCH_CHECK(task_, "Trainer: no task");
  check_precision(options_.precision, device_, "train.precision");
  const int64_t n = task_->size(data::Split::train);
  TORCH_CHECK(n > 0, "Trainer: the training split is empty");
  TORCH_CHECK(options_.epochs.has_value() != options_.steps.has_value(),
              "Trainer: exactly one of train.epochs and train.steps must be set");
  batch_size_ = std::min(options_.batch_size, n);
  steps_per_epoch_ = (n + batch_size_ - 1) / batch_size_;
  total_steps_ = options_.steps ? *options_.steps : *options_.epochs * steps_per_epoch_;
  model_.ptr()->to(device_);
  model_.ptr()->train();
  if (options_.projection_lr_scale != 1.0 || options_.freeze_projections_steps > 0) {
    // The projections in a group of their own, whose learning rate run() scales.
    auto* projected = models::as_projected(model_);
    if (!projected)
      throw ConfigError(fmt::format("train.{} needs a model with module projections (e.g. model.type: modular)",
                                    options_.projection_lr_scale != 1.0 ? "projection_lr_scale"
                                                                        : "freeze_projections_steps"));
    const auto u = projected->projections();
    std::vector<torch::Tensor> rest;
    for (const auto& p : model_.ptr()->parameters())
      if (!p.is_same(u)) rest.push_back(p);
    optimizer_ = make_optimizer(options_, rest);
    optimizer_->add_param_group(torch::optim::OptimizerParamGroup({u}));
    projection_group_ = int64_t(optimizer_->param_groups().size()) - 1;
  } else {
    optimizer_ = make_optimizer(options_, model_.ptr()->parameters());
  }
  // Fixed, seeded evaluation subsets: the same samples at every evaluation and after a resume.
  for (auto split : {data::Split::val, data::Split::test, data::Split::ood})
    eval_index_[split] = evaluation_subset(task_->size(split), options_.eval_samples,
                                           derive_seed(seed_, "eval-subset-" + data::to_string(split)));
  train_eval_index_ = evaluation_subset(n, options_.train_eval_samples, derive_seed(seed_, "train-eval-subset"));
}

void Trainer::add_callback(std::function<void(const EvalPoint&)> callback) { callbacks_.push_back(std::move(callback)); }


void Trainer::resume() {
  TORCH_CHECK(!out_dir_.empty(), "Trainer::resume: no output directory to resume from");
  load_checkpoint(RunDir{out_dir_}.checkpoint(), *model_.ptr(), *optimizer_, state_, best_weights_);
  model_.ptr()->to(device_);
  resumed_ = true;
  log::info("resumed at step {} of {}", state_.step, total_steps_);
}

void Trainer::checkpoint() {
  if (out_dir_.empty()) return;
  const auto t0 = std::chrono::steady_clock::now();
  save_checkpoint(RunDir{out_dir_}.checkpoint(), *model_.ptr(), *optimizer_, state_, best_weights_);
  checkpoint_seconds_ += seconds_since(t0);
}

void Trainer::evaluate_now(double lr, CsvLog* log) {
  EvalPoint point;
  point.step = state_.step;
  point.epoch = double(state_.step) / double(steps_per_epoch_);
  point.lr = lr;
  point.seconds = state_.seconds;
  point.train_loss = state_.running_count ? state_.running_loss / double(state_.running_count) : NAN;
  state_.running_loss = 0.0;
  state_.running_count = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (auto split : {data::Split::val, data::Split::test, data::Split::ood})
    if (task_->size(split) > 0)
      point.results[split] = evaluate(model_, *task_, split, device_, options_.eval_batch_size, 0.0, 0,
                                      eval_index_.at(split));
  eval_seconds_ += seconds_since(t0);
  if (log) {
    auto row = [&](const std::string& split, double loss, std::optional<double> acc) {
      log->row({std::to_string(point.step), number(point.epoch), split, number(loss), acc ? number(*acc) : "",
                number(lr), number(point.seconds)});
    };
    row("train", point.train_loss, std::nullopt);
    for (const auto& [split, r] : point.results) {
      auto it = r.metrics.find("accuracy");
      row(data::to_string(split), r.loss, it == r.metrics.end() ? std::nullopt : std::optional<double>(it->second));
    }
  }
  // Early stopping and best weights follow the validation loss only - never the test set.
  auto val = point.results.find(data::Split::val);
  if (val != point.results.end()) {
    if (val->second.loss < state_.best_val - options_.early_stopping.min_delta) {
      state_.best_val = val->second.loss;
      state_.best_step = state_.step;
      state_.bad_evals = 0;
      if (options_.early_stopping.enabled && options_.early_stopping.restore_best) {
        best_weights_.clear();
        for (const auto& p : model_.ptr()->parameters()) best_weights_.push_back(p.detach().clone());
      }
    } else {
      ++state_.bad_evals;
      if (options_.early_stopping.enabled && state_.bad_evals >= options_.early_stopping.patience)
        state_.stopped_early = true;
    }
  }
  for (const auto& cb : callbacks_) cb(point);
  last_eval_ = point;
}

TrainResult Trainer::run(std::optional<int64_t> until_step) {
  const int64_t n = task_->size(data::Split::train);
  std::unique_ptr<CsvLog> log;
  if (!out_dir_.empty())
    log = std::make_unique<CsvLog>(RunDir{out_dir_}.metrics(), metric_columns(),
                                   resumed_ ? std::optional<int64_t>(state_.step) : std::nullopt);
  if (options_.early_stopping.enabled && task_->size(data::Split::val) == 0)
    throw ConfigError("train.early_stopping.enabled needs a validation split (the task has n_val = 0)");

  Progress progress("train", total_steps_, state_.step, options_.progress, options_.log_interval);
  auto params = model_.ptr()->parameters();
  torch::Tensor perm;
  int64_t perm_epoch = -1;
  auto running = torch::zeros({}, torch::TensorOptions().dtype(torch::kDouble).device(device_));
  int64_t running_count = 0;
  double lr = learning_rate(options_, state_.step, total_steps_);
  bool stopped_by_caller = false;

  auto flush_running = [&] {
    if (running_count == 0) return;
    state_.running_loss += running.item<double>();
    state_.running_count += running_count;
    running.zero_();
    running_count = 0;
  };

  const auto session_start = std::chrono::steady_clock::now();
  eval_seconds_ = checkpoint_seconds_ = 0.0;
  auto clock = session_start;
  auto tick = [&] {
    const auto now = std::chrono::steady_clock::now();
    state_.seconds += std::chrono::duration<double>(now - clock).count();
    clock = now;
  };

  while (state_.step < total_steps_ && !state_.stopped_early) {
    if ((until_step && state_.step >= *until_step) || interrupted()) {
      stopped_by_caller = true;
      break;
    }
    const int64_t epoch = state_.step / steps_per_epoch_;
    const int64_t pos = state_.step % steps_per_epoch_;
    if (epoch != perm_epoch) {
      // Each epoch's order depends only on (seed, epoch): a resumed run sees the same batches.
      Rng rng(derive_seed(seed_, "epoch-" + std::to_string(epoch)));
      perm = permutation(n, rng);
      perm_epoch = epoch;
    }
    const auto index = perm.slice(0, pos * batch_size_, std::min(n, (pos + 1) * batch_size_));
    auto batch = task_->get(data::Split::train, index, device_);
    if (options_.input_noise > 0)
      batch.x = data::add_input_noise(batch.x, options_.input_noise,
                                      derive_seed(seed_, "input-noise-" + std::to_string(state_.step)));

    lr = learning_rate(options_, state_.step, total_steps_);
    auto& groups = optimizer_->param_groups();
    for (size_t g = 0; g < groups.size(); ++g) {
      if (int64_t(g) != projection_group_) groups[g].options().set_lr(lr);
      else groups[g].options().set_lr(state_.step < options_.freeze_projections_steps ? 0.0 : lr * options_.projection_lr_scale);
    }
    drop_gradients(params);
    torch::Tensor loss;
    {
      AutocastGuard autocast(device_, options_.precision);  // bf16 forward on CUDA; backward outside
      loss = task_->loss(model_.forward(batch.x), batch.y);
    }
    loss.backward();
    if (options_.grad_clip > 0) torch::nn::utils::clip_grad_norm_(params, options_.grad_clip);
    optimizer_->step();
    running += loss.detach().to(torch::kDouble);
    ++running_count;
    ++state_.step;

    const bool eval_due = state_.step % options_.eval_every == 0 || state_.step == total_steps_;
    const bool ckpt_due = options_.checkpoint_every > 0 ? state_.step % options_.checkpoint_every == 0 : eval_due;
    if (eval_due) {
      flush_running();
      if (!std::isfinite(state_.running_loss))
        throw Error(fmt::format("training diverged at step {} (non-finite loss); try a lower train.lr (now {})",
                                state_.step, options_.lr));
      tick();
      evaluate_now(lr, log.get());
    }
    if (ckpt_due && state_.step < total_steps_ && !state_.stopped_early) {
      flush_running();
      tick();
      checkpoint();
    }
    if (last_eval_) {
      std::string status = fmt::format("train {:.4g}", last_eval_->train_loss);
      for (const auto& [split, r] : last_eval_->results) status += fmt::format("  {} {:.4g}", data::to_string(split), r.loss);
      progress.update(state_.step, status);
    } else {
      progress.update(state_.step);
    }
  }
  flush_running();
  tick();
  progress.finish();

  TrainResult result;
  result.steps = state_.step;
  result.stopped_early = state_.stopped_early;
  result.best_step = state_.best_step;
  result.seconds = state_.seconds;
  auto timings = [&] {
    result.eval_seconds = eval_seconds_;
    result.checkpoint_seconds = checkpoint_seconds_;
    result.step_seconds = seconds_since(session_start) - eval_seconds_ - checkpoint_seconds_;
  };
  if (stopped_by_caller) {
    checkpoint();
    timings();
    if (interrupted()) log::warn("interrupted at step {}; checkpoint saved, continue with --resume", state_.step);
    return result;
  }
  result.finished = true;
  if (state_.stopped_early) log::info("early stopping at step {} (best validation loss at step {})", state_.step, state_.best_step);
  if (options_.early_stopping.enabled && options_.early_stopping.restore_best && !best_weights_.empty()) {
    torch::NoGradGuard no_grad;
    auto current = model_.ptr()->parameters();
    for (size_t i = 0; i < current.size(); ++i) current[i].copy_(best_weights_[i]);
  }
  timings();
  // The final evaluation: whole splits, except the training loss, taken on a fixed subset
  // (train.train_eval_samples) - a pass over a million training tuples would cost a third of the run.
  const auto t0 = std::chrono::steady_clock::now();
  for (auto split : {data::Split::train, data::Split::val, data::Split::test, data::Split::ood})
    if (task_->size(split) > 0)
      result.final[split] = evaluate(model_, *task_, split, device_, options_.eval_batch_size, 0.0, 0,
                                     split == data::Split::train ? train_eval_index_ : torch::Tensor());
  result.final_eval_seconds = seconds_since(t0);
  if (!out_dir_.empty()) {
    const auto t1 = std::chrono::steady_clock::now();
    save_weights(RunDir{out_dir_}.model(), *model_.ptr());
    checkpoint();  // the finished state, so a finished run can be resumed (a no-op) or inspected
    result.final_write_seconds = seconds_since(t1);
  }
  return result;
}

}  // namespace modnet::train
