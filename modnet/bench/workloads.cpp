// The fixed workloads of modnet-bench. Their sizes are constants so that results compare across
// versions of the code: change a workload only together with its name.
#include <chrono>
#include <cmath>
#include <map>

#include "modnet/bench/bench.h"
#include "modnet/bench/synthetic_images.h"
#include "modnet/core/error.h"
#include "modnet/core/rng.h"
#include "modnet/data/compositional.h"
#include "modnet/init/kernel_init.h"
#include "modnet/init/kernel_objective.h"
#include "modnet/models/mlp.h"
#include "modnet/models/modular.h"
#include "modnet/core/fused_adam.h"

namespace modnet::bench {
namespace {

std::string join(const std::vector<int64_t>& v) {
  std::string s;
  for (auto x : v) s += (s.empty() ? "" : "->") + std::to_string(x);
  return s;
}

// Times the phases of one step: mark(name) closes the phase that ran since the last mark.
struct PhaseTimer {
  explicit PhaseTimer(const torch::Device& d) : device(d) {
    synchronize(device);
    last = std::chrono::steady_clock::now();
  }
  void mark(const std::string& name) {
    synchronize(device);
    const auto now = std::chrono::steady_clock::now();
    phases.emplace_back(name, std::chrono::duration<double>(now - last).count());
    last = now;
  }
  torch::Device device;
  std::chrono::steady_clock::time_point last;
  std::vector<std::pair<std::string, double>> phases;
};

// A modular network trained with Adam on fixed random inputs; `loss` maps (prediction, target).
struct ModularSpec {
  int64_t D, K, b, out, batch;
  std::vector<int64_t> hidden;
};

Workload modular_training(const std::string& name, const std::string& description, const ModularSpec& s,
                          const torch::Tensor& x, const torch::Tensor& target,
                          std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&)> loss,
                          const torch::Device& device) {
  models::Modular model(models::ModularOptions(s.D, s.out, s.K, s.b).hidden(s.hidden).activation("relu"));
  model->to(device);
  auto adam = std::make_shared<FusedAdam>(model->parameters(), torch::optim::AdamOptions(1e-3));
  Workload w;
  w.name = name;
  w.description = description;
  w.items_per_step = double(s.batch);
  w.flops_per_step = training_step_flops(modular_forward_flops(s.batch, s.D, s.K, s.b, s.hidden, s.out));
  w.flop_formula = fmt::format(
      "3 x forward; forward = projection 2*B*D*K*b + K * module MLP 2*B*sum(in_l*out_l) with B={}, D={}, K={}, b={}, "
      "module {}->{}->{}",
      s.batch, s.D, s.K, s.b, s.b, join(s.hidden), s.out);
  auto step = [model, adam, x, target, loss](bool per_module) mutable {
    drop_gradients(model->parameters());  // as the trainer does
    const auto pred = per_module ? model->forward_per_module(x) : model->forward(x);
    loss(pred, target).backward();
    adam->step();
  };
  w.step = [step]() mutable { step(false); };
  w.loop_step = [step]() mutable { step(true); };
  // The same batched network through autograd op by op (fused(false)): what the fused module
  // stack saves.
  auto reference = std::dynamic_pointer_cast<models::ModularImpl>(model->clone());
  reference->options.fused(false);
  auto reference_adam = std::make_shared<FusedAdam>(reference->parameters(), torch::optim::AdamOptions(1e-3));
  w.reference_step = [reference, reference_adam, x, target, loss]() mutable {
    drop_gradients(reference->parameters());
    loss(reference->forward(x), target).backward();
    reference_adam->step();
  };
  w.profile = [model, adam, x, target, loss, device]() mutable {
    PhaseTimer t(device);
    drop_gradients(model->parameters());
    t.mark("zero_grad");
    const auto z = model->project(x);
    t.mark("forward: projection GEMM");
    const auto pred = model->forward_projected(z);
    t.mark("forward: module MLPs");
    auto l = loss(pred, target);
    t.mark("loss");
    l.backward();
    t.mark("backward");
    adam->step();
    t.mark("Adam step");
    return t.phases;
  };
  return w;
}

Workload sine_modular(const WorkloadContext& c) {
  const ModularSpec s{64, 16, 4, 1, 256, {64, 64}};
  auto gen = make_generator(derive_seed(c.seed, "bench-sine-modular"));
  const auto x = torch::randn({s.batch, s.D}, gen, torch::kFloat).to(c.device);
  const auto y = torch::randn({s.batch, s.out}, gen, torch::kFloat).to(c.device);
  return modular_training("sine-modular", workload_description("sine-modular"), s, x, y,
                          [](const torch::Tensor& p, const torch::Tensor& t) { return torch::mse_loss(p, t); },
                          c.device);
}

constexpr int64_t kCifarSlots = 4, kCifarClasses = 10, kCifarD = kCifarSlots * 3 * 32 * 32;  // 12288

Workload cifar_modular(const WorkloadContext& c) {
  const ModularSpec s{kCifarD, 8, 64, kCifarSlots * kCifarClasses, 256, {256, 256}};
  auto gen = make_generator(derive_seed(c.seed, "bench-cifar-modular"));
  const auto x = torch::randn({s.batch, s.D}, gen, torch::kFloat).to(c.device);
  const auto y = torch::randint(0, kCifarClasses, {s.batch, kCifarSlots}, gen, torch::kLong).to(c.device);
  return modular_training(
      "cifar-modular", workload_description("cifar-modular"), s, x, y,
      [](const torch::Tensor& p, const torch::Tensor& t) { return data::slot_cross_entropy(p, t, kCifarClasses); }, c.device);
}

Workload cifar_monolithic(const WorkloadContext& c) {
  const int64_t batch = 256, out = kCifarSlots * kCifarClasses;
  const std::vector<int64_t> hidden{1024, 1024};
  auto gen = make_generator(derive_seed(c.seed, "bench-cifar-monolithic"));
  const auto x = torch::randn({batch, kCifarD}, gen, torch::kFloat).to(c.device);
  const auto y = torch::randint(0, kCifarClasses, {batch, kCifarSlots}, gen, torch::kLong).to(c.device);
  models::MLP model(models::MLPOptions(kCifarD, out).hidden(hidden).activation("relu"));
  model->to(c.device);
  auto adam = std::make_shared<FusedAdam>(model->parameters(), torch::optim::AdamOptions(1e-3));
  Workload w;
  w.name = "cifar-monolithic";
  w.description = workload_description(w.name);
  w.items_per_step = double(batch);
  w.flops_per_step = training_step_flops(mlp_forward_flops(batch, kCifarD, hidden, out));
  w.flop_formula = fmt::format("3 x forward; forward = 2*B*sum(in_l*out_l) with B={}, MLP {}->{}->{}", batch, kCifarD,
                               join(hidden), out);
  w.step = [model, adam, x, y]() mutable {
    drop_gradients(model->parameters());
    data::slot_cross_entropy(model->forward(x), y, kCifarClasses).backward();
    adam->step();
  };
  w.profile = [model, adam, x, y, device = c.device]() mutable {
    PhaseTimer t(device);
    drop_gradients(model->parameters());
    t.mark("zero_grad");
    const auto pred = model->forward(x);
    t.mark("forward");
    auto l = data::slot_cross_entropy(pred, y, kCifarClasses);
    t.mark("loss");
    l.backward();
    t.mark("backward");
    adam->step();
    t.mark("Adam step");
    return t.phases;
  };
  return w;
}

// One step of the kernel initialiser (init/kernel_init.cpp, KernelInitializer::run with kernel:
// rbf, bandwidth: median, targets: all): the projections of all K modules, one batched RBF Gram
// matrix with the median bandwidth, one batched Cholesky min-norm objective, backward, Adam.
Workload kernel_init(const WorkloadContext& c) {
  const int64_t n = 512, D = kCifarD, K = 8, b = 64, d = kCifarSlots * kCifarClasses;
  init::KernelInitOptions o;  // the initialiser's defaults (jitter, bandwidth, lr) ...
  o.batch_size = n;           // ... with the benchmark's kernel batch
  auto gen = make_generator(derive_seed(c.seed, "bench-kernel-init"));
  const auto x = torch::randn({n, D}, gen, torch::kFloat).to(c.device);
  const auto labels = torch::randint(0, kCifarClasses, {n, kCifarSlots}, gen, torch::kLong);
  auto ymat = torch::one_hot(labels, kCifarClasses).to(torch::kFloat).reshape({n, d});
  ymat = (ymat - ymat.mean(0, true)).to(c.device);                             // center_targets
  const auto y = ymat.unsqueeze(0).expand({K, -1, -1}).contiguous();          // targets: all
  auto u0 = std::get<0>(torch::linalg_qr(torch::randn({K, D, b}, gen, torch::kFloat), "reduced"));
  // D-major, as models::Modular stores its projections (the initialiser optimises a copy of them).
  auto u = u0.to(c.device).permute({1, 0, 2}).contiguous().permute({1, 0, 2}).requires_grad_(true);
  auto adam = std::make_shared<FusedAdam>(std::vector<torch::Tensor>{u}, torch::optim::AdamOptions(o.lr));  // as the initialiser
  Workload w;
  w.name = "kernel-init";
  w.description = workload_description(w.name);
  w.unit = "module-steps/s";
  w.items_per_step = double(K);
  w.flops_per_step = kernel_init_step_flops(n, D, K, b, d);
  w.flop_formula = fmt::format(
      "init::kernel_step_flops: 3*K*(2nDb + 2n^2 b + 6n^2 + n^3/3 + 2n^2 d + 2nd) (projection, distance GEMM, exp, "
      "Cholesky, two triangular solves, trace; x3 for backward) with n={}, D={}, K={}, b={}, d={}",
      n, D, K, b, d);
  w.step = [=]() mutable {
    auto z = models::project(x, u);
    auto gram = init::rbf_gram(z, o.bandwidth_scale, o.bandwidth == "fixed", o.bandwidth_grad);
    auto objective = init::min_norm_objective(gram, y, o.jitter);  // [K]
    drop_gradients({u});
    objective.sum().backward();
    adam->step();
  };
  return w;
}

Workload compositional_data(const WorkloadContext& c) {
  data::CompositionalOptions o;
  o.root = c.data_root;
  o.slots = 6;
  o.seed = int64_t(derive_seed(c.seed, "bench-compositional") >> 1);
  bool synthetic = false;
  std::shared_ptr<const data::CompositionalTask> task = make_compositional_task(o, c.seed, &synthetic);
  const int64_t batch = 256, n = task->size(data::Split::train);
  auto gen = std::make_shared<torch::Generator>(make_generator(derive_seed(c.seed, "bench-compositional-index")));
  Workload w;
  w.name = "compositional-data";
  w.description = workload_description(w.name) + (synthetic ? " [synthetic images: " + c.data_root + " absent]" : "");
  w.items_per_step = double(batch);
  const auto device = c.device;
  w.step = [task, gen, n, batch, device] {
    const auto index = torch::randint(0, n, {batch}, *gen, torch::kLong);
    const auto b = task->get(data::Split::train, index, device);
    (void)b;
  };
  return w;
}

const std::map<std::string, std::pair<std::string, Workload (*)(const WorkloadContext&)>>& table() {
  static const std::map<std::string, std::pair<std::string, Workload (*)(const WorkloadContext&)>> t{
      {"sine-modular",
       {"modular D=64 K=16 b=4, module MLP 4->64->64->1 ReLU, batch 256, Adam, MSE: one training step",
        &sine_modular}},
      {"cifar-modular",
       {"modular k=4 (D=12288) K=8 b=64, module MLP 64->256->256->40, batch 256, Adam, per-slot cross-entropy",
        &cifar_modular}},
      {"cifar-monolithic",
       {"MLP 12288->1024->1024->40 ReLU, batch 256, Adam, per-slot cross-entropy", &cifar_monolithic}},
      {"kernel-init",
       {"kernel init D=12288 K=8 b=64, kernel batch 512, RBF median bandwidth, batched Cholesky, one Adam step of "
        "all K projections",
        &kernel_init}},
      {"compositional-data",
       {"compositional CIFAR k=6: gather a batch of 256 (index_select on the uint8 images, normalise)",
        &compositional_data}},
  };
  return t;
}

}  // namespace

const std::vector<std::string>& workload_names() {
  static const std::vector<std::string> names{"sine-modular", "cifar-modular", "cifar-monolithic", "kernel-init",
                                              "compositional-data"};
  return names;
}

std::string workload_description(const std::string& name) {
  auto it = table().find(name);
  if (it == table().end()) throw ConfigError(fmt::format("unknown benchmark workload '{}'", name));
  return it->second.first;
}

Workload make_workload(const std::string& name, const WorkloadContext& context) {
  auto it = table().find(name);
  if (it == table().end()) throw ConfigError(fmt::format("unknown benchmark workload '{}'", name));
  return it->second.second(context);
}

}  // namespace modnet::bench
