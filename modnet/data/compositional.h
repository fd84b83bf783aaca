#pragma once
// Compositional image classification (PAPER.md §6): k images of a labelled image set placed side
// by side along the width; the model predicts the class of every slot at once.
//
//   input  x = the k images as one C×H×(k·W) image, normalised per channel, flattened (C, H, k·W):
//              slot s occupies columns s·W … s·W+W−1 of every row, exactly its source image;
//   output 10·k logits (C_cls·k in general), slot s in columns s·C_cls … s·C_cls+C_cls−1;
//   loss   the mean over slots of the per-slot cross-entropy; accuracy per slot and their mean.
//
// Splits: train = a fixed budget of n_train tuples drawn at random (seeded) from the training
// images, minus `val_images` of them held out for the validation split; test = tuples of test
// images whose class combination was seen in training; ood = tuples of test images whose class
// combination is in the held-out set (combinatorial out-of-distribution test). The held-out
// combinations are a seeded, deterministic `ood_fraction` of all C_cls^k class tuples, chosen so
// that every class still appears in every slot in training. With k = 1 there are no combinations:
// the ood split is empty.
//
// The images stay a uint8 tensor [N, C, H, W]; a batch is gathered with index_select and
// normalised on the target device (uint8 moves, not floats).
#include <optional>

#include "modnet/core/config.h"
#include "modnet/core/rng.h"
#include "modnet/data/images.h"
#include "modnet/data/task.h"

namespace modnet::data {

struct CompositionalOptions {
  std::string root = "data/cifar10-jpeg";  // image data set folder (relative to the working directory)
  std::string format = "auto";             // auto | cifar10_binary | image_folder | idx
  int64_t slots = 2;                       // k
  int64_t n_train = 50000;                 // training tuples: the sample budget
  int64_t n_val = 2000;
  int64_t n_test = 10000;
  int64_t n_ood = 10000;
  int64_t val_images = 5000;  // training images held out to build the validation tuples
  double ood_fraction = 0.2;  // share of class tuples never seen in training
  bool normalize = true;      // per-channel mean/std of the training images
  std::optional<int64_t> seed;

  template <class V>
  void fields(V& v) {
    using namespace config;
    v("root", root, none(), "image data set folder (CIFAR-10 binary, image folder or IDX)");
    v("format", format, one_of({"auto", "cifar10_binary", "image_folder", "idx"}), "data set format");
    v("slots", slots, at_least(1), "images side by side k");
    v("n_train", n_train, at_least(1), "training tuples (the sample budget)");
    v("n_val", n_val, at_least(0), "validation tuples (from held-out training images)");
    v("n_test", n_test, at_least(1), "test tuples of seen class combinations");
    v("n_ood", n_ood, at_least(0), "test tuples of unseen class combinations");
    v("val_images", val_images, at_least(0), "training images held out for validation");
    v("ood_fraction", ood_fraction, fraction(), "share of class combinations held out of training");
    v("normalize", normalize, none(), "normalise each channel by the training images' mean and std");
    v("seed", seed, at_least(0), "task seed (default: derived from the run seed)");
  }
  void resolve(const config::Reader& r) {
    r.check(ood_fraction < 1.0, fmt::format("ood_fraction must be below 1, got {}", ood_fraction));
    r.check(n_ood == 0 || ood_fraction > 0,
            fmt::format("n_ood = {} needs ood_fraction > 0 (set n_ood: 0 for no ood split)", n_ood));
    r.check(n_val == 0 || val_images > 0, fmt::format("n_val = {} needs val_images > 0", n_val));
  }
};

/// The loss of the task: the mean over slots of the per-slot cross-entropy, for logits
/// [B, k·classes] (slot s in columns s·classes …) and labels [B, k].
torch::Tensor slot_cross_entropy(const torch::Tensor& pred, const torch::Tensor& target, int64_t classes);

/// The task's sizes from its options, reading only the image set's headers (probe_images).
TaskShape compositional_shape(const CompositionalOptions& options);
/// The slot of every coordinate of `slots` C×H×W images laid side by side (flattened C×H×(k·W)).
torch::Tensor image_row_slots(int64_t channels, int64_t height, int64_t width, int64_t slots);

/// The held-out class combinations: membership of a class tuple (coded c_0 + C·c_1 + C²·c_2 …).
/// Up to 10⁶ combinations exactly round(fraction·C^k) of them, drawn by a seeded permutation and
/// redrawn until every class stays in every slot among the rest (ConfigError when impossible,
/// e.g. k = 1); beyond, each tuple independently by a seeded hash (the fraction holds to ~1e-4).
class OodSplit {
 public:
  OodSplit(int64_t classes, int64_t slots, double fraction, uint64_t seed);
  bool held_out(int64_t code) const;
  /// A uniformly drawn held-out code (needs fraction > 0).
  int64_t draw_held_out(Rng& rng) const;
  int64_t combinations() const { return combinations_; }
  /// Number of held-out combinations (exact in enumerated mode, expected count otherwise).
  double held_out_count() const;
  bool enumerated() const { return fraction_ == 0 || combinations_ <= kMaxEnumerated; }
  /// Up to this many combinations the held-out set is enumerated exactly.
  static constexpr int64_t kMaxEnumerated = 1000000;

 private:
  double fraction_;
  uint64_t seed_;
  int64_t combinations_;
  std::vector<uint8_t> mask_;        // enumerated mode
  std::vector<int64_t> held_codes_;  // enumerated mode
};

class CompositionalTask : public Task {
 public:
  /// Loads the image set (cached in the process) and draws all tuples.
  CompositionalTask(const CompositionalOptions& options, uint64_t run_seed);

  std::string name() const override { return "compositional"; }
  int64_t input_dim() const override { return channels_ * height_ * width_ * options_.slots; }
  int64_t output_dim() const override { return classes_ * options_.slots; }
  int64_t size(Split split) const override;
  Batch get(Split split, const torch::Tensor& index, const torch::Device& device) const override;
  /// Mean over slots of the per-slot cross-entropy (pred [B, k·C], target [B, k] int64).
  torch::Tensor loss(const torch::Tensor& pred, const torch::Tensor& target) const override;
  /// {"accuracy": mean over slots, "accuracy_slot<s>": per slot}, summed over the batch.
  std::map<std::string, double> metric_sums(const torch::Tensor& pred, const torch::Tensor& target) const override;
  /// One-hot rows of all slots, [B, k·C].
  torch::Tensor target_matrix(const torch::Tensor& y) const override;
  bool classification() const override { return true; }
  int64_t module_count() const override { return options_.slots; }
  torch::Tensor input_slots() const override;

  const CompositionalOptions& options() const { return options_; }
  const OodSplit& ood_split() const { return *ood_; }
  /// The image tuples of a split: int64 [n, k], indices into the training images (train, val) or
  /// the test images (test, ood).
  const torch::Tensor& tuples(Split split) const;
  /// Class labels of a split's tuples, int64 [n, k].
  torch::Tensor tuple_labels(Split split) const;
  /// Per-channel mean and std (in pixel units 0…255) used for normalisation, float [C] each.
  std::pair<torch::Tensor, torch::Tensor> channel_stats() const { return {mean_, std_}; }

 private:
  const ImageSet& images_for(Split split) const;

  CompositionalOptions options_;
  std::shared_ptr<const ImageSet> train_images_, test_images_;
  int64_t channels_, height_, width_, classes_;
  std::unique_ptr<OodSplit> ood_;
  torch::Tensor train_, val_, test_, ood_tuples_;  // int64 [n, k]
  torch::Tensor mean_, std_;                       // float [C]
};

}  // namespace modnet::data
