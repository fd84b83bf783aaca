#pragma once
// The monolithic baseline: one MLP on the whole input (PAPER.md §4).
#include <optional>

#include "modnet/core/config.h"
#include "modnet/models/mlp.h"
#include "modnet/models/registry.h"

namespace modnet::models {

/// Config options of the `monolithic` model type: widths given (`hidden`) or solved for about
/// `params` parameters (`depth` layers), and the activation.
struct MonolithicOptions : WidthOptions {
  std::string activation = MLPOptions(1, 1).activation();

  template <class V>
  void fields(V& v) {
    width_fields(v, "hidden layer widths", "target parameter count (width solved for it)",
                 "hidden layers when `params` is given");
    v("activation", activation, config::one_of(activation_names()), "activation");
  }
};

/// The hidden widths the options ask for, given the task sizes.
std::vector<int64_t> monolithic_hidden(const MonolithicOptions& options, int64_t in, int64_t out);
MLP make_monolithic(const MonolithicOptions& options, const ModelContext& context);

}  // namespace modnet::models
