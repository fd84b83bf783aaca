#include "modnet/models/modular.h"

#include <cmath>

#include "modnet/core/error.h"
#include "modnet/models/mlp.h"
#include "modnet/models/projected.h"

namespace modnet::models {

ModularImpl::ModularImpl(ModularOptions options_) : options(std::move(options_)) { reset(); }

void ModularImpl::reset() {
  const auto& o = options;
  TORCH_CHECK(o.in_features() > 0 && o.out_features() > 0 && o.modules() > 0 && o.module_dim() > 0,
              "Modular: in_features, out_features, modules and module_dim must be positive, got ", o.in_features(),
              ", ", o.out_features(), ", ", o.modules(), ", ", o.module_dim());
  TORCH_CHECK(o.module_dim() <= o.in_features(), "Modular: module_dim ", o.module_dim(), " exceeds in_features ",
              o.in_features());
  TORCH_CHECK(o.projection_init() == "orthonormal" || o.projection_init() == "gaussian",
              "Modular: projection_init must be orthonormal or gaussian, got '", o.projection_init(), "'");
  activation_ = parse_activation(o.activation());
  const int64_t K = o.modules(), D = o.in_features(), b = o.module_dim();

  torch::Tensor u;
  mask_ = torch::Tensor();
  {
    torch::NoGradGuard no_grad;
    if (o.slot_wired()) {
      // Inside each module's slot from the start (the same random rule restricted to the slot).
      TORCH_CHECK(o.input_slots().defined() && o.input_slots().dim() == 1 && o.input_slots().size(0) == D,
                  "Modular: slot_wired needs input_slots [", D, "]");
      const auto assignment = slot_assignment(K, slot_count(o.input_slots()));
      mask_ = slot_mask(o.input_slots(), assignment, b);
      if (o.projection_init() == "orthonormal") {
        u = slot_projections(o.input_slots(), assignment, b, torch::full({K}, o.projection_scale()));
      } else {
        u = torch::randn({K, D, b}) * (o.projection_scale() / std::sqrt(double(D))) * mask_;
      }
    } else if (o.projection_init() == "orthonormal") {
      // Each module its own random orthonormal basis (Haar via QR of a Gaussian matrix).
      u = std::get<0>(torch::linalg_qr(torch::randn({K, D, b}), "reduced")) * o.projection_scale();
    } else {
      u = torch::randn({K, D, b}) * (o.projection_scale() / std::sqrt(double(D)));
    }
  }
  // D-major storage (see the header): a [K, D, b] view of [D, K, b] memory.
  projections_ = register_parameter("projections", u.permute({1, 0, 2}).contiguous().permute({1, 0, 2}));
  if (mask_.defined()) {
    mask_ = register_buffer("slot_mask", mask_);
    // Gradients stay inside the slot, so every optimiser step keeps Û ⊙ mask = Û (zero entries get
    // zero updates from Adam, AdamW and SGD alike). The hook holds the buffer itself, which
    // Module::to() moves in place; the result keeps the gradient's layout (the fused Adam path).
    projections_.register_hook([mask = mask_](const torch::Tensor& g) {
      auto out = torch::empty_like(g, torch::MemoryFormat::Preserve);
      return torch::mul_out(out, g, mask);
    });
  }
  workspace_ = std::make_shared<FusedWorkspace>();

  weights_.clear();
  biases_.clear();
  const int64_t S = o.shared_weights() ? 1 : K;
  int64_t in = b;
  std::vector<int64_t> sizes = o.hidden();
  sizes.push_back(o.out_features());
  for (size_t l = 0; l < sizes.size(); ++l) {
    const int64_t out = sizes[l];
    TORCH_CHECK(out > 0, "Modular: hidden widths must be positive, got ", out);
    // torch::nn::Linear's default: U(-1/√in, 1/√in) for weights and biases.
    const double bound = 1.0 / std::sqrt(double(in));
    torch::Tensor w, bias;
    {
      torch::NoGradGuard no_grad;
      w = torch::empty({S, in, out}).uniform_(-bound, bound);
      bias = torch::empty({S, 1, out}).uniform_(-bound, bound);
    }
    weights_.push_back(register_parameter("weight" + std::to_string(l), w));
    biases_.push_back(register_parameter("bias" + std::to_string(l), bias));
    in = out;
  }
}

void ModularImpl::pretty_print(std::ostream& stream) const {
  stream << "modnet::models::Modular(K=" << options.modules() << ", D=" << options.in_features()
         << ", b=" << options.module_dim() << ", module " << options.module_dim();
  for (auto w : options.hidden()) stream << "->" << w;
  stream << "->" << options.out_features() << (options.shared_weights() ? ", shared" : "")
         << (options.fused() ? "" : ", autograd reference") << (options.slot_wired() ? ", slot-wired" : "") << ")";
}

torch::Tensor ModularImpl::project(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 2 && x.size(1) == options.in_features(), "Modular: expected input [B, ",
              options.in_features(), "], got ", x.sizes());
  return models::project(x, projections_);
}

