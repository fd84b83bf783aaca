#pragma once
// Synthetic CIFAR-shaped image sets for modnet-bench's compositional-data workload on machines
// without the CIFAR-10 images. The set is written in CIFAR-10's binary format to a temporary folder
// and read back by the ordinary CompositionalTask, so the benchmark times exactly the code path of
// real runs (index_select gathers from the pre-loaded uint8 tensor).
#include <memory>
#include <string>

#include "modnet/data/compositional.h"
#include "modnet/data/images.h"

namespace modnet::bench {

/// n random uint8 images [n, 3, 32, 32] with labels 0…classes−1 in turn (every class present).
data::ImageSet synthetic_image_set(int64_t n, int64_t classes, uint64_t seed);

/// Writes `train` and `test` (3×32×32 images, ≤ 256 classes) as the CIFAR-10 binary release in
/// `dir`: data_batch_1.bin … data_batch_5.bin (train split in five parts) and test_batch.bin.
void write_cifar10_binary(const data::ImageSet& train, const data::ImageSet& test, const std::string& dir);

/// A CompositionalTask on options.root when that folder exists; otherwise on a synthetic set of
/// `synthetic_train` + `synthetic_test` images of 10 classes (options.root/format replaced by a
/// temporary CIFAR-10 binary folder, deleted once the images are loaded). `synthetic` (when given)
/// says which happened.
std::unique_ptr<data::CompositionalTask> make_compositional_task(data::CompositionalOptions options, uint64_t seed,
                                                                 bool* synthetic = nullptr,
                                                                 int64_t synthetic_train = 50000,
                                                                 int64_t synthetic_test = 10000);

}  // namespace modnet::bench
