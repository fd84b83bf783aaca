#include "modnet/train/evaluator.h"

#include "modnet/core/rng.h"

namespace modnet::train {

EvalResult evaluate(torch::nn::AnyModule& model, const data::Task& task, data::Split split,
                    const torch::Device& device, int64_t batch_size, double input_noise, uint64_t noise_seed,
                    const torch::Tensor& index) {
  TORCH_CHECK(batch_size > 0, "evaluate: batch_size must be positive, got ", batch_size);
  EvalResult result;
  const int64_t n = index.defined() ? index.numel() : task.size(split);
  if (n == 0) return result;
  auto module = model.ptr();
  const bool was_training = module->is_training();
  module->eval();
  double loss_sum = 0.0;
  {
    c10::InferenceMode inference;  // no autograd records, no version counters
    for (int64_t start = 0; start < n; start += batch_size) {
      const int64_t end = std::min(n, start + batch_size);
      const auto rows = index.defined() ? index.slice(0, start, end) : torch::arange(start, end, torch::kLong);
      auto batch = task.get(split, rows, device);
      if (input_noise > 0)
        batch.x =
            data::add_input_noise(batch.x, input_noise, derive_seed(noise_seed, "eval-noise-" + std::to_string(start)));
      auto pred = model.forward(batch.x);
      loss_sum += task.loss(pred, batch.y).item<double>() * double(end - start);
      for (const auto& [name, value] : task.metric_sums(pred, batch.y)) result.metrics[name] += value;
    }
  }
  result.samples = n;
  result.loss = loss_sum / double(n);
  for (auto& [name, value] : result.metrics) value /= double(n);
  module->train(was_training);
  return result;
}

torch::Tensor evaluation_subset(int64_t n, int64_t samples, uint64_t seed) {
  if (samples <= 0 || samples >= n) return {};
  Rng rng(seed);
  return std::get<0>(sample_without_replacement(n, samples, rng).sort());
}

std::vector<std::pair<double, EvalResult>> evaluate_under_noise(torch::nn::AnyModule& model, const data::Task& task,
                                                                data::Split split, const torch::Device& device,
                                                                const std::vector<double>& sigmas, uint64_t seed,
                                                                int64_t batch_size) {
  std::vector<std::pair<double, EvalResult>> out;
  if (task.size(split) == 0) return out;
  for (double sigma : sigmas)
    out.emplace_back(sigma, evaluate(model, task, split, device, batch_size, sigma, derive_seed(seed, "noise")));
  return out;
}

std::vector<std::pair<std::string, double>> noise_summary(data::Split split,
                                                          const std::vector<std::pair<double, EvalResult>>& results) {
  std::vector<std::pair<std::string, double>> out;
  for (const auto& [sigma, r] : results) {
    const auto prefix = fmt::format("{}_noise{}_", data::to_string(split), sigma);
    out.emplace_back(prefix + "loss", r.loss);
    for (const auto& [metric, value] : r.metrics) out.emplace_back(prefix + metric, value);
  }
  return out;
}

}  // namespace modnet::train
