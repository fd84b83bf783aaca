#pragma once
// Activation functions selectable by name.
#include <string>

#include <torch/torch.h>

namespace modnet::models {

enum class Activation { relu, gelu, tanh, silu, identity };
/// "relu" | "gelu" | "tanh" | "silu" | "identity" (ConfigError otherwise).
Activation parse_activation(const std::string& name);
std::string to_string(Activation a);
torch::Tensor activate(Activation a, const torch::Tensor& x);
/// The derivative σ'(h) of the activation at pre-activations h (for closed-form tangent kernels).
torch::Tensor activate_grad(Activation a, const torch::Tensor& h);
/// Names accepted by parse_activation, for config checks.
const std::vector<std::string>& activation_names();

}  // namespace modnet::models
