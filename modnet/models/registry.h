#pragma once
// Model types selected by `model.type` in a config. Built-in: `monolithic` and `modular`
// (registered in registry.cpp). A user registers a type from their own project:
//
//   struct MyOptions { int64_t width = 64; template <class V> void fields(V& v) { v("width", width); } };
//   MODNET_REGISTER_MODEL("mine", MyOptions, "my network", [](const MyOptions& o, const modnet::models::ModelContext& c) {
//     return torch::nn::AnyModule(MyNet(c.input_dim, o.width, c.output_dim));
//   });
//
// and then uses `model: {type: mine, width: 128}` in any config (see docs/extending.md).
#include <torch/torch.h>

#include "modnet/core/registry.h"

namespace modnet::models {

/// What a model factory may know about the task: numbers, not the task itself.
struct ModelContext {
  int64_t input_dim = 0;
  int64_t output_dim = 0;
  /// The task's number of true modules (sine modules, image slots), 0 when it has none: the
  /// default for choices such as K = 2k.
  int64_t task_modules = 0;
  /// For inputs made of slots (images side by side): the slot of every input coordinate, int64
  /// [input_dim] (data::Task::input_slots()); undefined when the task has none. Slot-wired models
  /// need it.
  torch::Tensor input_slots;
};

using ModelRegistry = Registry<torch::nn::AnyModule, const ModelContext&>;
/// The process-wide model registry (built-in types registered on first use).
ModelRegistry& model_registry();
using ModelSpec = TypedSpec<ModelRegistry, &model_registry>;
/// Builds the model described by a resolved spec (uses torch's global generator for its init).
/// An option that does not fit the context is a ConfigError naming where the option was set.
torch::nn::AnyModule build_model(const ModelSpec& spec, const ModelContext& context);

}  // namespace modnet::models

/// Registers a model type at static-initialisation time (use in an executable's own source file):
/// MODNET_REGISTER_MODEL("name", Options, "what it is", factory) with
/// factory(const Options&, const ModelContext&) -> torch::nn::AnyModule.
#define MODNET_REGISTER_MODEL(name, Options, doc, ...) \
  MODNET_REGISTER(::modnet::models::model_registry(), name, Options, doc, __VA_ARGS__)
