// A new module type in one file: a "gated" modular network whose K module outputs are mixed by a
// learned softmax gate instead of the fixed 1/√K sum. It implements models::ProjectedModules, so
// the kernel initialiser and the similarity analysis work on it unchanged.
#include <cmath>
#include <cstdio>

#include <modnet/core/cli.h>
#include <modnet/core/config.h>
#include <modnet/models/modular.h>
#include <modnet/models/projected.h>
#include <modnet/models/registry.h>
#include <modnet/run/experiment.h>

namespace {

struct GatedOptions {
  int64_t modules = 8;
  int64_t module_dim = 2;
  std::vector<int64_t> hidden{32, 32};
  template <class V>
  void fields(V& v) {
    using namespace modnet::config;
    v("modules", modules, at_least(1), "number of modules K");
    v("module_dim", module_dim, at_least(1), "projection dimension b");
    v("hidden", hidden, at_least(1), "module MLP widths");
  }
};

class GatedImpl : public torch::nn::Cloneable<GatedImpl>, public modnet::models::ProjectedModules {
 public:
  GatedImpl(int64_t in, int64_t out, const GatedOptions& o)
      : in_(in), out_(out), options_(o) { reset(); }
  void reset() override {
    // The K modules are modnet's own batched modular network; the gate is new.
    modules_ = register_module("modules", modnet::models::Modular(
        modnet::models::ModularOptions(in_, out_, options_.modules, options_.module_dim).hidden(options_.hidden)));
    gate_ = register_parameter("gate", torch::zeros({options_.modules}));
  }
  torch::Tensor forward(torch::Tensor x) {
    auto z = modnet::models::project(x, modules_->projections());  // [K, B, b], as modules_->project(x)
    auto outputs = modules_->module_outputs(z);                     // [K, B, out]
    auto weights = torch::softmax(gate_, 0).view({-1, 1, 1});
    return (weights * outputs).sum(0) * std::sqrt(double(options_.modules));
  }
  torch::Tensor projections() override { return modules_->projections(); }
  torch::Tensor module_outputs(const torch::Tensor& z) override { return modules_->module_outputs(z); }
  std::vector<std::pair<torch::Tensor, torch::Tensor>> module_layers() override { return modules_->module_layers(); }

 private:
  int64_t in_, out_;
  GatedOptions options_;
  modnet::models::Modular modules_{nullptr};
  torch::Tensor gate_;
};
TORCH_MODULE(Gated);

// model: {type: gated, ...} in a config now builds this network (the factory comes last).
MODNET_REGISTER_MODEL("gated", GatedOptions, "K modules mixed by a learned softmax gate",
                      [](const GatedOptions& o, const modnet::models::ModelContext& c) {
                        return torch::nn::AnyModule(Gated(c.input_dim, c.output_dim, o));
                      });

}  // namespace

int main(int argc, char** argv) {
  return modnet::cli::run_main("train_gated", [&] {
    const auto args = modnet::cli::parse(argc, argv, "train_gated --config FILE [key=value ...] --out DIR",
                                         {{"--config", true, "experiment config", "FILE"},
                                          {"--out", true, "run directory", "DIR"}});
    modnet::run::Experiment experiment(
        modnet::run::load_experiment_config(args.require("--config"), args.overrides));
    experiment.run(args.require("--out"), modnet::RunDirMode::fresh);
    return 0;
  });
}
