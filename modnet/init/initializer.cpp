#include "modnet/init/initializer.h"

#include "modnet/init/kernel_init.h"
#include "modnet/init/slot_oracle.h"

namespace modnet::init {

InitRegistry& init_registry() {
  static InitRegistry* registry = [] {
    auto* r = new InitRegistry("init");
    r->add_typed<KernelInitOptions>("kernel", "the paper's kernel-based initialisation of the module projections",
                                    [](const KernelInitOptions& o) -> InitializerPtr {
                                      return std::make_shared<KernelInitializer>(o);
                                    });
    r->add_typed<SlotOracleOptions>(
        "slot_oracle",
        "a bound, not a method: each module's projection starts inside one input slot (slot j mod k), a random "
        "projection of that slot's coordinates only (tasks with slots; knows the task's structure)",
        [](const SlotOracleOptions& o) -> InitializerPtr { return std::make_shared<SlotOracleInitializer>(o); });
    return r;
  }();
  return *registry;
}

InitializerPtr build_initializer(const InitSpec& spec) { return spec.build(); }

}  // namespace modnet::init
