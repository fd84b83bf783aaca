// Tests of modnet/data/images: CIFAR-10 binary, image folders and IDX files written here with
// known pixels and labels, each malformed-input error, probe_images against load_images, and the
// real data sets when present. The image-folder fixtures are PNGs written with OpenCV: this target
// gets MODNET_WITH_OPENCV from tests/CMakeLists.txt when modnet is built with OpenCV, and
// data::image_folder_supported() must agree.
#include <gtest/gtest.h>

#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <torch/torch.h>

#ifdef MODNET_WITH_OPENCV
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#endif

#include "modnet/core/error.h"
#include "modnet/data/images.h"
#include "fixtures.h"

namespace fs = std::filesystem;
using modnet::ConfigError;
using modnet::DataError;
using namespace modnet::data;

namespace {

// Expects `statement` to throw modnet::DataError whose message contains `needle` (the file name).
#define EXPECT_DATA_ERROR(statement, needle)                                  \
  do {                                                                        \
    try {                                                                     \
      statement;                                                              \
      ADD_FAILURE() << "no DataError from: " #statement;                      \
    } catch (const DataError& e) {                                            \
      EXPECT_CONTAINS(e.what(), needle);                                      \
    }                                                                         \
  } while (0)

using Bytes = std::vector<uint8_t>;

// An ImageShape as text, so that a mismatch prints both shapes.
std::string str(const ImageShape& s) {
  return fmt::format("{}x{}x{}, {} classes", s.channels, s.height, s.width, s.classes);
}
std::string shape_of(const ImageSet& set) {
  return str({set.channels(), set.height(), set.width(), set.num_classes()});
}

// Seeded, with a fresh directory per test: path(rel) is a file in it.
class ImagesTest : public modnet::testing::TempDirTest {
 protected:
  std::string path(const std::string& rel) const { return sub(rel); }

