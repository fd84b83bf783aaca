#pragma once
// Initialisers run between building a model and training it (`init:` in a config). Built-in:
// `kernel` (the paper's kernel-based initialisation of the module projections). Register your own
// with MODNET_REGISTER_INITIALIZER("name", Options, "what it does", factory), where
// factory(const Options&) returns an InitializerPtr.
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "modnet/core/registry.h"
#include "modnet/data/task.h"

namespace modnet::init {

struct InitContext {
  const data::Task* task = nullptr;
  torch::Device device = torch::kCPU;
  uint64_t seed = 0;
  std::string out_dir;  // receives init.csv ("" = no files)
  /// Extra measurements of the projections [K, D, b] logged beside the objective (e.g. module
  /// similarity); names are the extra CSV columns.
  std::vector<std::string> probe_columns;
  std::function<std::vector<double>(const torch::Tensor& projections)> probe;
};

struct InitReport {
  std::string type;
  int64_t steps = 0;
  double seconds = 0.0;
  double flops = 0.0;  // estimate of the floating-point operations spent (compute-matched comparisons)
  double objective_start = NAN, objective_end = NAN;  // initialisers without an objective leave them NaN
};

class Initializer {
 public:
  virtual ~Initializer() = default;
  virtual InitReport run(torch::nn::AnyModule& model, const InitContext& context) = 0;
};
using InitializerPtr = std::shared_ptr<Initializer>;

using InitRegistry = Registry<InitializerPtr>;
InitRegistry& init_registry();
using InitSpec = TypedSpec<InitRegistry, &init_registry>;
InitializerPtr build_initializer(const InitSpec& spec);

}  // namespace modnet::init

#define MODNET_REGISTER_INITIALIZER(name, Options, doc, ...) \
  MODNET_REGISTER(::modnet::init::init_registry(), name, Options, doc, __VA_ARGS__)
