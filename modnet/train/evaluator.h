#pragma once
// Evaluation of a model on a whole split, in batches, without gradients.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "modnet/data/task.h"

namespace modnet::train {

struct EvalResult {
  double loss = 0.0;                      // mean over samples of the task loss
  std::map<std::string, double> metrics;  // e.g. accuracy (means over samples)
  int64_t samples = 0;
};

/// Evaluates `model` on `split` (or on the samples `index` of it, when given), in inference mode;
/// restores the module's training mode afterwards. `input_noise` > 0 adds Gaussian noise of that σ
/// to the inputs (data::add_input_noise), drawn from `noise_seed` and the batch's first position,
/// so a result is reproducible for the same batch size.
EvalResult evaluate(torch::nn::AnyModule& model, const data::Task& task, data::Split split,
                    const torch::Device& device, int64_t batch_size = 4096, double input_noise = 0.0,
                    uint64_t noise_seed = 0, const torch::Tensor& index = {});

/// A fixed subset of `samples` of the n samples of a split, drawn from `seed` (sorted, so that
/// batches read the data in order); empty (= the whole split) when samples is 0 or ≥ n.
torch::Tensor evaluation_subset(int64_t n, int64_t samples, uint64_t seed);

/// `split` evaluated under each input-noise σ in turn, the noise of every σ seeded from
/// derive_seed(seed, "noise"); empty when the split is. Pairs of (σ, result).
std::vector<std::pair<double, EvalResult>> evaluate_under_noise(torch::nn::AnyModule& model, const data::Task& task,
                                                                data::Split split, const torch::Device& device,
                                                                const std::vector<double>& sigmas, uint64_t seed,
                                                                int64_t batch_size = 4096);
/// Those results as summary entries "<split>_noise<σ>_loss" and "<split>_noise<σ>_<metric>" (σ as
/// written by fmt's {}).
std::vector<std::pair<std::string, double>> noise_summary(data::Split split,
                                                          const std::vector<std::pair<double, EvalResult>>& results);

}  // namespace modnet::train
