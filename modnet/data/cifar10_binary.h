#pragma once
// Reader of CIFAR-10's official binary release (data_batch_1.bin … data_batch_5.bin,
// test_batch.bin, batches.meta.txt) into an ImageSet. Part of modnet/data/images.h.
#include <string>

#include "modnet/data/images.h"

namespace modnet::data {

/// CIFAR-10 official binary release in `root` (the folder holding data_batch_1.bin … 5 and
/// test_batch.bin, e.g. cifar-10-batches-bin/): 3×32×32, 10 classes; records of 1 label byte +
/// 3072 pixel bytes (R, G, B planes). Class names from batches.meta.txt when present.
ImageSet load_cifar10_binary(const std::string& root, ImageSplit split);

/// The shape load_cifar10_binary would return: checks that the batches exist and that their sizes
/// are whole records (the same DataErrors), reads batches.meta.txt but no record.
ImageShape probe_cifar10_binary(const std::string& root, ImageSplit split);

}  // namespace modnet::data
