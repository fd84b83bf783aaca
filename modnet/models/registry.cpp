#include "modnet/models/registry.h"

#include "modnet/models/modular.h"
#include "modnet/models/monolithic.h"

namespace modnet::models {

ModelRegistry& model_registry() {
  static ModelRegistry* registry = [] {
    auto* r = new ModelRegistry("model");
    r->add_typed<MonolithicOptions>(
        "monolithic", "one MLP on the whole input",
        [](const MonolithicOptions& o, const ModelContext& c) { return torch::nn::AnyModule(make_monolithic(o, c)); });
    r->add_typed<ModularModelOptions>(
        "modular", "K modules, each an MLP on its own learned projection of the input (batched)",
        [](const ModularModelOptions& o, const ModelContext& c) { return torch::nn::AnyModule(make_modular(o, c)); });
    return r;
  }();
  return *registry;
}

torch::nn::AnyModule build_model(const ModelSpec& spec, const ModelContext& context) {
  return spec.build(context);
}

}  // namespace modnet::models
