#pragma once
// A fully connected network: in -> hidden[0] -> ... -> hidden[L-1] -> out, activation between.
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "modnet/core/config.h"
#include "modnet/models/activation.h"

namespace modnet::models {

struct MLPOptions {
  MLPOptions(int64_t in_features, int64_t out_features) : in_features_(in_features), out_features_(out_features) {}
  TORCH_ARG(int64_t, in_features);
  TORCH_ARG(int64_t, out_features);
  TORCH_ARG(std::vector<int64_t>, hidden) = {};
  TORCH_ARG(std::string, activation) = "relu";
  TORCH_ARG(bool, bias) = true;
};

class MLPImpl : public torch::nn::Cloneable<MLPImpl> {
 public:
  explicit MLPImpl(MLPOptions options);
  MLPImpl(int64_t in_features, int64_t out_features) : MLPImpl(MLPOptions(in_features, out_features)) {}
  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  torch::Tensor forward(torch::Tensor x);

  MLPOptions options;

 private:
  Activation activation_ = Activation::relu;
  torch::nn::ModuleList layers_;
};
TORCH_MODULE(MLP);

/// Number of parameters of an MLP with these sizes (weights + biases).
int64_t mlp_parameter_count(int64_t in, const std::vector<int64_t>& hidden, int64_t out, bool bias = true);
/// The width w for which `depth` hidden layers of width w have the parameter count closest to
/// `target` (at least 1).
int64_t mlp_width_for_parameters(int64_t in, int64_t depth, int64_t out, int64_t target, bool bias = true);
/// How a config gives an MLP's hidden widths: explicitly (`hidden`) or as "about `params`
/// parameters" (`depth` layers of the width solved for it). Shared by the model types' options.
struct WidthOptions {
  std::optional<std::vector<int64_t>> hidden;
  std::optional<int64_t> params;
  int64_t depth = 2;

  /// The keys, documented for `what` ("hidden layer" / "module MLP hidden layer").
  template <class V>
  void width_fields(V& v, const char* hidden_doc, const char* params_doc, const char* depth_doc) {
    v("hidden", hidden, config::at_least(1), hidden_doc);
    v("params", params, config::at_least(1), params_doc);
    v("depth", depth, config::at_least(1), depth_doc);
    v.only_one_of({"hidden", "params"}, true);
  }
  /// The widths for an MLP in → … → out: `hidden`, or `depth` layers of the width whose
  /// parameter count is closest to `budget` (by default `params`).
  std::vector<int64_t> widths(int64_t in, int64_t out, std::optional<int64_t> budget = {}) const;
};

/// Total number of elements of a module's parameters.
int64_t parameter_count(const torch::nn::Module& module);

}  // namespace modnet::models
