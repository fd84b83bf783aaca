#include "modnet/init/slot_oracle.h"

#include <chrono>

#include "modnet/core/error.h"
#include "modnet/core/log.h"
#include "modnet/core/progress.h"
#include "modnet/core/rng.h"
#include "modnet/models/projected.h"

namespace modnet::init {

InitReport SlotOracleInitializer::run(torch::nn::AnyModule& model, const InitContext& ctx) {
  const auto t0 = std::chrono::steady_clock::now();
  TORCH_CHECK(ctx.task, "SlotOracleInitializer: no task");
  auto* projected = models::as_projected(model);
  if (!projected)
    throw ConfigError("init.type = slot_oracle needs a model with module projections (e.g. model.type: modular)");
  const auto slots = ctx.task->input_slots();
  if (!slots.defined())
    throw ConfigError("init.type = slot_oracle needs a task with input slots (e.g. task.type: compositional)");
  auto param = projected->projections();
  const int64_t K = param.size(0), b = param.size(2);
  const int64_t k = models::slot_count(slots);
  if (K < k)
    throw ConfigError(fmt::format("init.type = slot_oracle: the model's {} modules cannot cover the task's {} slots "
                                  "(expected model.modules >= {})",
                                  K, k, k));
  if (options_.per_slot > 0 && K != options_.per_slot * k)
    throw ConfigError(fmt::format("init.per_slot = {}: expected model.modules = {} x {} slots = {}, got {}",
                                  options_.per_slot, options_.per_slot, k, options_.per_slot * k, K));
  // A slot-wired model's own assignment is the same rule (slot j mod k), so the two agree.
  const auto assignment = models::slot_assignment(K, k);
  {
    torch::NoGradGuard no_grad;
    // The model's scale: each module's columns at the RMS column norm of its random start.
    const auto column_norm = param.detach().norm(2, {1, 2}).cpu() / std::sqrt(double(b));
    auto u = models::slot_projections(slots, assignment, b, column_norm,
                                      make_generator(derive_seed(ctx.seed, "slot-oracle")));
    param.copy_(u.to(param.device(), param.scalar_type()));
  }
  InitReport report;
  report.type = "slot_oracle";
  report.seconds = seconds_since(t0);
  log::info("slot oracle init: {} modules inside the task's {} slots ({}-{} per slot) in {:.2f}s", K, k, K / k,
            (K + k - 1) / k, report.seconds);
  return report;
}

}  // namespace modnet::init
