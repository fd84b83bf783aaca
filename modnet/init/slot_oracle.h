#pragma once
// The oracle initialisation (a bound, not a method): for tasks whose inputs are made of slots
// (compositional images), each module's projection Û_j starts inside one slot - a random
// orthonormal projection of slot j mod k's coordinates only, at the model's own scale - and the
// normal trainer then trains everything, exactly as for the other initialisers. It knows the task's
// structure, so its gain over the random initialisation is the most an initialiser that finds the
// slots could give.
#include "modnet/core/config.h"
#include "modnet/init/initializer.h"

namespace modnet::init {

struct SlotOracleOptions {
  int64_t per_slot = 0;  // modules per slot the run must have (0 = any K >= k: ⌊K/k⌋ or ⌈K/k⌉ each)

  template <class V>
  void fields(V& v) {
    using namespace config;
    v("per_slot", per_slot, at_least(0),
      "modules per slot the model must have, K = per_slot·k (0 = any K >= k, each slot ⌊K/k⌋ or ⌈K/k⌉)");
  }
};

class SlotOracleInitializer : public Initializer {
 public:
  explicit SlotOracleInitializer(SlotOracleOptions options) : options_(options) {}
  InitReport run(torch::nn::AnyModule& model, const InitContext& context) override;

 private:
  SlotOracleOptions options_;
};

}  // namespace modnet::init
