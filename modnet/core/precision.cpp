#include "modnet/core/precision.h"

#include <ATen/autocast_mode.h>

#include "modnet/core/error.h"
#include "modnet/core/torch_compat.h"

namespace modnet {

void check_precision(const std::string& precision, const torch::Device& device, const std::string& where) {
  if (precision == "fp32") return;
  if (precision != "bf16")
    throw ConfigError(fmt::format("{} = '{}': expected fp32 or bf16", where, precision));
  if (!device.is_cuda())
    throw ConfigError(fmt::format("{} = bf16 needs a CUDA device (autocast), but the run is on {}", where, device.str()));
}

AutocastGuard::AutocastGuard(const torch::Device& device, const std::string& precision) {
  if (precision != "bf16" || !device.is_cuda()) return;
  previous_enabled_ = compat::cuda_autocast_enabled();
  previous_dtype_ = compat::cuda_autocast_dtype();
  compat::set_cuda_autocast_dtype(at::kBFloat16);
  compat::set_cuda_autocast_enabled(true);
  at::autocast::increment_nesting();
  active_ = true;
}

AutocastGuard::~AutocastGuard() {
  if (!active_) return;
  // Leaving the outermost autocast region frees the cached bf16 copies of the weights.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  compat::set_cuda_autocast_enabled(previous_enabled_);
  compat::set_cuda_autocast_dtype(previous_dtype_);
}

}  // namespace modnet
