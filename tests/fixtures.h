#pragma once
// The fixtures every test file shares, in one place:
//   EXPECT_CONTAINS(haystack, needle)  a string contains a substring (prints both when it does not)
//   SeededTest                         a fixture that seeds torch's global generator before each test
//   TempDir                            a fresh scratch directory, removed again when it goes away
//   TempDirTest                        SeededTest plus a TempDir made in SetUp, removed in TearDown
// (shell.h, beside this file, runs a command as a user would, for the end-to-end tests.)
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

/// Expects the string `haystack` to contain `needle`.
#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << "'" << (needle) << "' not in: " << (haystack)

namespace modnet::testing {

/// Seeds torch's global generator (to 0) before every test. Most code under test draws from its own
/// seeded generators; the global one is seeded anyway so that nothing depends on the order in which
/// the tests ran.
class SeededTest : public ::testing::Test {
 protected:
  void SetUp() override { torch::manual_seed(0); }
};

/// A scratch directory of its own: created (new, empty) on construction, removed with everything in
/// it on destruction - only the directory it created. The name holds the process id, because ctest
/// runs every test case as its own process, several at a time, and a counter, so that one process
/// may hold several. MODNET_KEEP_TEST_FILES=1 keeps the directories, to look at what a test wrote.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "test") {
    static std::atomic<int> counter{0};
    const std::string stem = "modnet_" + tag + "_" + std::to_string(::getpid()) + "_";
    for (;;) {  // a leftover of an earlier process with the same id is never reused (or removed)
      path_ = std::filesystem::temp_directory_path() / (stem + std::to_string(counter++));
      if (std::filesystem::create_directory(path_)) break;
    }
  }
  ~TempDir() {
    if (std::getenv("MODNET_KEEP_TEST_FILES") != nullptr) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  /// The path of `name` inside the directory (nothing is created).
  std::string sub(const std::string& name) const { return (path_ / name).string(); }
  /// Writes `text` to the file `name` inside the directory (its parents created); returns its path.
  std::string write(const std::string& name, const std::string& text) const {
    const auto file = path_ / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << text;
    return file.string();
  }

 private:
  std::filesystem::path path_;
};

/// SeededTest with a fresh TempDir for each test: dir_ is made in SetUp and removed in TearDown.
class TempDirTest : public SeededTest {
 protected:
  void SetUp() override {
    SeededTest::SetUp();
    temp_ = std::make_unique<TempDir>();
    dir_ = temp_->path();
  }
  void TearDown() override { temp_.reset(); }
  std::string sub(const std::string& name) const { return temp_->sub(name); }
  std::string write(const std::string& name, const std::string& text) const { return temp_->write(name, text); }

  std::filesystem::path dir_;

 private:
  std::unique_ptr<TempDir> temp_;
};

/// The slot each module's nonzero rows of u [K, D, b] lie in, given the slot of every input
/// coordinate; a test failure for a module spanning several slots (its entry is then -1).
inline std::vector<int64_t> slots_of_modules(const torch::Tensor& u, const torch::Tensor& slots) {
  std::vector<int64_t> out;
  for (int64_t j = 0; j < u.size(0); ++j) {
    const auto used = std::get<0>(at::_unique(slots.masked_select(u[j].abs().sum(1).gt(0))));
    EXPECT_EQ(used.numel(), 1) << "module " << j << " has nonzero rows in slots " << used;
    out.push_back(used.numel() == 1 ? used[0].item<int64_t>() : -1);
  }
  return out;
}

}  // namespace modnet::testing
