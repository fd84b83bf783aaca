#pragma once
// Evaluation of a model on a whole split, in batches, without gradients.
#include <map>
#include <string>

#include <torch/torch.h>

#include "modnet/data/task.h"

namespace modnet::train {

struct EvalResult {
  double loss = 0.0;                      // mean over samples of the task loss
  std::map<std::string, double> metrics;  // e.g. accuracy (means over samples)
  int64_t samples = 0;
};

/// Evaluates `model` on `split`; restores the module's training mode afterwards. `input_noise` > 0
/// adds Gaussian noise of that σ to the inputs (data::add_input_noise), drawn from `noise_seed`
/// and the batch's first index, so a result is reproducible for the same batch size.
EvalResult evaluate(torch::nn::AnyModule& model, const data::Task& task, data::Split split,
                    const torch::Device& device, int64_t batch_size = 4096, double input_noise = 0.0,
                    uint64_t noise_seed = 0);

}  // namespace modnet::train
