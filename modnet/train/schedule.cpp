#include <cmath>

#include "modnet/train/options.h"

namespace modnet::train {

double learning_rate(const TrainOptions& o, int64_t step, int64_t total) {
  if (o.warmup_steps > 0 && step < o.warmup_steps) return o.lr * double(step + 1) / double(o.warmup_steps);
  if (o.schedule == "step") return o.lr * std::pow(o.gamma, double((step - o.warmup_steps) / o.step_size));
  if (o.schedule == "cosine") {
    const double span = double(std::max<int64_t>(1, total - o.warmup_steps));
    const double t = std::min(1.0, double(step - o.warmup_steps) / span);
    return o.min_lr + 0.5 * (o.lr - o.min_lr) * (1.0 + std::cos(M_PI * t));
  }
  return o.lr;
}

}  // namespace modnet::train
