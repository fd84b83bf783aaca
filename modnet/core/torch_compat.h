#pragma once
// The one place that knows which LibTorch modnet is built against. modnet builds against
// Debian 12's LibTorch 1.13 and against 2.x (Debian 13's 2.6, PyTorch's own on GPU machines);
// every difference between them that the code meets is bridged here, so no other file branches
// on TORCH_VERSION_*. What needs no branch, because both versions accept the same call, is
// written that one way everywhere (docs/design.md, "LibTorch on two versions"):
//   - optimizer.zero_grad() with no argument (1.13 zeroes, 2.x sets to undefined): callers check
//     grad().defined(), and the trainer drops gradients itself;
//   - Dataset::size() returns torch::optional<size_t> (std::optional in 2.x: the same type there);
//   - data_ptr<T>(), never data<T>() (removed in 2.x); no kUInt16/32/64 (absent in 1.13).
// Checkpoints and weights (torch::serialize archives) do not carry across the two: each file
// records the version that wrote it (train/checkpoint.cpp) and a failed load names both.
// GCC 14 (Debian 13) warns falsely inside LibTorch 2.x's autograd::Function::apply; that is
// handled in modnet/CMakeLists.txt, for the two files that define autograd Functions.

#include <torch/torch.h>

#include <ATen/autocast_mode.h>

#include <string>
#include <type_traits>
#include <utility>

namespace modnet::compat {

// The version this build was compiled against, "major.minor.patch".
inline std::string torch_version() { return TORCH_VERSION; }

// The key of a parameter in torch::optim::Optimizer::state(): the TensorImpl's address as a
// string in 1.13, the pointer itself in 2.x.
using OptimizerStateKey =
    std::decay_t<decltype(std::declval<torch::optim::Optimizer&>().state())>::key_type;
inline OptimizerStateKey optimizer_state_key(const torch::Tensor& p) {
#if TORCH_VERSION_MAJOR >= 2
  return p.unsafeGetTensorImpl();
#else
  return c10::guts::to_string(p.unsafeGetTensorImpl());
#endif
}

// CUDA autocast: 2.4 replaced the GPU-only functions with per-device-type ones.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
inline bool cuda_autocast_enabled() { return at::autocast::is_autocast_enabled(at::kCUDA); }
inline void set_cuda_autocast_enabled(bool on) { at::autocast::set_autocast_enabled(at::kCUDA, on); }
inline at::ScalarType cuda_autocast_dtype() { return at::autocast::get_autocast_dtype(at::kCUDA); }
inline void set_cuda_autocast_dtype(at::ScalarType t) { at::autocast::set_autocast_dtype(at::kCUDA, t); }
#else
inline bool cuda_autocast_enabled() { return at::autocast::is_enabled(); }
inline void set_cuda_autocast_enabled(bool on) { at::autocast::set_enabled(on); }
inline at::ScalarType cuda_autocast_dtype() { return at::autocast::get_autocast_gpu_dtype(); }
inline void set_cuda_autocast_dtype(at::ScalarType t) { at::autocast::set_autocast_gpu_dtype(t); }
#endif

}  // namespace modnet::compat