torch::Tensor ModularImpl::module_outputs(const torch::Tensor& z) {
  TORCH_CHECK(z.dim() == 3 && z.size(0) == options.modules() && z.size(2) == options.module_dim(),
              "Modular::module_outputs: expected z [", options.modules(), ", B, ", options.module_dim(), "], got ",
              z.sizes());
  if (options.fused()) return fused_module_mlp(z, weights_, biases_, activation_, 0.0, workspace_.get());
  torch::Tensor h = z;
  const size_t L = weights_.size();
  for (size_t l = 0; l < L; ++l) {
    if (options.shared_weights()) {
      h = torch::matmul(h, weights_[l][0]) + biases_[l][0];
    } else {
      h = torch::baddbmm(biases_[l], h, weights_[l]);
    }
    if (l + 1 < L) h = activate(activation_, h);
  }
  return h;
}

torch::Tensor ModularImpl::forward(torch::Tensor x) { return forward_projected(project(x)); }

torch::Tensor ModularImpl::forward_projected(const torch::Tensor& z) {
  const double scale = 1.0 / std::sqrt(double(options.modules()));
  if (options.fused()) return fused_module_mlp(z, weights_, biases_, activation_, scale, workspace_.get());
  return module_outputs(z).sum(0) * scale;  // [K, B, out] → [B, out]
}

torch::Tensor ModularImpl::forward_per_module(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 2 && x.size(1) == options.in_features(), "Modular::forward_per_module: expected input [B, ",
              options.in_features(), "], got ", x.sizes());
  const int64_t K = options.modules();
  const size_t L = weights_.size();
  torch::Tensor sum;
  for (int64_t j = 0; j < K; ++j) {
    const int64_t s = options.shared_weights() ? 0 : j;
    torch::Tensor h = x.matmul(projections_[j]);  // [B, b]
    for (size_t l = 0; l < L; ++l) {
      h = torch::addmm(biases_[l][s], h, weights_[l][s]);  // bias [1, out] broadcast over the batch
      if (l + 1 < L) h = activate(activation_, h);
    }
    sum = sum.defined() ? sum + h : h;
  }
  return sum / std::sqrt(double(K));
}

std::vector<std::pair<torch::Tensor, torch::Tensor>> ModularImpl::module_layers() {
  std::vector<std::pair<torch::Tensor, torch::Tensor>> layers;
  for (size_t l = 0; l < weights_.size(); ++l) layers.emplace_back(weights_[l], biases_[l]);
  return layers;
}

int64_t modular_parameter_count(int64_t in, int64_t out, int64_t modules, int64_t module_dim,
                                const std::vector<int64_t>& hidden, bool shared_weights) {
  const int64_t mlp = mlp_parameter_count(module_dim, hidden, out, true);
  return modules * in * module_dim + (shared_weights ? 1 : modules) * mlp;
}

std::vector<int64_t> modular_hidden(const ModularModelOptions& o, int64_t in, int64_t out) {
  if (o.hidden) return *o.hidden;
  TORCH_CHECK(o.params, "modular model: give model.hidden or model.params");
  const auto& m = o.module;
  const int64_t projection_params = m.modules() * in * m.module_dim();
  const int64_t mlp_budget = (*o.params - projection_params) / (m.shared_weights() ? 1 : m.modules());
  if (mlp_budget < 1)
    throw config::OptionError("params",
                              fmt::format("more than the {} parameters of the {} projections alone", projection_params,
                                          m.modules()),
                              std::to_string(*o.params));
  return o.widths(m.module_dim(), out, mlp_budget);
}

