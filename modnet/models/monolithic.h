#pragma once
// The monolithic baseline: one MLP on the whole input (PAPER.md §4).
#include <optional>

#include "modnet/core/config.h"
#include "modnet/models/mlp.h"
#include "modnet/models/registry.h"

namespace modnet::models {

struct MonolithicOptions {
  std::optional<std::vector<int64_t>> hidden;  // explicit hidden widths, or ...
  std::optional<int64_t> params;  // ... about this many parameters (width solved, `depth` layers)
  int64_t depth = 2;
  std::string activation = "relu";

  template <class V>
  void fields(V& v) {
    using namespace config;
    v("hidden", hidden, at_least(1), "hidden layer widths");
    v("params", params, at_least(1), "target parameter count (width solved for it)");
    v("depth", depth, at_least(1), "hidden layers when `params` is given");
    v("activation", activation, one_of(activation_names()), "activation");
    v.only_one_of({"hidden", "params"}, true);
  }
};

/// The hidden widths the options ask for, given the task sizes.
std::vector<int64_t> monolithic_hidden(const MonolithicOptions& options, int64_t in, int64_t out);
MLP make_monolithic(const MonolithicOptions& options, const ModelContext& context);

}  // namespace modnet::models
