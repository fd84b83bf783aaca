// What the image readers share: ImageSet, the checks of modnet/data/image_checks.h, the format
// dispatchers load_images and probe_images, and the torch::data view ImageDataset.
#include "modnet/data/images.h"

#include <filesystem>

#include <fmt/format.h>

#include "modnet/core/error.h"
#include "modnet/data/image_checks.h"

namespace modnet::data {
namespace fs = std::filesystem;

// ---- checks shared by the readers ----------------------------------------------------------

namespace detail {
namespace {
void require(const fs::path& p, bool folder, const std::string& what) {
  std::error_code ec;
  MODNET_CHECK_AS(DataError, folder ? fs::is_directory(p, ec) : fs::is_regular_file(p, ec),
                  "{}: {} not found (expected {})", p.string(), folder ? "folder" : "file", what);
}
}  // namespace

void require_dir(const fs::path& dir, const std::string& what) { require(dir, true, what); }
void require_file(const fs::path& file, const std::string& what) { require(file, false, what); }

void check_labels(const torch::Tensor& labels, int64_t begin, int64_t end, int64_t num_classes,
                  const std::string& file) {
  const int64_t* l = labels.data_ptr<int64_t>();
  for (int64_t i = begin; i < end; ++i)
    MODNET_CHECK_AS(DataError, l[i] >= 0 && l[i] < num_classes,
                    "{}: record {} has label {}, expected a label below the number of classes ({})", file,
                    i - begin, l[i], num_classes);
}
}  // namespace detail

// ---- ImageSet ------------------------------------------------------------------------------

torch::Tensor ImageSet::class_counts() const {
  if (!labels.defined() || labels.numel() == 0) return torch::zeros({num_classes()}, torch::kLong);
  return torch::bincount(labels, {}, num_classes());
}

std::string to_string(ImageSplit split) { return split == ImageSplit::train ? "train" : "test"; }

const std::vector<std::string>& fashion_mnist_classes() {
  static const std::vector<std::string> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                 "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return names;
}

// ---- dispatch ------------------------------------------------------------------------------

namespace {
enum class Format { cifar10_binary, image_folder, idx };

// The format that `format` names for `root`, detecting "auto" from the files root holds.
Format resolve_format(const std::string& root, const std::string& format) {
  if (format == "cifar10_binary") return Format::cifar10_binary;
  if (format == "image_folder") return Format::image_folder;
  if (format == "idx") return Format::idx;
  MODNET_CHECK_AS(ConfigError, format == "auto",
                  "image format '{}' for {}: expected one of cifar10_binary, image_folder, idx, auto", format, root);
  detail::require_dir(root, "a data set folder (CIFAR-10 binary, IDX files or an image folder)");
  std::error_code ec;
  const fs::path r(root);
  if (fs::is_regular_file(r / "data_batch_1.bin", ec)) return Format::cifar10_binary;
  if (fs::is_regular_file(r / "train-images-idx3-ubyte", ec) || fs::is_regular_file(r / "train-images-idx3-ubyte.gz", ec))
    return Format::idx;
  return Format::image_folder;
}
}  // namespace

ImageSet load_images(const std::string& root, const std::string& format, ImageSplit split) {
  const Format f = resolve_format(root, format);
  if (f == Format::cifar10_binary) return load_cifar10_binary(root, split);
  if (f == Format::idx) return load_idx_folder(root, split);
  return load_image_folder(root, split);
}

ImageShape probe_images(const std::string& root, const std::string& format, ImageSplit split) {
  const Format f = resolve_format(root, format);
  if (f == Format::cifar10_binary) return probe_cifar10_binary(root, split);
  if (f == Format::idx) return probe_idx_folder(root, split);
  return probe_image_folder(root, split);
}

// ---- ImageDataset --------------------------------------------------------------------------

ImageDataset::ImageDataset(ImageSet set) : set_(std::move(set)) {
  const auto& im = set_.images;
  MODNET_CHECK_AS(DataError, im.defined() && im.dim() == 4 && im.scalar_type() == torch::kUInt8,
                  "ImageDataset: expected uint8 images [N, C, H, W], found {}",
                  im.defined() ? fmt::format("{} of {} dimensions", im.toString(), im.dim()) : "none");
  MODNET_CHECK_AS(DataError, set_.labels.defined() && set_.labels.dim() == 1 && set_.labels.size(0) == set_.size(),
                  "ImageDataset: expected {} labels, found {}", set_.size(),
                  set_.labels.defined() ? set_.labels.numel() : 0);
}

torch::data::Example<> ImageDataset::get(size_t index) {
  TORCH_CHECK_INDEX(int64_t(index) < set_.size(), "ImageDataset::get: index ", index, " out of range for ",
                    set_.size(), " images");
  return {set_.images[int64_t(index)], set_.labels[int64_t(index)]};
}

torch::optional<size_t> ImageDataset::size() const { return size_t(set_.size()); }

}  // namespace modnet::data
