#include "modnet/data/registry.h"

#include "modnet/data/compositional.h"
#include "modnet/data/sine_wave_task.h"

namespace modnet::data {

TaskRegistry& task_registry() {
  static TaskRegistry* registry = [] {
    auto* r = new TaskRegistry("task");
    r->add_typed<SineWaveOptions>("sine", "modular sine-wave regression (PAPER.md §3)",
                                  [](const SineWaveOptions& o, uint64_t seed) -> TaskPtr {
                                    return std::make_shared<SineWaveTask>(o, seed);
                                  });
    r->add_typed<CompositionalOptions>(
        "compositional", "k images side by side, every slot's class predicted (PAPER.md §6)",
        [](const CompositionalOptions& o, uint64_t seed) -> TaskPtr { return std::make_shared<CompositionalTask>(o, seed); });
    return r;
  }();
  return *registry;
}

TaskPtr build_task(const TaskSpec& spec, uint64_t run_seed) {
  return task_registry().get(spec.type).build(spec.options, run_seed);
}

}  // namespace modnet::data
