#pragma once
// Checkpoints: everything needed to continue a run so that the result equals an uninterrupted one
// - model, optimiser state, trainer position and early-stopping state, best weights, RNG state.
// Written to a temporary file and renamed.
#include <limits>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace modnet::train {

struct TrainerState {
  int64_t step = 0;
  double best_val = std::numeric_limits<double>::infinity();
  int64_t best_step = -1;
  int64_t bad_evals = 0;
  bool stopped_early = false;
  double seconds = 0.0;          // training wall time so far
  double running_loss = 0.0;     // training-loss sum since the last evaluation
  int64_t running_count = 0;
};

/// Records the LibTorch version that wrote it (`written_by`, default: this build's; tests set another).
void save_checkpoint(const std::string& path, const torch::nn::Module& model, const torch::optim::Optimizer& optimizer,
                     const TrainerState& state, const std::vector<torch::Tensor>& best_weights,
                     const std::string& written_by = "");
/// Loads into an already built model and optimiser of the same shape (modnet::Error naming the
/// file if it is missing or does not match; when it was written by another LibTorch version, or
/// cannot be read at all, the message says that archives do not carry across versions).
void load_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                     TrainerState& state, std::vector<torch::Tensor>& best_weights);

/// Model weights alone (model.pt), atomically.
void save_weights(const std::string& path, const torch::nn::Module& model, const std::string& written_by = "");
void load_weights(const std::string& path, torch::nn::Module& model);

}  // namespace modnet::train
