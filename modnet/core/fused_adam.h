#pragma once
// Adam with a fused CPU update: torch::optim::Adam's arithmetic (same options, same state, so
// checkpoints and serialisation are unchanged) but, for float32 dense CPU parameters (any strides), one pass
// over memory per tensor - parameter, gradient and both moments read and written once - instead of
// the five to six passes and the temporary of the reference step, split over the cores for large
// tensors. Everything else (CUDA, float64, amsgrad) falls back to torch::optim::Adam::step.
// modnet-bench measured the reference step at 30-37 % of a CIFAR training step on 2 cores. In
// core/ because the trainer and the kernel initialiser (which optimises the projections) both use it.
#include <torch/torch.h>

namespace modnet {

/// Drops the parameters' gradients before a step instead of zeroing them (the same in every
/// libtorch version, whose zero_grad defaults differ): backward then hands each parameter its
/// gradient without a zero-fill and an add. The trainer, the kernel initialiser and the benchmark
/// all clear gradients this way.
inline void drop_gradients(const std::vector<torch::Tensor>& parameters) {
  for (auto p : parameters) p.mutable_grad().reset();
}

class FusedAdam : public torch::optim::Adam {
 public:
  using torch::optim::Adam::Adam;
  torch::Tensor step(LossClosure closure = nullptr) override;
  /// Whether the last step took the fused path (false: it fell back to torch::optim::Adam::step).
  bool fused_last_step() const { return fused_last_step_; }

 private:
  bool fused_last_step_ = false;
};

}  // namespace modnet
