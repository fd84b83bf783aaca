#pragma once
// Internal to the image readers (modnet/data/images.cpp, cifar10_binary.cpp, idx.cpp,
// image_folder.cpp): the checks they share, each a DataError naming the file. Defined in
// images.cpp. Not part of the public API.
#include <cstdint>
#include <filesystem>
#include <string>

#include <torch/torch.h>

namespace modnet::data::detail {

/// Throws DataError "<dir>: folder not found (expected <what>)" unless `dir` is a folder.
void require_dir(const std::filesystem::path& dir, const std::string& what);
/// Throws DataError "<file>: file not found (expected <what>)" unless `file` is a regular file.
void require_file(const std::filesystem::path& file, const std::string& what);

/// Labels [begin, end) of int64 `labels` must name a class (be in [0, num_classes)): the first
/// offending record, counted from `begin`, is reported as a DataError naming `file`.
void check_labels(const torch::Tensor& labels, int64_t begin, int64_t end, int64_t num_classes,
                  const std::string& file);

}  // namespace modnet::data::detail
