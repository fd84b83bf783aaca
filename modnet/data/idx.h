#pragma once
// Reader of IDX files (MNIST, Fashion-MNIST), plain or gzip-compressed, into an ImageSet.
// Part of modnet/data/images.h.
#include <string>
#include <vector>

#include "modnet/data/images.h"

namespace modnet::data {

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

/// The shape load_idx would return, from the two headers only (magic numbers, dimensions, as many
/// labels as images, files large enough for what their headers promise; the same DataErrors).
/// Pixels and labels are not read, so a truncated body or a label out of range is not found.
ImageShape probe_idx(const std::string& images_path, const std::string& labels_path,
                     const std::vector<std::string>& classes = {});

/// The shape load_idx_folder would return, as probe_idx.
ImageShape probe_idx_folder(const std::string& root, ImageSplit split, const std::vector<std::string>& classes = {});

}  // namespace modnet::data
