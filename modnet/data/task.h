#pragma once
// A supervised task: fixed train / validation / test splits, addressed by index so that the trainer
// can gather whole batches with one index operation.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace modnet::data {

/// ood: the held-out out-of-distribution test set of tasks that have one (empty otherwise).
enum class Split { train, val, test, ood };
std::string to_string(Split split);
/// "train" | "val" | "test" | "ood" (ConfigError otherwise).
Split parse_split(const std::string& name);

struct Batch {
  torch::Tensor x;  // [B, input_dim] float
  torch::Tensor y;  // [B, output_dim] float (regression) or [B, slots] int64 (classification)
};

class Task {
 public:
  virtual ~Task() = default;
  virtual std::string name() const = 0;
  virtual int64_t input_dim() const = 0;
  virtual int64_t output_dim() const = 0;
  /// Samples in `split` (0 for a split the task does not have, e.g. ood).
  virtual int64_t size(Split split) const = 0;
  /// Rows `index` (int64, CPU) of `split`, on `device`.
  virtual Batch get(Split split, const torch::Tensor& index, const torch::Device& device) const = 0;
  /// The training loss, averaged over the batch.
  virtual torch::Tensor loss(const torch::Tensor& pred, const torch::Tensor& target) const;
  /// Metrics other than the loss, each as a sum over the batch (the evaluator divides by the
  /// number of samples): e.g. {"accuracy": correct slots / slots}. Default: none.
  virtual std::map<std::string, double> metric_sums(const torch::Tensor& pred, const torch::Tensor& target) const;
  /// Targets as a real matrix [B, d] for kernel objectives: regression targets as they are,
  /// class labels as one-hot rows (classification tasks override this).
  virtual torch::Tensor target_matrix(const torch::Tensor& y) const { return y.to(torch::kFloat); }
  /// The ground-truth module projections, one [input_dim, m] tensor with orthonormal columns per
  /// module, when the task is built from known modules (empty otherwise).
  virtual std::vector<torch::Tensor> true_projections() const { return {}; }
  /// Unit directions whose ridge functions make up the target, as columns [input_dim, R], when
  /// the task is built that way (undefined tensor otherwise).
  virtual torch::Tensor true_ridge_directions() const { return {}; }
  /// True for classification tasks (integer class targets); false for regression.
  virtual bool classification() const { return false; }
  /// The number of true modules the task is built from (e.g. sine modules k, image slots k), 0 when
  /// it has no such structure. Models use it for defaults such as K = 2k.
  virtual int64_t module_count() const { return 0; }
  /// For inputs made of slots (e.g. images side by side): the slot of every input coordinate, int64
  /// [input_dim] (-1 for coordinates of no slot); undefined otherwise.
  virtual torch::Tensor input_slots() const { return {}; }
  /// Whole split at once (convenience for small tasks and analyses).
  Batch all(Split split, const torch::Device& device = torch::kCPU) const;
};

using TaskPtr = std::shared_ptr<Task>;

/// A task's sizes, as models see them (input_dim(), output_dim(), module_count()), known from its
/// options before its data are built (data::task_shape).
struct TaskShape {
  int64_t input_dim = 0;
  int64_t output_dim = 0;
  int64_t modules = 0;  // true modules k (0 = none)
  torch::Tensor input_slots;  // as Task::input_slots(): the slot of every input coordinate (undefined = none)
};

/// x + σ·ε with ε ~ N(0, I): Gaussian input noise (robustness evaluation, optional at training).
/// On the CPU the noise comes from its own generator seeded with `seed` (reproducible); on CUDA
/// from the device's global generator. σ = 0 returns x itself.
torch::Tensor add_input_noise(const torch::Tensor& x, double sigma, uint64_t seed);

}  // namespace modnet::data
