#pragma once
// Labelled image collections held in memory as one uint8 tensor, and the readers that load them:
//   - CIFAR-10's official binary release (data_batch_1..5.bin, test_batch.bin);
//   - image folders root/<split>/<class>/*.{png,jpg,jpeg,bmp,ppm,pgm} read with OpenCV
//     (only when built with MODNET_WITH_OPENCV);
//   - IDX files (MNIST, Fashion-MNIST), plain or gzip-compressed.
// Every reader validates what it reads: a malformed file is a DataError naming the file and what
// was expected against what was found.
#include <string>
#include <vector>

#include <torch/torch.h>

namespace modnet::data {

/// N images of C×H×W pixels with a class label each.
struct ImageSet {
  torch::Tensor images;              // uint8 [N, C, H, W], contiguous, CPU
  torch::Tensor labels;              // int64 [N], values in [0, classes.size())
  std::vector<std::string> classes;  // class names, index = label

  int64_t size() const { return images.defined() ? images.size(0) : 0; }
  int64_t channels() const { return images.size(1); }
  int64_t height() const { return images.size(2); }
  int64_t width() const { return images.size(3); }
  int64_t num_classes() const { return int64_t(classes.size()); }
  /// Number of images of each class: int64 [num_classes].
  torch::Tensor class_counts() const;
};

/// Which half of a data set to read.
enum class ImageSplit { train, test };
std::string to_string(ImageSplit split);

/// CIFAR-10 official binary release in `root` (the folder holding data_batch_1.bin … 5 and
/// test_batch.bin, e.g. cifar-10-batches-bin/): 3×32×32, 10 classes; records of 1 label byte +
/// 3072 pixel bytes (R, G, B planes). Class names from batches.meta.txt when present.
ImageSet load_cifar10_binary(const std::string& root, ImageSplit split);

/// Image folder root/<split>/<class>/<file> (split "train" or "test"): classes are the sorted
/// sub-folder names, files read in sorted order with OpenCV, converted to RGB (or kept grey when
/// every image is single-channel). All images must have the same size. Throws DataError when
/// built without OpenCV.
ImageSet load_image_folder(const std::string& root, ImageSplit split);

/// IDX image file ([N, H, W] uint8, magic 0x00000803) and label file ([N] uint8, magic
/// 0x00000801), each plain or .gz (detected from the content, not the name). `classes` names the
/// labels (defaults to "0".."9"); labels must be below their number.
ImageSet load_idx(const std::string& images_path, const std::string& labels_path,
                  std::vector<std::string> classes = {});

/// Fashion-MNIST (or MNIST) in `root` as the IDX files train-images-idx3-ubyte[.gz],
/// train-labels-idx1-ubyte[.gz], t10k-…: the layout of Debian's dataset-fashion-mnist
/// (/usr/share/datasets/fashion-mnist) and of the original downloads. Classes default to "0".."9"
/// as in load_idx; pass fashion_mnist_classes() for Fashion-MNIST's names.
ImageSet load_idx_folder(const std::string& root, ImageSplit split, std::vector<std::string> classes = {});

/// Reads `root` in `format`: "cifar10_binary" | "image_folder" | "idx" | "auto" (auto: binary
/// CIFAR-10 when root holds data_batch_1.bin, IDX when it holds train-images-idx3-ubyte[.gz],
/// otherwise an image folder; IDX classes are then "0".."9"). An unknown format is a ConfigError.
ImageSet load_images(const std::string& root, const std::string& format, ImageSplit split);

/// The class names of Fashion-MNIST, in label order.
const std::vector<std::string>& fashion_mnist_classes();

/// torch::data view of an ImageSet, like torch::data::datasets::MNIST: get(i) returns
/// {image uint8 [C, H, W], label int64 scalar} (views, no copy); an index past the end is a
/// c10::IndexError.
class ImageDataset : public torch::data::datasets::Dataset<ImageDataset> {
 public:
  explicit ImageDataset(ImageSet set);
  torch::data::Example<> get(size_t index) override;
  torch::optional<size_t> size() const override;
  const ImageSet& set() const { return set_; }

 private:
  ImageSet set_;
};

}  // namespace modnet::data
