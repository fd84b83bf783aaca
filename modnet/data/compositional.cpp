#include "modnet/data/compositional.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <thread>

#include "modnet/core/error.h"
#include "modnet/core/hash.h"
#include "modnet/core/log.h"
#include "modnet/core/rng.h"

namespace modnet::data {
namespace {

// The image sets of a process, loaded once per (root, format, split): a sweep of many tasks in
// one process, or a test suite, reads the files once.
std::shared_ptr<const ImageSet> cached_images(const std::string& root, const std::string& format, ImageSplit split) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const ImageSet>> cache;
  const std::string key = root + "\n" + format + "\n" + to_string(split);
  std::lock_guard<std::mutex> lock(mutex);
  auto& slot = cache[key];
  if (!slot) {
    const auto t0 = std::chrono::steady_clock::now();
    slot = std::make_shared<const ImageSet>(load_images(root, format, split));
    log::info("loaded {} {} images {}x{}x{} of {} classes from {} in {:.1f}s", slot->size(), to_string(split),
              slot->channels(), slot->height(), slot->width(), slot->num_classes(), root,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return slot;
}

// Image indices grouped by class: pool[c] = indices (into the set) of class c among `allowed`.
std::vector<std::vector<int64_t>> class_pools(const ImageSet& set, const std::vector<int64_t>& allowed) {
  std::vector<std::vector<int64_t>> pools(set.num_classes());
  const auto labels = set.labels.accessor<int64_t, 1>();
  for (int64_t i : allowed) pools[labels[i]].push_back(i);
  return pools;
}

// n tuples whose class codes satisfy `want_held_out` (== held out), one random image of each class.
torch::Tensor draw_tuples(int64_t n, int64_t k, int64_t classes, const OodSplit& ood, bool held_out,
                          const std::vector<std::vector<int64_t>>& pools, const std::string& what, uint64_t seed) {
  for (int64_t c = 0; c < classes; ++c)
    if (pools[c].empty() && n > 0)
      throw DataError(fmt::format("compositional {} split: class {} has no images to draw from", what, c));
  Rng rng(seed);
  auto out = torch::empty({n, k}, torch::kLong);
  auto* p = out.data_ptr<int64_t>();
  std::vector<int64_t> cls(k);
  for (int64_t i = 0; i < n; ++i) {
    if (held_out) {
      int64_t code = ood.draw_held_out(rng);
      for (int64_t s = 0; s < k; ++s, code /= classes) cls[s] = code % classes;
    } else {
      for (int64_t attempt = 0;; ++attempt) {
        if (attempt > 100000) throw Error("compositional: cannot draw a seen class combination");
        int64_t code = 0, scale = 1;
        for (int64_t s = 0; s < k; ++s, scale *= classes) {
          cls[s] = int64_t(rng.below(uint64_t(classes)));
          code += cls[s] * scale;
        }
        if (!ood.held_out(code)) break;
      }
    }
    for (int64_t s = 0; s < k; ++s) {
      const auto& pool = pools[cls[s]];
      p[i * k + s] = pool[rng.below(pool.size())];
    }
  }
  return out;
}

}  // namespace

// ---- OodSplit --------------------------------------------------------------------------------------

OodSplit::OodSplit(int64_t classes, int64_t slots, double fraction, uint64_t seed)
    : fraction_(fraction), seed_(seed) {
  TORCH_CHECK(classes >= 2 && slots >= 1, "OodSplit: need >= 2 classes and >= 1 slot");
  TORCH_CHECK(fraction >= 0 && fraction < 1, "OodSplit: fraction must be in [0, 1), got ", fraction);
  double total = std::pow(double(classes), double(slots));
  TORCH_CHECK(total < 9e18, "OodSplit: ", classes, "^", slots, " class combinations do not fit in int64");
  combinations_ = 1;
  for (int64_t s = 0; s < slots; ++s) combinations_ *= classes;
  if (fraction == 0 || combinations_ > kMaxEnumerated) return;

  const auto held = int64_t(std::llround(fraction * double(combinations_)));
  if (held == 0) return;
  for (int64_t attempt = 0; attempt < 100; ++attempt) {
    Rng rng(derive_seed(seed, "ood-" + std::to_string(attempt)));
    const auto perm = permutation(combinations_, rng);
    const auto* order = perm.data_ptr<int64_t>();
    mask_.assign(size_t(combinations_), 0);
    for (int64_t i = 0; i < held; ++i) mask_[size_t(order[i])] = 1;
    // Every class must stay in every slot among the seen combinations.
    std::vector<int64_t> seen(size_t(classes * slots), 0);
    for (int64_t code = 0; code < combinations_; ++code) {
      if (mask_[size_t(code)]) continue;
      int64_t c = code;
      for (int64_t s = 0; s < slots; ++s, c /= classes) ++seen[size_t(s * classes + c % classes)];
    }
    if (std::find(seen.begin(), seen.end(), 0) == seen.end()) {
      held_codes_.assign(order, order + held);
      std::sort(held_codes_.begin(), held_codes_.end());
      return;
    }
  }
  throw ConfigError(fmt::format(
      "task.ood_fraction = {}: cannot hold out {} of the {} class combinations of {} slot(s) and keep every "
      "class in every slot in training (use ood_fraction: 0 for k = 1)",
      fraction, held, combinations_, slots));
}

bool OodSplit::held_out(int64_t code) const {
  if (fraction_ == 0) return false;
  if (!mask_.empty()) return mask_[size_t(code)] != 0;
  if (combinations_ <= kMaxEnumerated) return false;  // fraction rounds to no combination
  return double(hash::splitmix64(seed_ ^ hash::splitmix64(uint64_t(code))) >> 11) * 0x1.0p-53 < fraction_;
}

int64_t OodSplit::draw_held_out(Rng& rng) const {
  if (!held_codes_.empty()) return held_codes_[rng.below(held_codes_.size())];
  TORCH_CHECK(combinations_ > kMaxEnumerated && fraction_ > 0, "OodSplit: no held-out combinations to draw");
  for (;;) {
    const auto code = int64_t(rng.below(uint64_t(combinations_)));
    if (held_out(code)) return code;
  }
}

double OodSplit::held_out_count() const {
  if (enumerated()) return double(held_codes_.size());
  return fraction_ * double(combinations_);
}

// ---- CompositionalTask -----------------------------------------------------------------------------

CompositionalTask::CompositionalTask(const CompositionalOptions& options, uint64_t run_seed) : options_(options) {
  const uint64_t seed = options.seed ? uint64_t(*options.seed) : derive_seed(run_seed, "task");
  train_images_ = cached_images(options.root, options.format, ImageSplit::train);
  test_images_ = cached_images(options.root, options.format, ImageSplit::test);
  const auto& tr = *train_images_;
  const auto& te = *test_images_;
  channels_ = tr.channels(), height_ = tr.height(), width_ = tr.width(), classes_ = tr.num_classes();
  if (te.channels() != channels_ || te.height() != height_ || te.width() != width_ || te.num_classes() != classes_)
    throw DataError(fmt::format("{}: test images are {}x{}x{} of {} classes but training images {}x{}x{} of {}",
                                options.root, te.channels(), te.height(), te.width(), te.num_classes(), channels_,
                                height_, width_, classes_));
  if (options.val_images >= tr.size())
    throw ConfigError(fmt::format("task.val_images = {} must be below the {} training images", options.val_images,
                                  tr.size()));
  const int64_t k = options.slots;
  // One slot has no class combinations to hold out: holding out classes would remove them from
  // training, so k = 1 has no ood split.
  if (k == 1 && options.ood_fraction > 0) log::info("task: one slot has no class combinations to hold out; no ood split");
  ood_ = std::make_unique<OodSplit>(classes_, k, k == 1 ? 0.0 : options.ood_fraction, derive_seed(seed, "ood-combinations"));

  // Hold out val_images random training images for the validation tuples, stratified: each class
  // gives its share (so every class stays in both pools).
  Rng split_rng(derive_seed(seed, "val-images"));
  const auto perm = permutation(tr.size(), split_rng);
  const auto* order = perm.data_ptr<int64_t>();
  const auto counts = tr.class_counts();
  std::vector<int64_t> val_quota(static_cast<size_t>(classes_)), taken(static_cast<size_t>(classes_), 0);
  for (int64_t c = 0; c < classes_; ++c)
    val_quota[size_t(c)] = options.val_images * counts[c].item<int64_t>() / tr.size();
  std::vector<int64_t> val_ids, train_ids;
  const auto labels = tr.labels.accessor<int64_t, 1>();
  for (int64_t i = 0; i < tr.size(); ++i) {
    const int64_t id = order[i], c = labels[id];
    if (taken[size_t(c)] < val_quota[size_t(c)]) {
      ++taken[size_t(c)];
      val_ids.push_back(id);
    } else {
      train_ids.push_back(id);
    }
  }
  std::vector<int64_t> test_ids(size_t(te.size()));
  for (int64_t i = 0; i < te.size(); ++i) test_ids[size_t(i)] = i;

  const auto train_pools = class_pools(tr, train_ids);
  train_ = draw_tuples(options.n_train, k, classes_, *ood_, false, train_pools, "train", derive_seed(seed, "train"));
  val_ = options.n_val > 0 ? draw_tuples(options.n_val, k, classes_, *ood_, false, class_pools(tr, val_ids), "val",
                                         derive_seed(seed, "val"))
                           : torch::empty({0, k}, torch::kLong);
  const auto test_pools = class_pools(te, test_ids);
  test_ = draw_tuples(options.n_test, k, classes_, *ood_, false, test_pools, "test", derive_seed(seed, "test"));
  ood_tuples_ = options.n_ood > 0 && ood_->held_out_count() > 0
                    ? draw_tuples(options.n_ood, k, classes_, *ood_, true, test_pools, "ood", derive_seed(seed, "ood"))
                    : torch::empty({0, k}, torch::kLong);
  if (k > 1 && options.n_ood > 0 && ood_tuples_.size(0) == 0)
    log::warn("task: ood_fraction {} of {} class combinations holds none out; the ood split is empty",
              options.ood_fraction, ood_->combinations());

  // Per-channel statistics of the training images (pixel units), for normalisation.
  if (options.normalize) {
    // Exact, from a histogram of the 256 pixel values per channel (a float64 copy of 45 000 images
    // would be 1.1 GB and most of the task's construction time).
    const int64_t hw = height_ * width_;
    std::vector<int64_t> histogram(size_t(channels_ * 256), 0);
    const auto images = tr.images.contiguous();
    const auto* pixels = images.data_ptr<uint8_t>();
    for (const int64_t id : train_ids)
      for (int64_t c = 0; c < channels_; ++c) {
        const uint8_t* plane = pixels + (id * channels_ + c) * hw;
        int64_t* h = histogram.data() + c * 256;
        for (int64_t i = 0; i < hw; ++i) ++h[plane[i]];
      }
    mean_ = torch::empty({channels_});
    std_ = torch::empty({channels_});
    const double count = double(train_ids.size()) * double(hw);
    for (int64_t c = 0; c < channels_; ++c) {
      const int64_t* h = histogram.data() + c * 256;
      double sum = 0;
      for (int v = 0; v < 256; ++v) sum += double(v) * double(h[v]);
      const double mean = sum / count;
      double squares = 0;
      for (int v = 0; v < 256; ++v) squares += (double(v) - mean) * (double(v) - mean) * double(h[v]);
      mean_[c] = float(mean);
      std_[c] = float(std::max(std::sqrt(squares / std::max(1.0, count - 1)), 1e-6));  // unbiased, as torch::std
    }
  } else {
    mean_ = torch::zeros({channels_});
    std_ = torch::full({channels_}, 255.0f);
  }
}

int64_t CompositionalTask::size(Split split) const { return tuples(split).size(0); }

const torch::Tensor& CompositionalTask::tuples(Split split) const {
  switch (split) {
    case Split::train: return train_;
    case Split::val: return val_;
    case Split::test: return test_;
    case Split::ood: return ood_tuples_;
  }
  return test_;
}

const ImageSet& CompositionalTask::images_for(Split split) const {
  return split == Split::train || split == Split::val ? *train_images_ : *test_images_;
}

torch::Tensor CompositionalTask::tuple_labels(Split split) const {
  const auto& t = tuples(split);
  return images_for(split).labels.index_select(0, t.reshape({-1})).view(t.sizes());
}

namespace {

// The CPU batch in one pass: out[b, c, h, s·W + w] = (image[tuple[b, s]][c, h, w] − mean_c)·inv_std_c,
// reading the uint8 images once and writing every float once (rows split over the cores). The
// tensor-op version (gather, convert, normalise, permute-copy) makes four passes and two
// temporaries; modnet-bench's compositional-data workload measures the difference.
void assemble_cpu(const torch::Tensor& images, const int64_t* ids, int64_t B, int64_t k, const float* scale,
                  const float* shift, float* out) {
  const int64_t C = images.size(1), H = images.size(2), W = images.size(3), plane = H * W, image = C * plane;
  const uint8_t* src = images.data_ptr<uint8_t>();
  auto rows = [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      float* o = out + b * C * H * k * W;
      for (int64_t c = 0; c < C; ++c)
        for (int64_t h = 0; h < H; ++h)
          for (int64_t s = 0; s < k; ++s) {
            const uint8_t* in = src + ids[b * k + s] * image + c * plane + h * W;
            for (int64_t w = 0; w < W; ++w) *o++ = float(in[w]) * scale[c] + shift[c];
          }
    }
  };
  const int64_t workers = B >= 64 ? std::min<int64_t>(B, std::max(1u, std::thread::hardware_concurrency())) : 1;
  if (workers == 1) return rows(0, B);
  std::vector<std::thread> threads;
  const int64_t chunk = (B + workers - 1) / workers;
  for (int64_t w = 1; w < workers; ++w) threads.emplace_back(rows, w * chunk, std::min(B, (w + 1) * chunk));
  rows(0, std::min(B, chunk));
  for (auto& t : threads) t.join();
}

}  // namespace

Batch CompositionalTask::get(Split split, const torch::Tensor& index, const torch::Device& device) const {
  const auto& set = images_for(split);
  const int64_t k = options_.slots, B = index.size(0);
  const auto flat = tuples(split).index_select(0, index.to(torch::kLong)).reshape({-1}).contiguous();  // [B·k]
  auto y = set.labels.index_select(0, flat).view({B, k}).to(device);
  const auto scale = 1.0f / std_, shift = -mean_ / std_;
  if (device.is_cpu()) {
    auto x = torch::empty({B, input_dim()}, torch::kFloat);
    assemble_cpu(set.images, flat.data_ptr<int64_t>(), B, k, scale.contiguous().data_ptr<float>(),
                 shift.contiguous().data_ptr<float>(), x.data_ptr<float>());
    return {x, y};
  }
  // On a GPU: move the uint8 pixels, normalise there, lay the slots side by side:
  // [B, k, C, H, W] -> [B, C, H, k, W].
  auto pixels = set.images.index_select(0, flat).to(device);  // uint8 [B·k, C, H, W]
  auto x = torch::addcmul(shift.to(device).view({1, channels_, 1, 1}), pixels.to(torch::kFloat),
                          scale.to(device).view({1, channels_, 1, 1}));
  x = x.view({B, k, channels_, height_, width_}).permute({0, 2, 3, 1, 4}).reshape({B, input_dim()});
  return {x, y};
}

torch::Tensor CompositionalTask::loss(const torch::Tensor& pred, const torch::Tensor& target) const {
  TORCH_CHECK(pred.dim() == 2 && pred.size(1) == output_dim() && target.dim() == 2 &&
                  target.size(1) == options_.slots && pred.size(0) == target.size(0),
              "CompositionalTask::loss: expected logits [B, ", output_dim(), "] and labels [B, ", options_.slots,
              "], got ", pred.sizes(), " and ", target.sizes());
  return slot_cross_entropy(pred, target, classes_);
}

torch::Tensor slot_cross_entropy(const torch::Tensor& pred, const torch::Tensor& target, int64_t classes) {
  return torch::nn::functional::cross_entropy(pred.reshape({-1, classes}), target.reshape({-1}));
}

std::map<std::string, double> CompositionalTask::metric_sums(const torch::Tensor& pred,
                                                             const torch::Tensor& target) const {
  const int64_t k = options_.slots;
  const auto correct = pred.detach().view({-1, k, classes_}).argmax(2).eq(target).to(torch::kDouble);  // [B, k]
  const auto per_slot = correct.sum(0).cpu();
  std::map<std::string, double> out;
  out["accuracy"] = per_slot.sum().item<double>() / double(k);
  if (k > 1)
    for (int64_t s = 0; s < k; ++s) out["accuracy_slot" + std::to_string(s)] = per_slot[s].item<double>();
  return out;
}

torch::Tensor CompositionalTask::target_matrix(const torch::Tensor& y) const {
  return torch::one_hot(y, classes_).to(torch::kFloat).reshape({y.size(0), -1});
}

torch::Tensor image_row_slots(int64_t channels, int64_t height, int64_t width, int64_t slots) {
  // Coordinate (c, h, j) of the flattened C×H×(k·W) image belongs to slot j / W.
  return torch::div(torch::arange(width * slots, torch::kLong), width, "floor")
      .view({1, 1, -1})
      .expand({channels, height, -1})
      .reshape({-1})
      .contiguous();
}

torch::Tensor CompositionalTask::input_slots() const {
  return image_row_slots(channels_, height_, width_, options_.slots);
}

TaskShape compositional_shape(const CompositionalOptions& o) {
  const auto s = probe_images(o.root, o.format, ImageSplit::train);
  return TaskShape{s.channels * s.height * s.width * o.slots, s.classes * o.slots, o.slots,
                   image_row_slots(s.channels, s.height, s.width, o.slots)};
}

}  // namespace modnet::data