  static void write(const std::string& file, const Bytes& bytes) {
    fs::create_directories(fs::path(file).parent_path());
    std::ofstream out(file, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  }
  static void write_gz(const std::string& file, const Bytes& bytes) {
    gzFile f = gzopen(file.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(gzwrite(f, bytes.data(), unsigned(bytes.size())), int(bytes.size()));
    gzclose(f);
  }
};

// ---- CIFAR-10 binary -------------------------------------------------------------------------

// Pixel (c, y, x) of record r with label l: a value that tells channel, position and record apart.
uint8_t cifar_pixel(int r, int c, int y, int x) { return uint8_t(r * 7 + c * 80 + y * 3 + x); }

Bytes cifar_records(int first, int count, int label_offset = 0) {
  Bytes b;
  for (int r = first; r < first + count; ++r) {
    b.push_back(uint8_t((r + label_offset) % 10));
    for (int c = 0; c < 3; ++c)  // R, G, B planes, each row-major 32×32
      for (int y = 0; y < 32; ++y)
        for (int x = 0; x < 32; ++x) b.push_back(cifar_pixel(r, c, y, x));
  }
  return b;
}

class CifarBinaryTest : public ImagesTest {
 protected:
  void SetUp() override {
    ImagesTest::SetUp();
    for (int k = 0; k < 5; ++k) write(path(fmt::format("cifar/data_batch_{}.bin", k + 1)), cifar_records(2 * k, 2));
    write(path("cifar/test_batch.bin"), cifar_records(0, 3, 5));
  }
};

TEST_F(CifarBinaryTest, ReadsRecordsIntoPlanarRgb) {
  const ImageSet train = load_cifar10_binary(path("cifar"), ImageSplit::train);
  ASSERT_EQ(train.images.sizes(), (std::vector<int64_t>{10, 3, 32, 32}));
  EXPECT_EQ(train.images.scalar_type(), torch::kUInt8);
  EXPECT_EQ(train.labels.scalar_type(), torch::kLong);
  EXPECT_EQ(train.classes.front(), "airplane");
  EXPECT_EQ(train.classes.back(), "truck");
  auto img = train.images.accessor<uint8_t, 4>();
  for (int r : {0, 3, 9}) {
    EXPECT_EQ(train.labels[r].item<int64_t>(), r);
    for (int c = 0; c < 3; ++c)
      for (auto [y, x] : {std::pair{0, 0}, {0, 31}, {5, 17}, {31, 31}})
        EXPECT_EQ(img[r][c][y][x], cifar_pixel(r, c, y, x)) << r << c << y << x;
  }
  EXPECT_TRUE(torch::equal(train.class_counts(), torch::ones({10}, torch::kLong)));

  const ImageSet test = load_cifar10_binary(path("cifar"), ImageSplit::test);
  ASSERT_EQ(test.size(), 3);
  EXPECT_EQ(test.labels[2].item<int64_t>(), 7);
  EXPECT_EQ(test.images[2][1][4][9].item<uint8_t>(), cifar_pixel(2, 1, 4, 9));
}

TEST_F(CifarBinaryTest, ClassNamesFromMetaFile) {
  std::ofstream(path("cifar/batches.meta.txt")) << "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n";
  const ImageSet set = load_cifar10_binary(path("cifar"), ImageSplit::test);
  EXPECT_EQ(set.classes, (std::vector<std::string>{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}));
}

TEST_F(CifarBinaryTest, MalformedInputIsDataError) {
  EXPECT_DATA_ERROR(load_cifar10_binary(path("nowhere"), ImageSplit::train), "nowhere");
  fs::remove(path("cifar/data_batch_4.bin"));
  EXPECT_DATA_ERROR(load_cifar10_binary(path("cifar"), ImageSplit::train), "data_batch_4.bin");

  Bytes b = cifar_records(0, 2);
  b.pop_back();
  write(path("cifar/test_batch.bin"), b);
  EXPECT_DATA_ERROR(load_cifar10_binary(path("cifar"), ImageSplit::test), "test_batch.bin");
  EXPECT_DATA_ERROR(load_cifar10_binary(path("cifar"), ImageSplit::test), "multiple of 3073");
  write(path("cifar/test_batch.bin"), {});
  EXPECT_DATA_ERROR(load_cifar10_binary(path("cifar"), ImageSplit::test), "found 0 bytes");

  b = cifar_records(0, 3);
  b[2 * 3073] = 10;  // label of record 2
  write(path("cifar/test_batch.bin"), b);
  EXPECT_DATA_ERROR(load_cifar10_binary(path("cifar"), ImageSplit::test), "test_batch.bin: record 2 has label 10");
}

TEST_F(CifarBinaryTest, ProbeMatchesLoadWithoutReadingRecords) {
  for (ImageSplit split : {ImageSplit::train, ImageSplit::test}) {
    const std::string loaded = shape_of(load_images(path("cifar"), "cifar10_binary", split));
    EXPECT_EQ(loaded, "3x32x32, 10 classes");
    EXPECT_EQ(str(probe_images(path("cifar"), "cifar10_binary", split)), loaded);
    EXPECT_EQ(str(probe_images(path("cifar"), "auto", split)), loaded);
  }
  std::ofstream(path("cifar/batches.meta.txt")) << "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\n\n";  // 12 names
  EXPECT_EQ(shape_of(load_cifar10_binary(path("cifar"), ImageSplit::test)), "3x32x32, 12 classes");
  EXPECT_EQ(str(probe_cifar10_binary(path("cifar"), ImageSplit::test)), "3x32x32, 12 classes");

  EXPECT_DATA_ERROR(probe_images(path("nowhere"), "cifar10_binary", ImageSplit::train), "nowhere");
  Bytes b = cifar_records(0, 3);
  b[2 * 3073] = 100;  // a label out of range: only load_images, which reads the records, finds it
  write(path("cifar/test_batch.bin"), b);
  EXPECT_EQ(str(probe_images(path("cifar"), "cifar10_binary", ImageSplit::test)), "3x32x32, 12 classes");
  b.pop_back();
  write(path("cifar/test_batch.bin"), b);
  EXPECT_DATA_ERROR(probe_images(path("cifar"), "cifar10_binary", ImageSplit::test), "test_batch.bin: wrong size");
  fs::remove(path("cifar/data_batch_4.bin"));
  EXPECT_DATA_ERROR(probe_images(path("cifar"), "auto", ImageSplit::train), "data_batch_4.bin: file not found");
}

// ---- image folder ----------------------------------------------------------------------------

#ifdef MODNET_WITH_OPENCV
// A w×h BGR image whose pixel (y, x) is (B, G, R) = (seed + x, seed + 2y, seed + 100).
cv::Mat colour_image(int seed, int w = 5, int h = 4) {
  cv::Mat m(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) m.at<cv::Vec3b>(y, x) = cv::Vec3b(uint8_t(seed + x), uint8_t(seed + 2 * y), uint8_t(seed + 100));
  return m;
}
cv::Mat grey_image(int seed, int w = 5, int h = 4) {
  cv::Mat m(h, w, CV_8UC1);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) m.at<uint8_t>(y, x) = uint8_t(seed + 10 * y + x);
  return m;
}
void save(const std::string& file, const cv::Mat& m) {
  fs::create_directories(fs::path(file).parent_path());
  ASSERT_TRUE(cv::imwrite(file, m)) << file;
}

TEST_F(ImagesTest, ImageFolderReadsSortedClassesAsRgb) {
  save(path("f/train/dog/b.png"), colour_image(30));
  save(path("f/train/dog/a.png"), colour_image(20));
  save(path("f/train/cat/x.png"), colour_image(10));
  std::ofstream(path("f/train/cat/notes.txt")) << "not an image";
  save(path("f/test/cat/y.png"), colour_image(40));
  const ImageSet set = load_image_folder(path("f"), ImageSplit::train);
  EXPECT_EQ(set.classes, (std::vector<std::string>{"cat", "dog"}));
  ASSERT_EQ(set.images.sizes(), (std::vector<int64_t>{3, 3, 4, 5}));
  EXPECT_TRUE(torch::equal(set.labels, torch::tensor({0, 1, 1}, torch::kLong)));
  auto img = set.images.accessor<uint8_t, 4>();
  const int seeds[] = {10, 20, 30};  // cat/x, dog/a, dog/b
  for (int i = 0; i < 3; ++i)
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 5; ++x) {
        EXPECT_EQ(img[i][0][y][x], seeds[i] + 100);    // R
        EXPECT_EQ(img[i][1][y][x], seeds[i] + 2 * y);  // G
        EXPECT_EQ(img[i][2][y][x], seeds[i] + x);      // B
      }
  EXPECT_EQ(load_image_folder(path("f"), ImageSplit::test).size(), 1);
}

TEST_F(ImagesTest, ImageFolderKeepsGreyOnlyFoldersGrey) {
  save(path("g/train/a/0.png"), grey_image(1));
  save(path("g/train/b/0.png"), grey_image(50));
  const ImageSet set = load_image_folder(path("g"), ImageSplit::train);
  ASSERT_EQ(set.images.sizes(), (std::vector<int64_t>{2, 1, 4, 5}));
  EXPECT_EQ(set.images[1][0][3][2].item<uint8_t>(), 50 + 30 + 2);

  save(path("g/train/b/1.png"), colour_image(5));  // one colour image: all become RGB
  const ImageSet mixed = load_image_folder(path("g"), ImageSplit::train);
  ASSERT_EQ(mixed.images.sizes(), (std::vector<int64_t>{3, 3, 4, 5}));
  for (int c = 0; c < 3; ++c) EXPECT_EQ(mixed.images[1][c][3][2].item<uint8_t>(), 50 + 30 + 2);
  EXPECT_EQ(mixed.images[2][0][0][0].item<uint8_t>(), 105);
}

TEST_F(ImagesTest, MalformedImageFolderIsDataError) {
  EXPECT_DATA_ERROR(load_image_folder(path("f"), ImageSplit::train), "train");
  fs::create_directories(path("f/train"));
  EXPECT_DATA_ERROR(load_image_folder(path("f"), ImageSplit::train), "no class folders");
  save(path("f/train/cat/0.png"), colour_image(0));
  fs::create_directories(path("f/train/dog"));
  EXPECT_DATA_ERROR(load_image_folder(path("f"), ImageSplit::train), "dog: empty class folder");
  save(path("f/train/dog/big.png"), colour_image(0, 6, 4));
  EXPECT_DATA_ERROR(load_image_folder(path("f"), ImageSplit::train), "big.png: image of 6x4 pixels");
  fs::remove(path("f/train/dog/big.png"));
  write(path("f/train/dog/broken.png"), {1, 2, 3, 4});
  EXPECT_DATA_ERROR(load_image_folder(path("f"), ImageSplit::train), "broken.png: unreadable image");
}

TEST_F(ImagesTest, ImageFolderProbeMatchesLoad) {
  save(path("f/train/dog/a.png"), colour_image(20, 7, 6));
  save(path("f/train/cat/x.png"), colour_image(10, 7, 6));
  save(path("f/train/owl/x.png"), colour_image(10, 7, 6));
  save(path("f/test/cat/y.png"), grey_image(40, 3, 2));
  for (ImageSplit split : {ImageSplit::train, ImageSplit::test}) {
    const std::string loaded = shape_of(load_images(path("f"), "image_folder", split));
    EXPECT_EQ(loaded, split == ImageSplit::train ? "3x6x7, 3 classes" : "1x2x3, 1 classes");
    EXPECT_EQ(str(probe_images(path("f"), "image_folder", split)), loaded);
    EXPECT_EQ(str(probe_images(path("f"), "auto", split)), loaded);
  }
  EXPECT_DATA_ERROR(probe_images(path("g"), "image_folder", ImageSplit::train), "train: folder not found");
  fs::create_directories(path("g/train"));
  EXPECT_DATA_ERROR(probe_image_folder(path("g"), ImageSplit::train), "no class folders");
  write(path("g/train/cat/0.png"), {1, 2, 3, 4});  // the first image, the one probe decodes
  fs::create_directories(path("g/train/dog"));
  EXPECT_DATA_ERROR(probe_image_folder(path("g"), ImageSplit::train), "dog: empty class folder");
  save(path("g/train/dog/0.png"), colour_image(0));
  EXPECT_DATA_ERROR(probe_images(path("g"), "auto", ImageSplit::train), "cat/0.png: unreadable image");
}
#endif

TEST_F(ImagesTest, ImageFolderNeedsOpenCV) {
  if (image_folder_supported()) GTEST_SKIP() << "built with OpenCV: the image-folder tests above apply";
  fs::create_directories(path("f/train/cat"));
  EXPECT_DATA_ERROR(load_image_folder(path("f"), ImageSplit::train), "OpenCV");
  EXPECT_DATA_ERROR(probe_images(path("f"), "image_folder", ImageSplit::train), "OpenCV");
}

TEST(ImageFolderSupport, AgreesWithTheBuild) {
#ifdef MODNET_WITH_OPENCV
  EXPECT_TRUE(image_folder_supported());
#else
  EXPECT_FALSE(image_folder_supported());
#endif
}

// ---- IDX ---------------------------------------------------------------------------------------

void put32(Bytes& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(uint8_t(v >> s));
}
Bytes idx_images(int n, int h, int w) {
  Bytes b;
  put32(b, 0x803);
  put32(b, n);
  put32(b, h);
  put32(b, w);
  for (int i = 0; i < n * h * w; ++i) b.push_back(uint8_t(i * 3));
  return b;
}
Bytes idx_labels(int n, int mod = 10) {
  Bytes b;
  put32(b, 0x801);
  put32(b, n);
  for (int i = 0; i < n; ++i) b.push_back(uint8_t(i % mod));
  return b;
}

TEST_F(ImagesTest, IdxPlainAndGzipAgree) {
  write(path("plain/im"), idx_images(12, 3, 4));
  write(path("plain/lb"), idx_labels(12));
  fs::create_directories(path("gz"));
  write_gz(path("gz/im.gz"), idx_images(12, 3, 4));
  write_gz(path("gz/lb"), idx_labels(12));  // gzip detected from the content, not the name
  const ImageSet a = load_idx(path("plain/im"), path("plain/lb"));
  const ImageSet b = load_idx(path("gz/im.gz"), path("gz/lb"));
  ASSERT_EQ(a.images.sizes(), (std::vector<int64_t>{12, 1, 3, 4}));
  EXPECT_EQ(a.images[2][0][1][3].item<uint8_t>(), uint8_t((2 * 12 + 1 * 4 + 3) * 3));
  EXPECT_EQ(a.labels[11].item<int64_t>(), 1);
  EXPECT_EQ(a.classes.size(), 10u);
  EXPECT_TRUE(torch::equal(a.images, b.images));
  EXPECT_TRUE(torch::equal(a.labels, b.labels));
}

TEST_F(ImagesTest, IdxFolderAndAutoDispatch) {
  fs::create_directories(path("fm"));
  write_gz(path("fm/train-images-idx3-ubyte.gz"), idx_images(6, 2, 2));
  write_gz(path("fm/train-labels-idx1-ubyte.gz"), idx_labels(6));
  write(path("fm/t10k-images-idx3-ubyte"), idx_images(4, 2, 2));
  write(path("fm/t10k-labels-idx1-ubyte"), idx_labels(4));
  EXPECT_EQ(load_idx_folder(path("fm"), ImageSplit::train, fashion_mnist_classes()).classes[9], "Ankle boot");
  EXPECT_EQ(load_images(path("fm"), "auto", ImageSplit::train).size(), 6);
  EXPECT_EQ(load_images(path("fm"), "idx", ImageSplit::test).size(), 4);
  EXPECT_DATA_ERROR(load_idx_folder(path("nowhere"), ImageSplit::train), "nowhere");
  fs::remove(path("fm/t10k-labels-idx1-ubyte"));
  EXPECT_DATA_ERROR(load_idx_folder(path("fm"), ImageSplit::test), "t10k-labels-idx1-ubyte");
}

TEST_F(ImagesTest, MalformedIdxIsDataError) {
  write(path("im"), idx_images(5, 2, 3));
  write(path("lb"), idx_labels(5));
  EXPECT_DATA_ERROR(load_idx(path("missing"), path("lb")), "missing");
  EXPECT_DATA_ERROR(load_idx(path("im"), path("missing")), "missing");

  Bytes t = idx_images(5, 2, 3);
  t.resize(t.size() - 1);
  write(path("short"), t);
  EXPECT_DATA_ERROR(load_idx(path("short"), path("lb")), "short: truncated IDX file");
  write_gz(path("short.gz"), t);
  EXPECT_DATA_ERROR(load_idx(path("short.gz"), path("lb")), "short.gz: truncated IDX file");
  write(path("header"), {0, 0, 8, 3, 0, 0});
  EXPECT_DATA_ERROR(load_idx(path("header"), path("lb")), "header: truncated IDX file");
  Bytes huge;  // a header promising 2^32-1 images of 28x28: an error, not an allocation of 3 TB
  put32(huge, 0x803);
  for (uint32_t d : {0xffffffffu, 28u, 28u}) put32(huge, d);
  write(path("huge"), huge);
  EXPECT_DATA_ERROR(load_idx(path("huge"), path("lb")), "huge: truncated IDX file");
  write_gz(path("huge.gz"), huge);
  EXPECT_DATA_ERROR(load_idx(path("huge.gz"), path("lb")), "huge.gz: truncated IDX file");
  t = idx_images(5, 2, 3);
  t.push_back(0);
  write(path("long"), t);
  EXPECT_DATA_ERROR(load_idx(path("long"), path("lb")), "long: IDX file is longer");

  EXPECT_DATA_ERROR(load_idx(path("lb"), path("lb")), "lb: bad IDX magic number: expected 0x00000803");
  EXPECT_DATA_ERROR(load_idx(path("im"), path("im")), "found 0x00000803");

  write(path("lb4"), idx_labels(4));
  EXPECT_DATA_ERROR(load_idx(path("im"), path("lb4")), "lb4: 4 labels");
  EXPECT_DATA_ERROR(load_idx(path("im"), path("lb"), {"a", "b", "c"}), "lb: record 3 has label 3");
}

TEST_F(ImagesTest, IdxProbeMatchesLoad) {
  fs::create_directories(path("fm"));
  write_gz(path("fm/train-images-idx3-ubyte.gz"), idx_images(6, 2, 5));
  write_gz(path("fm/train-labels-idx1-ubyte.gz"), idx_labels(6));
  write(path("fm/t10k-images-idx3-ubyte"), idx_images(4, 2, 5));
  write(path("fm/t10k-labels-idx1-ubyte"), idx_labels(4));
  for (ImageSplit split : {ImageSplit::train, ImageSplit::test}) {
    const std::string loaded = shape_of(load_images(path("fm"), "idx", split));
    EXPECT_EQ(loaded, "1x2x5, 10 classes");
    EXPECT_EQ(str(probe_images(path("fm"), "idx", split)), loaded);
    EXPECT_EQ(str(probe_images(path("fm"), "auto", split)), loaded);
  }
  const std::vector<std::string> three = {"a", "b", "c"};
  write(path("lb"), idx_labels(4, 3));
  EXPECT_EQ(str(probe_idx(path("fm/t10k-images-idx3-ubyte"), path("lb"), three)), "1x2x5, 3 classes");
  EXPECT_EQ(shape_of(load_idx(path("fm/t10k-images-idx3-ubyte"), path("lb"), three)), "1x2x5, 3 classes");

  EXPECT_DATA_ERROR(probe_images(path("nowhere"), "idx", ImageSplit::train), "nowhere: folder not found");
  write(path("fm/t10k-labels-idx1-ubyte"), idx_labels(3));
  EXPECT_DATA_ERROR(probe_idx_folder(path("fm"), ImageSplit::test), "t10k-labels-idx1-ubyte: 3 labels");
  write(path("fm/t10k-labels-idx1-ubyte"), idx_images(4, 2, 2));
  EXPECT_DATA_ERROR(probe_idx_folder(path("fm"), ImageSplit::test), "t10k-labels-idx1-ubyte: bad IDX magic number");
  fs::remove(path("fm/t10k-labels-idx1-ubyte"));
  EXPECT_DATA_ERROR(probe_images(path("fm"), "idx", ImageSplit::test), "no t10k-labels-idx1-ubyte");
  write(path("header"), {0, 0, 8, 3, 0, 0});
  EXPECT_DATA_ERROR(probe_idx(path("header"), path("lb")), "header: truncated IDX file");
  Bytes huge;  // a header promising 2^32-1 images of 28x28 in a file of 16 bytes
  for (uint32_t d : {0x803u, 0xffffffffu, 28u, 28u}) put32(huge, d);
  write(path("huge"), huge);
  EXPECT_DATA_ERROR(probe_idx(path("huge"), path("lb")), "huge: truncated IDX file");
}

// ---- dispatch and the torch::data view ----------------------------------------------------------

TEST_F(ImagesTest, AutoDetectsCifarBinaryAndRejectsUnknownFormats) {
  write(path("c/data_batch_1.bin"), cifar_records(0, 1));
  for (int k = 2; k <= 5; ++k) write(path(fmt::format("c/data_batch_{}.bin", k)), cifar_records(0, 1));
  EXPECT_EQ(load_images(path("c"), "auto", ImageSplit::train).size(), 5);
  EXPECT_EQ(load_images(path("c"), "cifar10_binary", ImageSplit::train).size(), 5);
  EXPECT_THROW(load_images(path("c"), "tfrecord", ImageSplit::train), modnet::Error);
  EXPECT_DATA_ERROR(load_images(path("nowhere"), "auto", ImageSplit::train), "nowhere");
  EXPECT_THROW(probe_images(path("c"), "tfrecord", ImageSplit::train), ConfigError);
  EXPECT_DATA_ERROR(probe_images(path("nowhere"), "auto", ImageSplit::train), "nowhere");
#ifdef MODNET_WITH_OPENCV
  save(path("i/test/only/0.png"), grey_image(0));
  EXPECT_EQ(load_images(path("i"), "auto", ImageSplit::test).channels(), 1);
  EXPECT_EQ(probe_images(path("i"), "auto", ImageSplit::test).channels, 1);
#endif
}

TEST_F(ImagesTest, ImageDatasetGet) {
  write(path("im"), idx_images(5, 2, 3));
  write(path("lb"), idx_labels(5));
  ImageDataset ds(load_idx(path("im"), path("lb")));
  ASSERT_EQ(ds.size().value(), 5u);
  const auto ex = ds.get(3);
  EXPECT_EQ(ex.data.sizes(), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_TRUE(torch::equal(ex.data, ds.set().images[3]));
  EXPECT_EQ(ex.target.dim(), 0);
  EXPECT_EQ(ex.target.item<int64_t>(), 3);
  EXPECT_THROW(ds.get(5), c10::Error);
  EXPECT_THROW(ImageDataset(ImageSet{}), DataError);
}

// ---- real data (skipped when absent) -----------------------------------------------------------

TEST(ImagesRealData, Cifar10JpegFolder) {
  if (!image_folder_supported()) GTEST_SKIP() << "built without OpenCV";
  const std::string folder = MODNET_SOURCE_DIR "/data/cifar10-jpeg";
  if (!fs::exists(MODNET_TEST_DATA_DIR "/cifar10-jpeg.tar.gz") || !fs::is_directory(folder))
    GTEST_SKIP() << "no " MODNET_TEST_DATA_DIR "/cifar10-jpeg.tar.gz unpacked in " << folder
                 << " (scripts/setup.sh unpacks it)";
  const std::vector<std::string> names = {"airplane", "automobile", "bird",  "cat",  "deer",
                                          "dog",      "frog",       "horse", "ship", "truck"};
  for (auto [split, n] : {std::pair{ImageSplit::train, 50000}, {ImageSplit::test, 10000}}) {
    const auto t0 = std::chrono::steady_clock::now();
    const ImageSet set = load_images(folder, "auto", split);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << "[ info ] CIFAR-10 JPEG " << to_string(split) << ": " << set.size() << " images in " << s << " s\n";
    ASSERT_EQ(set.images.sizes(), (std::vector<int64_t>{n, 3, 32, 32}));
    EXPECT_EQ(set.classes, names);
    EXPECT_TRUE(torch::equal(set.class_counts(), torch::full({10}, n / 10, torch::kLong)));
    EXPECT_TRUE(set.images.is_contiguous());
    const double mean = set.images.to(torch::kFloat).mean().item<double>();
    EXPECT_GT(mean, 90.0);  // CIFAR-10's mean pixel is about 120; zeros would mean undecoded images
    EXPECT_LT(mean, 150.0);
    EXPECT_EQ(str(probe_images(folder, "auto", split)), shape_of(set));
  }
}

TEST(ImagesRealData, FashionMnist) {
  const std::string folder = "/usr/share/datasets/fashion-mnist";
  if (!fs::is_directory(folder)) GTEST_SKIP() << "no " << folder << " (Debian package dataset-fashion-mnist)";
  for (auto [split, n] : {std::pair{ImageSplit::train, 60000}, {ImageSplit::test, 10000}}) {
    const auto t0 = std::chrono::steady_clock::now();
    const ImageSet set = load_idx_folder(folder, split, fashion_mnist_classes());
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << "[ info ] Fashion-MNIST " << to_string(split) << ": " << set.size() << " images in " << s << " s\n";
    ASSERT_EQ(set.images.sizes(), (std::vector<int64_t>{n, 1, 28, 28}));
    EXPECT_LT(set.labels.max().item<int64_t>(), 10);
    EXPECT_GE(set.labels.min().item<int64_t>(), 0);
    EXPECT_TRUE(torch::equal(set.class_counts(), torch::full({10}, n / 10, torch::kLong)));  // balanced
    EXPECT_EQ(str(probe_images(folder, "idx", split)), shape_of(set));
  }
}

}  // namespace
