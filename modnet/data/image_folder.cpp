// Reader of image folders root/<split>/<class>/<file>, decoded by OpenCV on all cores straight
// into the preallocated tensor. The only unit that includes OpenCV: CMake defines
// MODNET_WITH_OPENCV for this file alone.
#include "modnet/data/image_folder.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#ifdef MODNET_WITH_OPENCV
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#endif

#include "modnet/core/error.h"
#include "modnet/data/image_checks.h"

namespace modnet::data {
namespace fs = std::filesystem;

namespace {

#ifdef MODNET_WITH_OPENCV
bool is_image_file(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  static const std::array<const char*, 6> known = {".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".pgm"};
  return std::any_of(known.begin(), known.end(), [&](const char* k) { return ext == k; });
}

// The classes and image files of root/<split>: sorted class folders (hidden ones skipped), each
// with at least one image, its files sorted; labels[i] is the class of files[i].
struct Listing {
  std::vector<std::string> classes;
  std::vector<std::string> files;
  std::vector<int64_t> labels;
};

Listing list_image_folder(const std::string& root, ImageSplit split) {
  const fs::path dir = fs::path(root) / to_string(split);
  detail::require_dir(dir, "an image folder <root>/" + to_string(split) + "/<class>/<images>");
  std::vector<fs::path> class_dirs;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_directory() && entry.path().filename().string().rfind('.', 0) != 0) class_dirs.push_back(entry.path());
  std::sort(class_dirs.begin(), class_dirs.end());
  MODNET_CHECK_AS(DataError, !class_dirs.empty(), "{}: no class folders (expected {}/<class>/<images>)",
                  dir.string(), dir.string());

  Listing listing;
  for (const auto& cd : class_dirs) {
    std::vector<std::string> in_class;
    for (const auto& entry : fs::directory_iterator(cd))
      if (entry.is_regular_file() && is_image_file(entry.path())) in_class.push_back(entry.path().string());
    MODNET_CHECK_AS(DataError, !in_class.empty(),
                    "{}: empty class folder (expected image files *.png, *.jpg, *.jpeg, *.bmp, *.ppm or *.pgm)",
                    cd.string());
    std::sort(in_class.begin(), in_class.end());
    listing.files.insert(listing.files.end(), in_class.begin(), in_class.end());
    listing.labels.insert(listing.labels.end(), in_class.size(), int64_t(listing.classes.size()));
    listing.classes.push_back(cd.filename().string());
  }
  return listing;
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
#else
[[noreturn]] void throw_no_opencv(const std::string& root, ImageSplit split) {
  throw DataError(fmt::format("{}: reading an image folder needs OpenCV, but modnet was built with "
                              "MODNET_WITH_OPENCV=OFF (rebuild with it ON, or use the CIFAR-10 binary or IDX format)",
                              (fs::path(root) / to_string(split)).string()));
}
#endif

}  // namespace

bool image_folder_supported() {
#ifdef MODNET_WITH_OPENCV
  return true;
#else
  return false;
#endif
}

ImageSet load_image_folder(const std::string& root, ImageSplit split) {
#ifndef MODNET_WITH_OPENCV
  throw_no_opencv(root, split);
#else
  Listing listing = list_image_folder(root, split);
  const std::vector<std::string>& files = listing.files;
  ImageSet set;
  set.classes = std::move(listing.classes);
  const auto n = int64_t(files.size());
  set.labels = torch::tensor(listing.labels, torch::kLong);

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

ImageShape probe_image_folder(const std::string& root, ImageSplit split) {
#ifndef MODNET_WITH_OPENCV
  throw_no_opencv(root, split);
#else
  const Listing listing = list_image_folder(root, split);
  const cv::Mat first = read_image(listing.files[0]);
  return {first.channels() == 1 ? 1 : 3, first.rows, first.cols, int64_t(listing.classes.size())};
#endif
}

}  // namespace modnet::data
