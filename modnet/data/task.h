#pragma once
// A supervised task: fixed train / validation / test splits, addressed by index so that the trainer
// can gather whole batches with one index operation.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace modnet::data {

enum class Split { train, val, test };
std::string to_string(Split split);
/// "train" | "val" | "test" (ConfigError otherwise).
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
  /// Whole split at once (convenience for small tasks and analyses).
  Batch all(Split split, const torch::Device& device = torch::kCPU) const;
};

using TaskPtr = std::shared_ptr<Task>;

}  // namespace modnet::data
