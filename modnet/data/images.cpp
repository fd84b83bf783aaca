// Readers of labelled image collections: CIFAR-10 binary, image folders (OpenCV), IDX (+gzip).
#include "modnet/data/images.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <zlib.h>

#ifdef MODNET_WITH_OPENCV
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#endif

#include "modnet/core/error.h"

namespace modnet::data {
namespace fs = std::filesystem;

namespace {

constexpr int64_t kCifarSide = 32;
constexpr int64_t kCifarPixels = 3 * kCifarSide * kCifarSide;  // 3072
constexpr int64_t kCifarRecord = 1 + kCifarPixels;              // 3073

std::vector<std::string> cifar10_classes() {
  return {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
}

std::vector<std::string> digit_classes() { return {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}; }

void require(const fs::path& p, bool folder, const std::string& what) {
  std::error_code ec;
  MODNET_CHECK_AS(DataError, folder ? fs::is_directory(p, ec) : fs::is_regular_file(p, ec),
                  "{}: {} not found (expected {})", p.string(), folder ? "folder" : "file", what);
}
void require_dir(const fs::path& dir, const std::string& what) { require(dir, true, what); }
void require_file(const fs::path& file, const std::string& what) { require(file, false, what); }

// Labels must name a class: the first offending record is reported.
void check_labels(const torch::Tensor& labels, int64_t begin, int64_t end, int64_t num_classes,
                  const std::string& file) {
  const int64_t* l = labels.data_ptr<int64_t>();
  for (int64_t i = begin; i < end; ++i)
    MODNET_CHECK_AS(DataError, l[i] >= 0 && l[i] < num_classes,
                    "{}: record {} has label {}, expected a label below the number of classes ({})", file,
                    i - begin, l[i], num_classes);
}

// ---- IDX -----------------------------------------------------------------------------------

// A file read through zlib: gzread passes plain files through unchanged, so gzip is detected
// from the content, not from the name.
class GzFile {
 public:
  explicit GzFile(const std::string& path) : path_(path) {
    require_file(path, "an IDX file, plain or gzip");
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

fs::path find_idx(const fs::path& root, const std::string& name) {
  for (const std::string& candidate : {name, name + ".gz"}) {
    std::error_code ec;
    if (fs::is_regular_file(root / candidate, ec)) return root / candidate;
  }
  throw DataError(fmt::format("{}: no {} or {}.gz (expected IDX files as in Fashion-MNIST/MNIST)", root.string(),
                              name, name));
}

// ---- image folder --------------------------------------------------------------------------

#ifdef MODNET_WITH_OPENCV
bool is_image_file(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  static const std::array<const char*, 6> known = {".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".pgm"};
  return std::any_of(known.begin(), known.end(), [&](const char* k) { return ext == k; });
}

// Calls fn(begin, end) over chunks of [0, n) on all cores. std::thread, not at::parallel_for:
// that one is inline OpenMP and runs serially in code compiled without -fopenmp (as here).
void parallel_chunks(int64_t n, int64_t chunk, const std::function<void(int64_t, int64_t)>& fn) {
  const int64_t workers = std::min<int64_t>(std::max(1u, std::thread::hardware_concurrency()), (n + chunk - 1) / chunk);
  std::atomic<int64_t> next{0};
  auto work = [&] {
    for (int64_t b; (b = next.fetch_add(chunk)) < n;) fn(b, std::min(n, b + chunk));
  };
  std::vector<std::thread> threads;
  for (int64_t t = 1; t < workers; ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
}

cv::Mat read_image(const std::string& path) {
  cv::Mat m;
  try {
    m = cv::imread(path, cv::IMREAD_ANYCOLOR);  // 8-bit, 1 or 3 channels (BGR)
  } catch (const cv::Exception& e) {
    throw DataError(fmt::format("{}: unreadable image ({})", path, e.what()));
  }
  MODNET_CHECK_AS(DataError, !m.empty() && m.depth() == CV_8U,
                  "{}: unreadable image (expected a PNG, JPEG, BMP or PPM/PGM file OpenCV can decode)", path);
  return m;
}

// Copies an interleaved BGR(A) or grey image into planar [C, H, W] (RGB, or grey when C == 1).
void to_planar(const cv::Mat& m, int64_t channels, uint8_t* dst) {
  const int64_t h = m.rows, w = m.cols, hw = h * w, ch = m.channels();
  for (int64_t y = 0; y < h; ++y) {
    const uint8_t* src = m.ptr<uint8_t>(int(y));
    uint8_t* row = dst + y * w;
    if (ch == 1) {
      for (int64_t c = 0; c < channels; ++c) std::memcpy(row + c * hw, src, size_t(w));
    } else {
      for (int64_t x = 0; x < w; ++x) {
        const uint8_t* px = src + x * ch;
        row[x] = px[2];
        row[hw + x] = px[1];
        row[2 * hw + x] = px[0];
      }
    }
  }
}
#endif

}  // namespace

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

// ---- CIFAR-10 binary -----------------------------------------------------------------------

ImageSet load_cifar10_binary(const std::string& root, ImageSplit split) {
  require_dir(root, "the CIFAR-10 binary release: data_batch_1.bin ... data_batch_5.bin, test_batch.bin");
  std::vector<fs::path> files;
  if (split == ImageSplit::train) {
    for (int i = 1; i <= 5; ++i) files.push_back(fs::path(root) / fmt::format("data_batch_{}.bin", i));
  } else {
    files.push_back(fs::path(root) / "test_batch.bin");
  }
  int64_t total = 0;
  std::vector<int64_t> records;
  for (const auto& f : files) {
    require_file(f, "a CIFAR-10 binary batch");
    const auto bytes = int64_t(fs::file_size(f));
    MODNET_CHECK_AS(DataError, bytes > 0 && bytes % kCifarRecord == 0,
                    "{}: wrong size for a CIFAR-10 binary batch: expected a non-zero multiple of {} bytes "
                    "(1 label byte + 3072 pixel bytes per image), found {} bytes",
                    f.string(), kCifarRecord, bytes);
    records.push_back(bytes / kCifarRecord);
    total += records.back();
  }

  ImageSet set;
  set.classes = cifar10_classes();
  const fs::path meta = fs::path(root) / "batches.meta.txt";
  std::error_code ec;
  if (fs::is_regular_file(meta, ec)) {
    std::ifstream in(meta);  // one name a line, blank lines after them
    std::vector<std::string> names;
    for (std::string name; in >> name;) names.push_back(name);
    if (!names.empty()) set.classes = std::move(names);
  }

  set.images = torch::empty({total, 3, kCifarSide, kCifarSide}, torch::kUInt8);
  set.labels = torch::empty({total}, torch::kLong);
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
    check_labels(set.labels, at, at + records[k], set.num_classes(), files[k].string());
    at += records[k];
  }
  return set;
}

// ---- image folder --------------------------------------------------------------------------

ImageSet load_image_folder(const std::string& root, ImageSplit split) {
  const fs::path dir = fs::path(root) / to_string(split);
#ifndef MODNET_WITH_OPENCV
  throw DataError(fmt::format("{}: reading an image folder needs OpenCV, but modnet was built with "
                              "MODNET_WITH_OPENCV=OFF (rebuild with it ON, or use the CIFAR-10 binary or IDX format)",
                              dir.string()));
#else
  require_dir(dir, "an image folder <root>/" + to_string(split) + "/<class>/<images>");
  ImageSet set;
  std::vector<fs::path> class_dirs;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_directory() && entry.path().filename().string().rfind('.', 0) != 0) class_dirs.push_back(entry.path());
  std::sort(class_dirs.begin(), class_dirs.end());
  MODNET_CHECK_AS(DataError, !class_dirs.empty(), "{}: no class folders (expected {}/<class>/<images>)",
                  dir.string(), dir.string());

  std::vector<std::string> files;
  std::vector<int64_t> labels;
  for (const auto& cd : class_dirs) {
    std::vector<std::string> in_class;
    for (const auto& entry : fs::directory_iterator(cd))
      if (entry.is_regular_file() && is_image_file(entry.path())) in_class.push_back(entry.path().string());
    MODNET_CHECK_AS(DataError, !in_class.empty(),
                    "{}: empty class folder (expected image files *.png, *.jpg, *.jpeg, *.bmp, *.ppm or *.pgm)",
                    cd.string());
    std::sort(in_class.begin(), in_class.end());
    files.insert(files.end(), in_class.begin(), in_class.end());
    labels.insert(labels.end(), in_class.size(), set.num_classes());
    set.classes.push_back(cd.filename().string());
  }
  const auto n = int64_t(files.size());
  set.labels = torch::tensor(labels, torch::kLong);

  // The first image fixes the size; start grey if it is grey and switch to RGB at the first
  // colour image (decoding again), so an all-grey folder stays 1-channel.
  const cv::Mat first = read_image(files[0]);
  const int64_t h = first.rows, w = first.cols;
  int64_t channels = first.channels() == 1 ? 1 : 3;
  for (;;) {
    set.images = torch::empty({n, channels, h, w}, torch::kUInt8);
    uint8_t* base = set.images.data_ptr<uint8_t>();
    std::atomic<bool> colour_seen{false};
    std::mutex mutex;
    int64_t failed_at = n;  // the first failing file in sorted order is the one reported
    std::string failure;
    parallel_chunks(n, 32, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end && !colour_seen; ++i) {
        try {
          const cv::Mat m = i == 0 ? first : read_image(files[size_t(i)]);
          MODNET_CHECK_AS(DataError, m.rows == h && m.cols == w,
                          "{}: image of {}x{} pixels, expected the size of the first image {} ({}x{})",
                          files[size_t(i)], m.cols, m.rows, files[0], w, h);
          if (channels == 1 && m.channels() != 1) {
            colour_seen = true;
            break;
          }
          to_planar(m, channels, base + i * channels * h * w);
        } catch (const std::exception& e) {
          std::lock_guard<std::mutex> lock(mutex);
          if (i < failed_at) {
            failed_at = i;
            failure = e.what();
          }
          break;
        }
      }
    });
    if (failed_at < n) throw DataError(failure);
    if (!colour_seen) break;
    channels = 3;
  }
  return set;
#endif
}

// ---- IDX -----------------------------------------------------------------------------------

ImageSet load_idx(const std::string& images_path, const std::string& labels_path, std::vector<std::string> classes) {
  ImageSet set;
  set.classes = classes.empty() ? digit_classes() : std::move(classes);

  GzFile fi(images_path);
  const auto dims = read_idx_header(fi, images_path, 0x00000803, "uint8 images, 3 dimensions");
  const int64_t n = dims[0], h = dims[1], w = dims[2];
  fi.expect_room(16 + double(n) * double(h) * double(w));
  set.images = torch::empty({n, 1, h, w}, torch::kUInt8);
  fi.read_exact(set.images.data_ptr<uint8_t>(), n * h * w, 16, fmt::format("{} images of {}x{}", n, h, w));
  fi.expect_end(16 + n * h * w);

  GzFile fl(labels_path);
  const int64_t nl = read_idx_header(fl, labels_path, 0x00000801, "uint8 labels, 1 dimension")[0];
  MODNET_CHECK_AS(DataError, nl == n, "{}: {} labels, but {} holds {} images (expected as many labels as images)",
                  labels_path, nl, images_path, n);
  fl.expect_room(8 + double(n));
  auto raw = torch::empty({n}, torch::kUInt8);
  fl.read_exact(raw.data_ptr<uint8_t>(), n, 8, fmt::format("{} labels", n));
  fl.expect_end(8 + n);
  set.labels = raw.to(torch::kLong);
  check_labels(set.labels, 0, n, set.num_classes(), labels_path);
  return set;
}

ImageSet load_idx_folder(const std::string& root, ImageSplit split, std::vector<std::string> classes) {
  require_dir(root, "a folder of IDX files (train-images-idx3-ubyte[.gz], ...)");
  const std::string prefix = split == ImageSplit::train ? "train" : "t10k";
  const fs::path images = find_idx(root, prefix + "-images-idx3-ubyte");
  const fs::path labels = find_idx(root, prefix + "-labels-idx1-ubyte");
  return load_idx(images.string(), labels.string(), std::move(classes));
}

// ---- dispatch ------------------------------------------------------------------------------

ImageSet load_images(const std::string& root, const std::string& format, ImageSplit split) {
  if (format == "cifar10_binary") return load_cifar10_binary(root, split);
  if (format == "image_folder") return load_image_folder(root, split);
  if (format == "idx") return load_idx_folder(root, split);
  MODNET_CHECK_AS(ConfigError, format == "auto",
                  "image format '{}' for {}: expected one of cifar10_binary, image_folder, idx, auto", format, root);
  require_dir(root, "a data set folder (CIFAR-10 binary, IDX files or an image folder)");
  std::error_code ec;
  const fs::path r(root);
  if (fs::is_regular_file(r / "data_batch_1.bin", ec)) return load_cifar10_binary(root, split);
  if (fs::is_regular_file(r / "train-images-idx3-ubyte", ec) || fs::is_regular_file(r / "train-images-idx3-ubyte.gz", ec))
    return load_idx_folder(root, split);
  return load_image_folder(root, split);
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
