#include "modnet/bench/synthetic_images.h"

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "modnet/core/error.h"
#include "modnet/core/log.h"
#include "modnet/core/rng.h"

namespace modnet::bench {
namespace fs = std::filesystem;

data::ImageSet synthetic_image_set(int64_t n, int64_t classes, uint64_t seed) {
  TORCH_CHECK(n >= 1 && classes >= 2 && classes <= 256, "synthetic_image_set: need n >= 1 and 2..256 classes, got n ",
              n, ", classes ", classes);
  auto gen = make_generator(seed);
  data::ImageSet set;
  set.images = torch::randint(0, 256, {n, 3, 32, 32}, gen, torch::kUInt8).contiguous();
  set.labels = torch::arange(n, torch::kLong).remainder(classes);
  for (int64_t c = 0; c < classes; ++c) set.classes.push_back("class" + std::to_string(c));
  return set;
}

namespace {
void write_records(const data::ImageSet& set, int64_t begin, int64_t end, const fs::path& file) {
  constexpr int64_t kPixels = 3 * 32 * 32;
  const auto images = set.images.contiguous();
  const auto* pixels = images.data_ptr<uint8_t>();
  const auto labels = set.labels.accessor<int64_t, 1>();
  std::vector<char> buf(size_t((end - begin) * (kPixels + 1)));
  for (int64_t i = begin; i < end; ++i) {
    char* rec = buf.data() + (i - begin) * (kPixels + 1);
    rec[0] = char(uint8_t(labels[i]));
    std::memcpy(rec + 1, pixels + i * kPixels, size_t(kPixels));
  }
  std::ofstream out(file, std::ios::binary);
  out.write(buf.data(), std::streamsize(buf.size()));
  MODNET_CHECK_AS(DataError, bool(out), "{}: cannot write the synthetic CIFAR-10 batch", file.string());
}
}  // namespace

void write_cifar10_binary(const data::ImageSet& train, const data::ImageSet& test, const std::string& dir) {
  for (const auto* set : {&train, &test}) {
    TORCH_CHECK(set->images.dim() == 4 && set->channels() == 3 && set->height() == 32 && set->width() == 32,
                "write_cifar10_binary: expected images [N, 3, 32, 32], got ", set->images.sizes());
    TORCH_CHECK(set->num_classes() <= 256, "write_cifar10_binary: at most 256 classes, got ", set->num_classes());
  }
  TORCH_CHECK(train.size() >= 5, "write_cifar10_binary: need at least 5 training images (five batches)");
  fs::create_directories(dir);
  const int64_t n = train.size();
  for (int64_t b = 0; b < 5; ++b)
    write_records(train, n * b / 5, n * (b + 1) / 5, fs::path(dir) / fmt::format("data_batch_{}.bin", b + 1));
  write_records(test, 0, test.size(), fs::path(dir) / "test_batch.bin");
  std::ofstream meta(fs::path(dir) / "batches.meta.txt");
  for (const auto& name : train.classes) meta << name << "\n";
}

std::unique_ptr<data::CompositionalTask> make_compositional_task(data::CompositionalOptions options, uint64_t seed,
                                                                 bool* synthetic, int64_t synthetic_train,
                                                                 int64_t synthetic_test) {
  std::error_code ec;
  if (fs::is_directory(options.root, ec)) {
    if (synthetic) *synthetic = false;
    return std::make_unique<data::CompositionalTask>(options, seed);
  }
  if (synthetic) *synthetic = true;
  log::info("{} is absent: using {} + {} synthetic 3x32x32 images of 10 classes", options.root, synthetic_train,
            synthetic_test);
  // A fresh folder per process and call (the task's image cache is keyed by folder).
  static int counter = 0;
  const fs::path dir = fs::temp_directory_path() /
                       fmt::format("modnet_bench_images_{}_{}_{}", ::getpid(), counter++, seed);
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ignore;
      fs::remove_all(dir, ignore);
    }
  } cleanup{dir};
  write_cifar10_binary(synthetic_image_set(synthetic_train, 10, seed), synthetic_image_set(synthetic_test, 10, seed + 1),
                       dir.string());
  options.root = dir.string();
  options.format = "cifar10_binary";
  return std::make_unique<data::CompositionalTask>(options, seed);  // images loaded (and cached) here
}

}  // namespace modnet::bench
