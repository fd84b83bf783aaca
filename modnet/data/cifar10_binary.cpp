// Reader of CIFAR-10's official binary release: records of 1 label byte + 3072 pixel bytes.
#include "modnet/data/cifar10_binary.h"

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include <fmt/format.h>

#include "modnet/core/error.h"
#include "modnet/data/image_checks.h"

namespace modnet::data {
namespace fs = std::filesystem;
using detail::require_dir;
using detail::require_file;

namespace {

constexpr int64_t kCifarSide = 32;
constexpr int64_t kCifarPixels = 3 * kCifarSide * kCifarSide;  // 3072
constexpr int64_t kCifarRecord = 1 + kCifarPixels;              // 3073

// The batch files of `split`, each checked to exist and to hold whole records.
struct Batches {
  std::vector<fs::path> files;
  std::vector<int64_t> records;  // per file
  int64_t total = 0;
};

Batches find_batches(const std::string& root, ImageSplit split) {
  require_dir(root, "the CIFAR-10 binary release: data_batch_1.bin ... data_batch_5.bin, test_batch.bin");
  Batches b;
  if (split == ImageSplit::train) {
    for (int i = 1; i <= 5; ++i) b.files.push_back(fs::path(root) / fmt::format("data_batch_{}.bin", i));
  } else {
    b.files.push_back(fs::path(root) / "test_batch.bin");
  }
  for (const auto& f : b.files) {
    require_file(f, "a CIFAR-10 binary batch");
    const auto bytes = int64_t(fs::file_size(f));
    MODNET_CHECK_AS(DataError, bytes > 0 && bytes % kCifarRecord == 0,
                    "{}: wrong size for a CIFAR-10 binary batch: expected a non-zero multiple of {} bytes "
                    "(1 label byte + 3072 pixel bytes per image), found {} bytes",
                    f.string(), kCifarRecord, bytes);
    b.records.push_back(bytes / kCifarRecord);
    b.total += b.records.back();
  }
  return b;
}

// The class names: those of batches.meta.txt when present, CIFAR-10's otherwise.
std::vector<std::string> class_names(const std::string& root) {
  const fs::path meta = fs::path(root) / "batches.meta.txt";
  std::error_code ec;
  if (fs::is_regular_file(meta, ec)) {
    std::ifstream in(meta);  // one name a line, blank lines after them
    std::vector<std::string> names;
    for (std::string name; in >> name;) names.push_back(name);
    if (!names.empty()) return names;
  }
  return {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
}

}  // namespace

ImageSet load_cifar10_binary(const std::string& root, ImageSplit split) {
  const Batches batches = find_batches(root, split);
  const auto& files = batches.files;
  const auto& records = batches.records;

  ImageSet set;
  set.classes = class_names(root);
  set.images = torch::empty({batches.total, 3, kCifarSide, kCifarSide}, torch::kUInt8);
  set.labels = torch::empty({batches.total}, torch::kLong);
  uint8_t* img = set.images.data_ptr<uint8_t>();
  int64_t* lab = set.labels.data_ptr<int64_t>();
  std::vector<char> buf;
  int64_t at = 0;
  for (size_t k = 0; k < files.size(); ++k) {
    buf.resize(size_t(records[k] * kCifarRecord));
    std::ifstream in(files[k], std::ios::binary);
    in.read(buf.data(), std::streamsize(buf.size()));
    MODNET_CHECK_AS(DataError, in.gcount() == std::streamsize(buf.size()), "{}: read {} of {} bytes",
                    files[k].string(), int64_t(in.gcount()), int64_t(buf.size()));
    for (int64_t r = 0; r < records[k]; ++r) {  // label byte, then the R, G and B planes = [3, 32, 32]
      const char* rec = buf.data() + r * kCifarRecord;
      lab[at + r] = int64_t(uint8_t(rec[0]));
      std::memcpy(img + (at + r) * kCifarPixels, rec + 1, size_t(kCifarPixels));
    }
    detail::check_labels(set.labels, at, at + records[k], set.num_classes(), files[k].string());
    at += records[k];
  }
  return set;
}

ImageShape probe_cifar10_binary(const std::string& root, ImageSplit split) {
  find_batches(root, split);
  return {3, kCifarSide, kCifarSide, int64_t(class_names(root).size())};
}

}  // namespace modnet::data
