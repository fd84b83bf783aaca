#pragma once
// Task types selected by `task.type` in a config. Built-in: `sine`, `compositional`. Register
// your own from your project with
//
//   MODNET_REGISTER_TASK("mine", MyOptions, "what it is", [](const MyOptions& o, uint64_t run_seed) -> TaskPtr {...});
//
// and, so that config checks (e.g. `modnet-sweep --dry-run`) can size models without building
// the task's data, how its sizes follow from its options: `register_task_shape<MyOptions>("mine", fn)`.
#include <functional>
#include <optional>

#include "modnet/core/registry.h"
#include "modnet/data/task.h"

namespace modnet::data {

using TaskRegistry = Registry<TaskPtr, uint64_t>;
/// The process-wide task registry (built-in types registered on first use).
TaskRegistry& task_registry();
using TaskSpec = TypedSpec<TaskRegistry, &task_registry>;
/// Builds the task described by a resolved spec.
TaskPtr build_task(const TaskSpec& spec, uint64_t run_seed);

using TaskShapeFn = std::function<TaskShape(const YAML::Node& resolved_options)>;
/// Registers how the sizes of task type `type` follow from its (resolved) options.
void register_task_shape_fn(const std::string& type, TaskShapeFn fn);
template <class Options>
void register_task_shape(const std::string& type, std::function<TaskShape(const Options&)> fn) {
  register_task_shape_fn(type, [fn](const YAML::Node& options) { return fn(config::read<Options>(options, "", nullptr)); });
}
/// The task's sizes without building it (reading at most file headers), when its type registered
/// a shape function (every built-in type does); nullopt otherwise.
std::optional<TaskShape> task_shape(const TaskSpec& spec);

}  // namespace modnet::data

/// Registers a task type at static-initialisation time (use in an executable's own source file):
/// MODNET_REGISTER_TASK("name", Options, "what it is", factory) with
/// factory(const Options&, uint64_t run_seed) -> data::TaskPtr.
#define MODNET_REGISTER_TASK(name, Options, doc, ...) \
  MODNET_REGISTER(::modnet::data::task_registry(), name, Options, doc, __VA_ARGS__)