Modular make_modular(const ModularModelOptions& options, const ModelContext& c) {
  ModularModelOptions o = options;
  auto& m = o.module;
  if (m.modules() == 0) {  // auto: twice the task's true module count
    if (c.task_modules <= 0)
      throw config::OptionError("modules", "a module count K >= 1 (0 = 2k needs a task with a known module count k)",
                                "0");
    m.modules(2 * c.task_modules);
  }
  if (m.module_dim() > c.input_dim)
    throw config::OptionError("module_dim", fmt::format("at most the task's input dimension {}", c.input_dim),
                              std::to_string(m.module_dim()));
  if (m.slot_wired()) {
    if (!c.input_slots.defined())
      throw config::OptionError("slot_wired", "a task with input slots (e.g. task.type: compositional)", "true");
    const int64_t k = slot_count(c.input_slots);
    if (m.modules() < k)
      throw config::OptionError(
          "modules", fmt::format("at least the task's {} slots for a slot-wired network (0 = 2k)", k),
          std::to_string(m.modules()));
    m.input_slots(c.input_slots);
  }
  const auto hidden = modular_hidden(o, c.input_dim, c.output_dim);
  return Modular(m.in_features(c.input_dim).out_features(c.output_dim).hidden(hidden));
}

std::vector<int64_t> slot_assignment(int64_t modules, int64_t slots) {
  TORCH_CHECK(modules >= 1 && slots >= 1, "slot_assignment: needs modules and slots >= 1, got ", modules, ", ", slots);
  std::vector<int64_t> slot_of(static_cast<size_t>(modules));
  for (int64_t j = 0; j < modules; ++j) slot_of[static_cast<size_t>(j)] = j % slots;
  return slot_of;
}

int64_t slot_count(const torch::Tensor& input_slots) {
  TORCH_CHECK(input_slots.defined() && input_slots.numel() > 0, "slot_count: no input slots");
  return input_slots.max().item<int64_t>() + 1;
}

torch::Tensor slot_mask(const torch::Tensor& input_slots, const std::vector<int64_t>& assignment, int64_t b) {
  const auto slots = input_slots.to(torch::kCPU, torch::kLong);
  const int64_t K = int64_t(assignment.size()), D = slots.size(0);
  const auto modules_slot = torch::tensor(assignment, torch::kLong).view({K, 1});
  const auto rows = slots.view({1, D}).eq(modules_slot).to(torch::kFloat);  // [K, D]
  // D-major storage, like Modular's projections.
  return rows.t().unsqueeze(2).expand({D, K, b}).contiguous().permute({1, 0, 2});
}

torch::Tensor slot_projections(const torch::Tensor& input_slots, const std::vector<int64_t>& assignment, int64_t b,
                               const torch::Tensor& column_norm, std::optional<torch::Generator> generator) {
  torch::NoGradGuard no_grad;
  const auto slots = input_slots.to(torch::kCPU, torch::kLong);
  const int64_t K = int64_t(assignment.size()), D = slots.size(0);
  TORCH_CHECK(column_norm.numel() == K, "slot_projections: column_norm needs ", K, " entries, got ",
              column_norm.numel());
  const auto norms = column_norm.to(torch::kCPU, torch::kFloat);
  auto u = torch::zeros({D, K, b});  // D-major
  for (int64_t j = 0; j < K; ++j) {
    const auto rows = torch::nonzero(slots.eq(assignment[size_t(j)])).view({-1});
    TORCH_CHECK(rows.size(0) >= b, "slot_projections: slot ", assignment[size_t(j)], " has ", rows.size(0),
                " coordinates, fewer than the module dimension b = ", b);
    const auto g = generator ? torch::randn({rows.size(0), b}, *generator) : torch::randn({rows.size(0), b});
    const auto q = std::get<0>(torch::linalg_qr(g, "reduced")) * norms[j];
    u.select(1, j).index_copy_(0, rows, q);
  }
  return u.permute({1, 0, 2});
}

}  // namespace modnet::models
