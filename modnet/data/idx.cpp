// Reader of IDX files (MNIST, Fashion-MNIST) through zlib, so plain and gzip files read alike.
#include "modnet/data/idx.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <zlib.h>

#include "modnet/core/error.h"
#include "modnet/data/image_checks.h"

namespace modnet::data {
namespace fs = std::filesystem;

namespace {

std::vector<std::string> digit_classes() { return {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}; }

// A file read through zlib: gzread passes plain files through unchanged, so gzip is detected
// from the content, not from the name.
class GzFile {
 public:
  explicit GzFile(const std::string& path) : path_(path) {
    detail::require_file(path, "an IDX file, plain or gzip");
    f_ = gzopen(path.c_str(), "rb");
    MODNET_CHECK_AS(DataError, f_ != nullptr, "{}: cannot open for reading", path);
    file_size_ = int64_t(fs::file_size(path));
  }
  ~GzFile() {
    if (f_) gzclose(f_);
  }
  GzFile(const GzFile&) = delete;
  void operator=(const GzFile&) = delete;

  // Reads up to n bytes into dst; returns how many were read (fewer at the end of the data).
  int64_t read(void* dst, int64_t n) {
    auto* out = static_cast<unsigned char*>(dst);
    int64_t done = 0;
    while (done < n) {
      const unsigned chunk = unsigned(std::min<int64_t>(n - done, int64_t(1) << 30));
      const int got = gzread(f_, out + done, chunk);
      int code = 0;
      MODNET_CHECK_AS(DataError, got >= 0, "{}: read error after {} bytes ({})", path_, done, gzerror(f_, &code));
      if (got == 0) break;
      done += got;
    }
    return done;
  }

  // Reads exactly n bytes of `what`, or throws naming how many the file (after unzipping) had.
  void read_exact(void* dst, int64_t n, int64_t offset, const std::string& what) {
    const int64_t got = read(dst, n);
    MODNET_CHECK_AS(DataError, got == n, "{}: truncated IDX file: expected {} bytes of {} at offset {}, found {}",
                    path_, n, what, offset, got);
  }

  // Before allocating what a header promises: deflate shrinks data at most ~1032-fold, so a file
  // that cannot hold `size` bytes is reported as truncated without trying to allocate them.
  void expect_room(double size) {  // double: a malformed header's product can overflow int64
    const int64_t most = gzdirect(f_) ? file_size_ : file_size_ * 1032 + 64;
    MODNET_CHECK_AS(DataError, size <= double(most), "{}: truncated IDX file: its header promises {} bytes, but a {}file "
                    "of {} bytes holds at most {}", path_, size, gzdirect(f_) ? "" : "gzip ", file_size_, most);
  }

  void expect_end(int64_t expected_size) {
    char extra = 0;
    MODNET_CHECK_AS(DataError, read(&extra, 1) == 0,
                    "{}: IDX file is longer than its header says: expected {} bytes (uncompressed), found more",
                    path_, expected_size);
  }

