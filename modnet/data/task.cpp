#include "modnet/data/task.h"

#include "modnet/core/error.h"
#include "modnet/core/rng.h"

namespace modnet::data {

std::string to_string(Split split) {
  switch (split) {
    case Split::train: return "train";
    case Split::val: return "val";
    case Split::test: return "test";
    case Split::ood: return "ood";
  }
  return "?";
}

Split parse_split(const std::string& name) {
  if (name == "train") return Split::train;
  if (name == "val") return Split::val;
  if (name == "test") return Split::test;
  if (name == "ood") return Split::ood;
  throw ConfigError(fmt::format("split '{}': expected train, val, test or ood", name));
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

namespace modnet::data {

torch::Tensor add_input_noise(const torch::Tensor& x, double sigma, uint64_t seed) {
  TORCH_CHECK(sigma >= 0, "add_input_noise: sigma must be >= 0, got ", sigma);
  if (sigma == 0) return x;
  torch::Tensor noise;
  if (x.device().is_cpu()) {
    noise = torch::randn(x.sizes(), make_generator(seed), x.options());
  } else {
    noise = torch::randn(x.sizes(), x.options());  // the device's global generator (seeded per run)
  }
  return x + noise.mul_(sigma);
}

}  // namespace modnet::data
