#include "modnet/data/task.h"

#include "modnet/core/error.h"

namespace modnet::data {

std::string to_string(Split split) {
  switch (split) {
    case Split::train: return "train";
    case Split::val: return "val";
    case Split::test: return "test";
  }
  return "?";
}

Split parse_split(const std::string& name) {
  if (name == "train") return Split::train;
  if (name == "val") return Split::val;
  if (name == "test") return Split::test;
  throw ConfigError(fmt::format("split '{}': expected train, val or test", name));
}

torch::Tensor Task::loss(const torch::Tensor& pred, const torch::Tensor& target) const {
  TORCH_CHECK(pred.sizes() == target.sizes(), "Task::loss: prediction shape ", pred.sizes(),
              " differs from target shape ", target.sizes());
  return torch::mse_loss(pred, target);
}

std::map<std::string, double> Task::metric_sums(const torch::Tensor&, const torch::Tensor&) const { return {}; }

Batch Task::all(Split split, const torch::Device& device) const {
  return get(split, torch::arange(size(split), torch::kLong), device);
}

}  // namespace modnet::data