 private:
  std::string path_;
  gzFile f_ = nullptr;
  int64_t file_size_ = 0;
};

uint32_t big_endian(const unsigned char* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

// Reads the header of an IDX file: the magic number, then one big-endian uint32 per dimension.
std::vector<int64_t> read_idx_header(GzFile& f, const std::string& path, uint32_t magic, const char* what) {
  unsigned char word[4];
  f.read_exact(word, 4, 0, "magic number");
  const uint32_t found = big_endian(word);
  MODNET_CHECK_AS(DataError, found == magic,
                  "{}: bad IDX magic number: expected 0x{:08x} ({}), found 0x{:08x}", path, magic, what, found);
  std::vector<int64_t> dims(magic & 0xff);
  for (size_t d = 0; d < dims.size(); ++d) {
    f.read_exact(word, 4, 4 + 4 * int64_t(d), "header");
    dims[d] = big_endian(word);
  }
  return dims;
}

// The image file's header [N, H, W], checked against the size of the file.
std::vector<int64_t> read_images_header(GzFile& f, const std::string& path) {
  const auto dims = read_idx_header(f, path, 0x00000803, "uint8 images, 3 dimensions");
  f.expect_room(16 + double(dims[0]) * double(dims[1]) * double(dims[2]));
  return dims;
}

// Reads the label file's header: N, checked against the number of images and the size of the file.
void read_labels_header(GzFile& f, const std::string& labels_path, const std::string& images_path, int64_t n) {
  const int64_t nl = read_idx_header(f, labels_path, 0x00000801, "uint8 labels, 1 dimension")[0];
  MODNET_CHECK_AS(DataError, nl == n, "{}: {} labels, but {} holds {} images (expected as many labels as images)",
                  labels_path, nl, images_path, n);
  f.expect_room(8 + double(n));
}

fs::path find_idx(const fs::path& root, const std::string& name) {
  for (const std::string& candidate : {name, name + ".gz"}) {
    std::error_code ec;
    if (fs::is_regular_file(root / candidate, ec)) return root / candidate;
  }
  throw DataError(fmt::format("{}: no {} or {}.gz (expected IDX files as in Fashion-MNIST/MNIST)", root.string(),
                              name, name));
}

// The image and label files of `split` in `root`.
std::pair<fs::path, fs::path> find_idx_pair(const std::string& root, ImageSplit split) {
  detail::require_dir(root, "a folder of IDX files (train-images-idx3-ubyte[.gz], ...)");
  const std::string prefix = split == ImageSplit::train ? "train" : "t10k";
  fs::path images = find_idx(root, prefix + "-images-idx3-ubyte");
  fs::path labels = find_idx(root, prefix + "-labels-idx1-ubyte");
  return {std::move(images), std::move(labels)};
}

}  // namespace

ImageSet load_idx(const std::string& images_path, const std::string& labels_path, std::vector<std::string> classes) {
  ImageSet set;
  set.classes = classes.empty() ? digit_classes() : std::move(classes);

  GzFile fi(images_path);
  const auto dims = read_images_header(fi, images_path);
  const int64_t n = dims[0], h = dims[1], w = dims[2];
  set.images = torch::empty({n, 1, h, w}, torch::kUInt8);
  fi.read_exact(set.images.data_ptr<uint8_t>(), n * h * w, 16, fmt::format("{} images of {}x{}", n, h, w));
  fi.expect_end(16 + n * h * w);

  GzFile fl(labels_path);
  read_labels_header(fl, labels_path, images_path, n);
  auto raw = torch::empty({n}, torch::kUInt8);
  fl.read_exact(raw.data_ptr<uint8_t>(), n, 8, fmt::format("{} labels", n));
  fl.expect_end(8 + n);
  set.labels = raw.to(torch::kLong);
  detail::check_labels(set.labels, 0, n, set.num_classes(), labels_path);
  return set;
}

ImageSet load_idx_folder(const std::string& root, ImageSplit split, std::vector<std::string> classes) {
  const auto [images, labels] = find_idx_pair(root, split);
  return load_idx(images.string(), labels.string(), std::move(classes));
}

ImageShape probe_idx(const std::string& images_path, const std::string& labels_path,
                     const std::vector<std::string>& classes) {
  GzFile fi(images_path);
  const auto dims = read_images_header(fi, images_path);
  GzFile fl(labels_path);
  read_labels_header(fl, labels_path, images_path, dims[0]);
  return {1, dims[1], dims[2], classes.empty() ? int64_t(digit_classes().size()) : int64_t(classes.size())};
}

ImageShape probe_idx_folder(const std::string& root, ImageSplit split, const std::vector<std::string>& classes) {
  const auto [images, labels] = find_idx_pair(root, split);
  return probe_idx(images.string(), labels.string(), classes);
}

}  // namespace modnet::data
