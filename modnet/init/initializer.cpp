#include "modnet/init/initializer.h"

#include "modnet/init/kernel_init.h"

namespace modnet::init {

InitRegistry& init_registry() {
  static InitRegistry* registry = [] {
    auto* r = new InitRegistry("init");
    r->add_typed<KernelInitOptions>("kernel", "the paper's kernel-based initialisation of the module projections",
                                    [](const KernelInitOptions& o) -> InitializerPtr {
                                      return std::make_shared<KernelInitializer>(o);
                                    });
    return r;
  }();
  return *registry;
}

InitializerPtr build_initializer(const InitSpec& spec) { return spec.build(); }

}  // namespace modnet::init
