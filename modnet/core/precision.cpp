#include "modnet/core/precision.h"

#include <ATen/autocast_mode.h>

#include "modnet/core/error.h"

namespace modnet {
namespace {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool cuda_enabled() { return at::autocast::is_autocast_enabled(at::kCUDA); }
void set_cuda_enabled(bool on) { at::autocast::set_autocast_enabled(at::kCUDA, on); }
at::ScalarType cuda_dtype() { return at::autocast::get_autocast_dtype(at::kCUDA); }
void set_cuda_dtype(at::ScalarType t) { at::autocast::set_autocast_dtype(at::kCUDA, t); }
#else
bool cuda_enabled() { return at::autocast::is_enabled(); }
void set_cuda_enabled(bool on) { at::autocast::set_enabled(on); }
at::ScalarType cuda_dtype() { return at::autocast::get_autocast_gpu_dtype(); }
void set_cuda_dtype(at::ScalarType t) { at::autocast::set_autocast_gpu_dtype(t); }
#endif
}  // namespace

void check_precision(const std::string& precision, const torch::Device& device, const std::string& where) {
  if (precision == "fp32") return;
  if (precision != "bf16")
    throw ConfigError(fmt::format("{} = '{}': expected fp32 or bf16", where, precision));
  if (!device.is_cuda())
    throw ConfigError(fmt::format("{} = bf16 needs a CUDA device (autocast), but the run is on {}", where, device.str()));
}

AutocastGuard::AutocastGuard(const torch::Device& device, const std::string& precision) {
  if (precision != "bf16" || !device.is_cuda()) return;
  previous_enabled_ = cuda_enabled();
  previous_dtype_ = cuda_dtype();
  set_cuda_dtype(at::kBFloat16);
  set_cuda_enabled(true);
  at::autocast::increment_nesting();
  active_ = true;
}

AutocastGuard::~AutocastGuard() {
  if (!active_) return;
  // Leaving the outermost autocast region frees the cached bf16 copies of the weights.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_cuda_enabled(previous_enabled_);
  set_cuda_dtype(previous_dtype_);
}

}  // namespace modnet
