#pragma once
// Task types selected by `task.type` in a config. Built-in: sine. Register your own with
// `modnet::data::task_registry().add_typed<MyOptions>("name", "doc", factory)`, where
// factory(const MyOptions&, uint64_t run_seed) returns a TaskPtr.
#include "modnet/core/registry.h"
#include "modnet/data/task.h"

namespace modnet::data {

using TaskRegistry = Registry<TaskPtr, uint64_t>;
/// The process-wide task registry (built-in types registered on first use).
TaskRegistry& task_registry();
using TaskSpec = TypedSpec<TaskRegistry, &task_registry>;
/// Builds the task described by a resolved spec.
TaskPtr build_task(const TaskSpec& spec, uint64_t run_seed);

}  // namespace modnet::data
