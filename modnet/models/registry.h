#pragma once
// Model types selected by `model.type` in a config. Built-in: monolithic (and modular types
// registered by their own files). A user registers a type from their own project:
//
//   struct MyOptions { int64_t width = 64; template <class V> void fields(V& v) { v("width", width); } };
//   MODNET_REGISTER_MODEL("mine", MyOptions, [](const MyOptions& o, const modnet::models::ModelContext& c) {
//     return torch::nn::AnyModule(MyNet(c.input_dim, o.width, c.output_dim));
//   });
//
// and then uses `model: {type: mine, width: 128}` in any config (see docs/extending.md).
#include <torch/torch.h>

#include "modnet/core/registry.h"
#include "modnet/data/task.h"

namespace modnet::models {

/// What a model factory may know about the task: its sizes (and the task itself, read-only).
struct ModelContext {
  int64_t input_dim = 0;
  int64_t output_dim = 0;
  const data::Task* task = nullptr;
};

using ModelRegistry = Registry<torch::nn::AnyModule, const ModelContext&>;
/// The process-wide model registry (built-in types registered on first use).
ModelRegistry& model_registry();
using ModelSpec = TypedSpec<ModelRegistry, &model_registry>;
/// Builds the model described by a resolved spec (uses torch's global generator for its init).
torch::nn::AnyModule build_model(const ModelSpec& spec, const ModelContext& context);

namespace detail {
template <class Options, class Factory>
bool register_model(const char* name, Factory factory, const char* doc = "") {
  model_registry().add_typed<Options>(name, doc, factory);
  return true;
}
}  // namespace detail

}  // namespace modnet::models

#define MODNET_CONCAT_INNER(a, b) a##b
#define MODNET_CONCAT(a, b) MODNET_CONCAT_INNER(a, b)
/// Registers a model type at static-initialisation time (use in an executable's own source file).
#define MODNET_REGISTER_MODEL(name, Options, factory)                                    \
  static const bool MODNET_CONCAT(modnet_registered_model_, __LINE__) [[maybe_unused]] = \
      ::modnet::models::detail::register_model<Options>(name, factory)
