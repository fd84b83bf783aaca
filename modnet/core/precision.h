#pragma once
// Mixed precision: `train.precision: bf16` runs forward passes under CUDA autocast with bfloat16
// (matmuls and convolutions in bf16, reductions and the loss in float32; parameters, gradients and
// the optimiser state stay float32). The autocast calls of both LibTorch versions (1.13:
// at::autocast::set_enabled; >= 2.4: set_autocast_enabled(device type, …)) are bridged in
// core/torch_compat.h.
#include <string>

#include <torch/torch.h>

namespace modnet {

/// "fp32" | "bf16"; bf16 needs a CUDA device (ConfigError naming `where` otherwise).
void check_precision(const std::string& precision, const torch::Device& device, const std::string& where);

/// Enables autocast (bf16) on CUDA for its lifetime when `precision` is "bf16"; restores the
/// previous state on destruction. A no-op for "fp32".
class AutocastGuard {
 public:
  AutocastGuard(const torch::Device& device, const std::string& precision);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;
  bool active() const { return active_; }

 private:
  bool active_ = false;
  bool previous_enabled_ = false;
  at::ScalarType previous_dtype_ = at::kHalf;
};

}  // namespace modnet
