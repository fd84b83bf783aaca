#include "modnet/models/mlp.h"

#include <cmath>

#include "modnet/core/error.h"

namespace modnet::models {

Activation parse_activation(const std::string& name) {
  if (name == "relu") return Activation::relu;
  if (name == "gelu") return Activation::gelu;
  if (name == "tanh") return Activation::tanh;
  if (name == "silu") return Activation::silu;
  if (name == "identity") return Activation::identity;
  throw ConfigError(fmt::format("activation '{}': expected one of relu, gelu, tanh, silu, identity", name));
}

const std::vector<std::string>& activation_names() {
  static const std::vector<std::string> names{"relu", "gelu", "tanh", "silu", "identity"};
  return names;
}

std::string to_string(Activation a) {
  switch (a) {
    case Activation::relu: return "relu";
    case Activation::gelu: return "gelu";
    case Activation::tanh: return "tanh";
    case Activation::silu: return "silu";
    case Activation::identity: return "identity";
  }
  return "?";
}

torch::Tensor activate(Activation a, const torch::Tensor& x) {
  switch (a) {
    case Activation::relu: return torch::relu(x);
    case Activation::gelu: return torch::gelu(x);
    case Activation::tanh: return torch::tanh(x);
    case Activation::silu: return torch::silu(x);
    case Activation::identity: return x;
  }
  return x;
}

torch::Tensor activate_grad(Activation a, const torch::Tensor& h) {
  switch (a) {
    case Activation::relu: return (h > 0).to(h.scalar_type());
    case Activation::tanh: return 1 - torch::tanh(h).square();
    case Activation::silu: {
      const auto s = torch::sigmoid(h);
      return s * (1 + h * (1 - s));
    }
    case Activation::gelu: {
      // d/dh [h·Φ(h)] = Φ(h) + h·φ(h)
      const auto cdf = 0.5 * (1 + torch::erf(h * M_SQRT1_2));
      const auto pdf = torch::exp(-0.5 * h.square()) * (0.5 * M_2_SQRTPI * M_SQRT1_2);
      return cdf + h * pdf;
    }
    case Activation::identity: return torch::ones_like(h);
  }
  return torch::ones_like(h);
}

MLPImpl::MLPImpl(MLPOptions options_) : options(std::move(options_)) { reset(); }

void MLPImpl::reset() {
  TORCH_CHECK(options.in_features() > 0 && options.out_features() > 0, "MLP: in_features (", options.in_features(),
              ") and out_features (", options.out_features(), ") must be positive");
  activation_ = parse_activation(options.activation());
  layers_ = register_module("layers", torch::nn::ModuleList());
  int64_t in = options.in_features();
  for (int64_t width : options.hidden()) {
    TORCH_CHECK(width > 0, "MLP: hidden widths must be positive, got ", width);
    layers_->push_back(torch::nn::Linear(torch::nn::LinearOptions(in, width).bias(options.bias())));
    in = width;
  }
  layers_->push_back(torch::nn::Linear(torch::nn::LinearOptions(in, options.out_features()).bias(options.bias())));
}

void MLPImpl::pretty_print(std::ostream& stream) const {
  stream << "modnet::models::MLP(" << options.in_features();
  for (auto w : options.hidden()) stream << "->" << w;
  stream << "->" << options.out_features() << ", " << options.activation() << ")";
}

torch::Tensor MLPImpl::forward(torch::Tensor x) {
  const auto n = layers_->size();
  for (size_t i = 0; i < n; ++i) {
    x = layers_[i]->as<torch::nn::Linear>()->forward(x);
    if (i + 1 < n) x = activate(activation_, x);
  }
  return x;
}

int64_t mlp_parameter_count(int64_t in, const std::vector<int64_t>& hidden, int64_t out, bool bias) {
  int64_t count = 0;
  for (int64_t w : hidden) {
    count += in * w + (bias ? w : 0);
    in = w;
  }
  return count + in * out + (bias ? out : 0);
}

int64_t mlp_width_for_parameters(int64_t in, int64_t depth, int64_t out, int64_t target, bool bias) {
  TORCH_CHECK(depth >= 1, "mlp_width_for_parameters: depth must be >= 1, got ", depth);
  TORCH_CHECK(target > 0, "mlp_width_for_parameters: target must be positive, got ", target);
  // count(w) = (depth-1)·w² + (in + out + bias·depth)·w + bias·out, increasing in w: solve, then
  // search the integers around the root for the closest count.
  auto count = [&](int64_t w) { return mlp_parameter_count(in, std::vector<int64_t>(depth, w), out, bias); };
  const double a = double(depth - 1);
  const double b = double(in + out) + (bias ? double(depth) : 0.0);
  const double c = (bias ? double(out) : 0.0) - double(target);
  const double guess = a == 0 ? -c / b : (-b + std::sqrt(b * b - 4 * a * c)) / (2 * a);
  int64_t best = std::max<int64_t>(1, static_cast<int64_t>(std::floor(guess)));
  for (int64_t w = std::max<int64_t>(1, best - 2); w <= best + 3; ++w)
    if (std::llabs(count(w) - target) < std::llabs(count(best) - target)) best = w;
  return best;
}

int64_t parameter_count(const torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

std::vector<int64_t> WidthOptions::widths(int64_t in, int64_t out, std::optional<int64_t> budget) const {
  if (hidden) return *hidden;
  TORCH_CHECK(params, "WidthOptions: give hidden or params");
  return std::vector<int64_t>(depth, mlp_width_for_parameters(in, depth, out, budget.value_or(*params)));
}

}  // namespace modnet::models
