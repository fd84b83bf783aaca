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

/// Evaluates `model` on `split`; restores the module's training mode afterwards.
EvalResult evaluate(torch::nn::AnyModule& model, const data::Task& task, data::Split split,
                    const torch::Device& device, int64_t batch_size = 4096);

}  // namespace modnet::train
