#pragma once
// Training options (the `train:` section of a config).
#include <optional>
#include <string>

#include "modnet/core/config.h"

namespace modnet::train {

struct EarlyStoppingOptions {
  bool enabled = false;
  int64_t patience = 10;    // evaluations without improvement of the validation loss
  double min_delta = 0.0;   // improvement smaller than this does not count
  bool restore_best = true; // end with the weights of the best validation loss

  template <class V>
  void fields(V& v) {
    using namespace config;
    v("enabled", enabled, none(), "stop when the validation loss stops improving");
    v("patience", patience, at_least(1), "evaluations without improvement before stopping");
    v("min_delta", min_delta, at_least(0), "smallest improvement that counts");
    v("restore_best", restore_best, none(), "end with the best validation weights");
  }
};

struct TrainOptions {
  std::string optimizer = "adam";  // adam | adamw | sgd
  double lr = 1e-3;
  double weight_decay = 0.0;
  double momentum = 0.9;  // sgd
  bool nesterov = false;  // sgd
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // adam, adamw
  std::string schedule = "constant";  // constant | step | cosine
  int64_t warmup_steps = 0;           // linear warm-up from 0 (any schedule)
  int64_t step_size = 1000;           // step schedule: decay every step_size steps ...
  double gamma = 0.1;                 // ... by this factor
  double min_lr = 0.0;                // cosine: final learning rate
  std::optional<int64_t> epochs;      // budget: exactly one of epochs and steps
  std::optional<int64_t> steps;
  int64_t batch_size = 128;
  double grad_clip = 0.0;             // max global gradient norm (0 = off)
  double input_noise = 0.0;           // σ of Gaussian noise added to training inputs
  std::string precision = "fp32";     // fp32 | bf16 (CUDA autocast for the training forward pass)
  int64_t eval_every = 200;           // steps between evaluations (val + test); the last step always
  int64_t eval_samples = 0;           // per split in evaluations during training (0 = whole split)
  int64_t train_eval_samples = 10000; // training samples in the final train-loss evaluation (0 = all)
  int64_t eval_batch_size = 4096;
  int64_t checkpoint_every = 0;       // steps between checkpoints (0 = at every evaluation)
  double projection_lr_scale = 1.0;   // learning rate of the module projections Û, relative to lr
  int64_t freeze_projections_steps = 0;  // Û frozen (learning rate 0) for the first steps
  EarlyStoppingOptions early_stopping;
  bool progress = true;               // progress bar on a terminal, periodic lines otherwise
  double log_interval = 10.0;         // seconds between plain progress lines (not a terminal)

  template <class V>
  void fields(V& v) {
    using namespace config;
    v("optimizer", optimizer, one_of({"adam", "adamw", "sgd"}), "optimiser");
    v("lr", lr, greater_than(0), "peak learning rate");
    v("weight_decay", weight_decay, at_least(0), "weight decay (L2 for adam/sgd, decoupled for adamw)");
    v("momentum", momentum, between(0, 1), "sgd momentum");
    v("nesterov", nesterov, none(), "sgd Nesterov momentum");
    v("beta1", beta1, between(0, 1), "adam beta1");
    v("beta2", beta2, between(0, 1), "adam beta2");
    v("eps", eps, greater_than(0), "adam epsilon");
    v("schedule", schedule, one_of({"constant", "step", "cosine"}), "learning-rate schedule");
    v("warmup_steps", warmup_steps, at_least(0), "linear warm-up steps");
    v("step_size", step_size, at_least(1), "step schedule period");
    v("gamma", gamma, greater_than(0), "step schedule factor");
    v("min_lr", min_lr, at_least(0), "cosine schedule floor");
    v("epochs", epochs, at_least(1), "budget in epochs");
    v("steps", steps, at_least(1), "budget in optimiser steps");
    v("batch_size", batch_size, at_least(1), "training batch size");
    v("grad_clip", grad_clip, at_least(0), "max gradient norm (0 = off)");
    v("precision", precision, one_of({"fp32", "bf16"}),
      "fp32, or bf16: training forward passes under CUDA autocast (evaluation stays fp32)");
    v("input_noise", input_noise, at_least(0), "σ of Gaussian noise added to the training inputs");
    v("eval_every", eval_every, at_least(1), "steps between evaluations");
    v("eval_samples", eval_samples, at_least(0),
      "samples of each split in the evaluations during training, a fixed seeded subset (0 = the whole split; the "
      "final evaluation always uses whole splits)");
    v("train_eval_samples", train_eval_samples, at_least(0),
      "training samples in the final evaluation of the training loss, a fixed seeded subset (0 = the whole split)");
    v("eval_batch_size", eval_batch_size, at_least(1), "batch size for evaluation (no gradients, inference mode)");
    v("checkpoint_every", checkpoint_every, at_least(0), "steps between checkpoints (0 = each evaluation)");
    v("projection_lr_scale", projection_lr_scale, greater_than(0),
      "learning rate of the module projections Û as a multiple of the schedule's (models with projections; < 1 "
      "protects an initialisation of Û)");
    v("freeze_projections_steps", freeze_projections_steps, at_least(0),
      "the module projections Û frozen (learning rate 0) for this many first steps (models with projections)");
    v("early_stopping", early_stopping, none(), "early stopping on the validation split");
    v("progress", progress, none(), "show progress");
    v("log_interval", log_interval, greater_than(0), "seconds between progress lines off a terminal");
    v.only_one_of({"epochs", "steps"}, true);
  }
};

/// Learning rate at `step` (0-based) of `total` steps: warm-up, then the schedule.
double learning_rate(const TrainOptions& options, int64_t step, int64_t total);

}  // namespace modnet::train
