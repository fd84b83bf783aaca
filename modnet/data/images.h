#pragma once
// Labelled image collections held in memory as one uint8 tensor, and what is common to their
// readers: the set and split types, the format dispatcher load_images, and probe_images (the shape
// a set would have, without reading its pixels). One reader per format, each in its own unit and
// included at the end of this header:
//   - modnet/data/cifar10_binary.h: CIFAR-10's official binary release (data_batch_1..5.bin,
//     test_batch.bin);
//   - modnet/data/image_folder.h: image folders root/<split>/<class>/*.{png,jpg,jpeg,bmp,ppm,pgm}
//     read with OpenCV (only when built with MODNET_WITH_OPENCV; image_folder_supported() tells);
//   - modnet/data/idx.h: IDX files (MNIST, Fashion-MNIST), plain or gzip-compressed.
// Every reader validates what it reads: a malformed file is a DataError naming the file and what
// was expected against what was found.
#include <cstdint>
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

/// The shape of an image set, known without reading its pixels: each image is channels×height×
/// width, each label below `classes`.
struct ImageShape {
  int64_t channels, height, width, classes;
};

/// Reads `root` in `format`: "cifar10_binary" | "image_folder" | "idx" | "auto" (auto: binary
/// CIFAR-10 when root holds data_batch_1.bin, IDX when it holds train-images-idx3-ubyte[.gz],
/// otherwise an image folder; IDX classes are then "0".."9"). An unknown format is a ConfigError.
ImageSet load_images(const std::string& root, const std::string& format, ImageSplit split);

/// The shape of the set load_images(root, format, split) would return, without reading all the
/// pixels: CIFAR-10 binary checks that the batches exist and have a valid size (3×32×32; the
/// classes of batches.meta.txt, or 10), IDX reads only the headers, an image folder lists its
/// classes and files and decodes the first image (its channels: a folder whose first image is grey
/// but that holds a colour image loads as 3 channels). A missing or malformed root is the same
/// DataError (naming the file) as from load_images; an unknown format the same ConfigError. For
/// checking configs (e.g. a sweep's --dry-run) without loading the data.
ImageShape probe_images(const std::string& root, const std::string& format, ImageSplit split);

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

// The readers, after the types they use (each of them includes this header first, so either
// order of inclusion declares everything).
#include "modnet/data/cifar10_binary.h"
#include "modnet/data/idx.h"
#include "modnet/data/image_folder.h"
