#include "modnet/data/registry.h"

#include <map>
#include <mutex>

#include "modnet/data/compositional.h"
#include "modnet/data/sine_wave_task.h"

namespace modnet::data {

namespace {

struct ShapeFns {
  std::mutex mutex;
  std::map<std::string, TaskShapeFn> fns;
};
ShapeFns& shape_fns() {
  static ShapeFns* fns = new ShapeFns;
  return *fns;
}

}  // namespace

TaskRegistry& task_registry() {
  static TaskRegistry* registry = [] {
    auto* r = new TaskRegistry("task");
    r->add_typed<SineWaveOptions>("sine", "modular sine-wave regression (PAPER.md §3)",
                                  [](const SineWaveOptions& o, uint64_t seed) -> TaskPtr {
                                    return std::make_shared<SineWaveTask>(o, seed);
                                  });
    register_task_shape<SineWaveOptions>("sine", [](const SineWaveOptions& o) {
      return TaskShape{o.dim, 1, o.modules, {}};
    });
    r->add_typed<CompositionalOptions>(
        "compositional", "k images side by side, every slot's class predicted (PAPER.md §6)",
        [](const CompositionalOptions& o, uint64_t seed) -> TaskPtr { return std::make_shared<CompositionalTask>(o, seed); });
    register_task_shape<CompositionalOptions>("compositional", compositional_shape);
    return r;
  }();
  return *registry;
}

TaskPtr build_task(const TaskSpec& spec, uint64_t run_seed) { return spec.build(run_seed); }

void register_task_shape_fn(const std::string& type, TaskShapeFn fn) {
  auto& s = shape_fns();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.fns[type] = std::move(fn);
}

std::optional<TaskShape> task_shape(const TaskSpec& spec) {
  task_registry();  // the built-in types register their shapes with the registry
  TaskShapeFn fn;
  {
    auto& s = shape_fns();
    std::lock_guard<std::mutex> lock(s.mutex);
    const auto it = s.fns.find(spec.type);
    if (it == s.fns.end()) return std::nullopt;
    fn = it->second;
  }
  return fn(spec.options);
}

}  // namespace modnet::data
