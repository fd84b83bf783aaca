// Tests of modnet/core: the command-line parser, seeding and safe file output (the config system
// is in test_config.cpp).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "modnet/core/cli.h"
#include "modnet/core/config.h"
#include "modnet/core/error.h"
#include "modnet/core/files.h"
#include "modnet/core/run_dir.h"
#include "modnet/core/rng.h"
#include "modnet/models/registry.h"
#include "modnet/run/experiment.h"

namespace fs = std::filesystem;
using modnet::ConfigError;

#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << "'" << (needle) << "' not in: " << (haystack)

// ---- command line ---------------------------------------------------------------------------

namespace {
const std::vector<modnet::cli::FlagSpec> kFlags{
    {"--config", true, "config file", "FILE"},
    {"--out", true, "run directory", "DIR"},
    {"--steps", true, "steps", "N"},
    {"--force", false, "overwrite", ""},
};

modnet::cli::Args parse(std::vector<std::string> words, bool allow_overrides = true) {
  words.insert(words.begin(), "prog");
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  return modnet::cli::parse(static_cast<int>(words.size()), argv.data(), "prog [options]", kFlags, allow_overrides);
}
}  // namespace

TEST(Cli, FlagsSwitchesAndOverrides) {
  const auto a = parse({"--config", "a.yaml", "--out=runs/x", "--force", "train.lr=0.1", "model.hidden=[1, 2]"});
  EXPECT_EQ(a.get("--config").value_or(""), "a.yaml");
  EXPECT_EQ(a.get("--out").value_or(""), "runs/x");
  EXPECT_EQ(a.require("--config"), "a.yaml");
  EXPECT_TRUE(a.has("--force"));
  EXPECT_TRUE(a.switches.count("--force"));
  EXPECT_FALSE(a.has("--steps"));
  EXPECT_FALSE(a.get("--steps").has_value());
  EXPECT_EQ(a.overrides, (std::vector<std::string>{"train.lr=0.1", "model.hidden=[1, 2]"}));
  EXPECT_THROW(a.require("--steps"), modnet::Error);
}

TEST(Cli, InlineValueMayContainEquals) {
  EXPECT_EQ(parse({"--out=a=b"}).get("--out").value_or(""), "a=b");
}

TEST(Cli, Errors) {
  EXPECT_THROW(parse({"--nope"}), modnet::Error);
  EXPECT_THROW(parse({"--nope=1"}), modnet::Error);
  EXPECT_THROW(parse({"--config"}), modnet::Error);        // missing value
  EXPECT_THROW(parse({"stray"}), modnet::Error);           // positional word
  EXPECT_THROW(parse({"=3"}), modnet::Error);
  EXPECT_THROW(parse({"--force=1"}), modnet::Error);       // a switch takes no value
  EXPECT_THROW(parse({"a.b=1"}, /*allow_overrides=*/false), modnet::Error);
  try {
    parse({"--config", "a.yaml", "stray"});
    FAIL() << "expected modnet::Error";
  } catch (const modnet::Error& e) {
    EXPECT_CONTAINS(e.what(), "stray");
  }
}

TEST(Cli, Lists) {
  EXPECT_EQ(modnet::cli::split_list("--noise", "0,0.5,1"), (std::vector<std::string>{"0", "0.5", "1"}));
  EXPECT_EQ(modnet::cli::to_doubles("--noise", "2"), (std::vector<double>{2.0}));
  EXPECT_THROW(modnet::cli::split_list("--noise", "0,,1"), modnet::Error);
  EXPECT_THROW(modnet::cli::split_list("--noise", ""), modnet::Error);
  try {
    modnet::cli::to_doubles("--noise", "0,x");
    ADD_FAILURE() << "expected an error";
  } catch (const modnet::Error& e) {
    EXPECT_NE(std::string(e.what()).find("--noise"), std::string::npos) << e.what();
  }
}

TEST(Cli, GetInt) {
  EXPECT_EQ(parse({"--steps", "12"}).get_int("--steps").value_or(-1), 12);
  EXPECT_EQ(parse({"--steps=-3"}).get_int("--steps").value_or(0), -3);
  EXPECT_FALSE(parse({}).get_int("--steps").has_value());
  for (const std::string bad : {"abc", "12x", "1.5", ""}) {
    const auto a = parse({"--steps=" + bad});
    EXPECT_THROW(a.get_int("--steps"), modnet::Error) << bad;
  }
}

TEST(Cli, RunMainTurnsExceptionsIntoExitStatus) {
  testing::internal::CaptureStderr();
  int rc = -1;
  EXPECT_NO_THROW(rc = modnet::cli::run_main("prog", []() -> int { throw ConfigError("bad thing"); }));
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(rc, 1);
  EXPECT_CONTAINS(err, "prog: error: bad thing");

  testing::internal::CaptureStderr();
  EXPECT_NO_THROW(rc = modnet::cli::run_main("prog", []() -> int { TORCH_CHECK(false, "torch says no"); }));
  const std::string torch_err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(rc, 1);
  EXPECT_CONTAINS(torch_err, "torch says no");
  EXPECT_EQ(torch_err.find("Exception raised from"), std::string::npos) << torch_err;

  EXPECT_EQ(modnet::cli::run_main("prog", [] { return 3; }), 3);
}

// ---- seeding --------------------------------------------------------------------------------

TEST(Rng, DeriveSeed) {
  EXPECT_EQ(modnet::derive_seed(1, "task"), modnet::derive_seed(1, "task"));
  EXPECT_NE(modnet::derive_seed(1, "task"), modnet::derive_seed(1, "model"));
  EXPECT_NE(modnet::derive_seed(1, "task"), modnet::derive_seed(2, "task"));
  EXPECT_NE(modnet::derive_seed(0, ""), modnet::derive_seed(0, "a"));
  // Non-negative as int64, for APIs that take signed seeds.
  for (uint64_t s : {0ULL, 1ULL, 42ULL, ~0ULL}) EXPECT_GE(static_cast<int64_t>(modnet::derive_seed(s, "x")), 0);
}

TEST(Rng, BelowIsInRangeAndUniform) {
  modnet::Rng rng(123);
  EXPECT_EQ(rng.below(0), 0u);
  EXPECT_EQ(rng.below(1), 0u);
  constexpr int kBins = 10, kDraws = 100000;
  std::vector<int64_t> counts(kBins, 0);
  for (int i = 0; i < kDraws; ++i) {
    const auto r = rng.below(kBins);
    ASSERT_LT(r, static_cast<uint64_t>(kBins));
    ++counts[r];
  }
  // Pearson chi-square with 9 degrees of freedom: mean 9, sd ~4.2; 40 is far in the tail (p < 1e-5).
  const double expected = double(kDraws) / kBins;
  double chi2 = 0;
  for (auto c : counts) chi2 += (c - expected) * (c - expected) / expected;
  EXPECT_LT(chi2, 40.0);
  // A large n that is not a power of two stays in range too.
  const uint64_t big = (1ULL << 63) + 12345;
  for (int i = 0; i < 1000; ++i) ASSERT_LT(rng.below(big), big);
}

TEST(Rng, UniformInUnitInterval) {
  modnet::Rng rng(5);
  double sum = 0;
  for (int i = 0; i < 10000; ++i) {
    const double u = rng.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  EXPECT_NEAR(sum / 10000, 0.5, 0.02);  // sd of the mean is 0.0029
}

TEST(Rng, StateRoundTrip) {
  modnet::Rng a(9);
  a.next();
  modnet::Rng b(0);
  b.set_state(a.state());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a.next(), b.next());
}

TEST(Rng, Permutation) {
  modnet::Rng r1(7), r2(7), r3(8);
  const auto p1 = modnet::permutation(1000, r1);
  const auto p2 = modnet::permutation(1000, r2);
  const auto p3 = modnet::permutation(1000, r3);
  EXPECT_EQ(p1.scalar_type(), torch::kLong);
  EXPECT_TRUE(torch::equal(std::get<0>(p1.sort()), torch::arange(1000, torch::kLong)));
  EXPECT_TRUE(torch::equal(p1, p2));
  EXPECT_FALSE(torch::equal(p1, p3));
  EXPECT_FALSE(torch::equal(p1, torch::arange(1000, torch::kLong)));
  EXPECT_EQ(modnet::permutation(0, r1).numel(), 0);
}

TEST(Rng, GeneratorIsDeterministic) {
  auto g1 = modnet::make_generator(11), g2 = modnet::make_generator(11), g3 = modnet::make_generator(12);
  const auto a = torch::randn({100}, g1), b = torch::randn({100}, g2), c = torch::randn({100}, g3);
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_FALSE(torch::equal(a, c));
}

// ---- files ----------------------------------------------------------------------------------

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    dir_ = fs::temp_directory_path() / ("modnet_test_core_" + std::to_string(::getpid()) + "_" + std::to_string(stamp));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::vector<std::string> tmp_files() const {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir_))
      if (e.path().filename().string().find(".tmp.") != std::string::npos) out.push_back(e.path().string());
    return out;
  }
  fs::path dir_;
};

TEST_F(FilesTest, AtomicWriteRoundTrip) {
  const std::string path = (dir_ / "sub" / "out.txt").string();  // the parent is created
  std::string content = "line 1\nline 2\n";
  content.push_back('\0');
  content += "binary\xff";
  modnet::write_file_atomic(path, content);
  EXPECT_TRUE(modnet::file_exists(path));
  EXPECT_EQ(modnet::read_file(path), content);
  modnet::write_file_atomic(path, "replaced");
  EXPECT_EQ(modnet::read_file(path), "replaced");
  EXPECT_TRUE(tmp_files().empty());
}

TEST_F(FilesTest, FailedWriteLeavesNothing) {
  const std::string path = (dir_ / "out.txt").string();
  modnet::write_file_atomic(path, "old");
  EXPECT_THROW(modnet::write_atomic_with(path,
                                         [](const std::string& tmp) {
                                           std::ofstream(tmp) << "half";
                                           throw modnet::Error("writer failed");
                                         }),
               modnet::Error);
  EXPECT_EQ(modnet::read_file(path), "old");
  EXPECT_TRUE(tmp_files().empty());
}

TEST_F(FilesTest, ReadMissingFile) {
  EXPECT_THROW(modnet::read_file((dir_ / "missing.txt").string()), modnet::DataError);
  EXPECT_FALSE(modnet::file_exists((dir_ / "missing.txt").string()));
}

TEST_F(FilesTest, PrepareRunDir) {
  using modnet::RunDirMode;
  const std::string run = (dir_ / "run").string();
  modnet::prepare_run_dir(run, RunDirMode::fresh);  // created
  EXPECT_TRUE(fs::is_directory(run));
  modnet::prepare_run_dir(run, RunDirMode::fresh);  // empty: fine
  modnet::write_file_atomic(run + "/metrics.csv", "x\n");

  try {
    modnet::prepare_run_dir(run, RunDirMode::fresh);
    FAIL() << "expected modnet::Error";
  } catch (const modnet::Error& e) {
    EXPECT_CONTAINS(e.what(), run);
    EXPECT_CONTAINS(e.what(), "--force");
    EXPECT_CONTAINS(e.what(), "--resume");
  }
  EXPECT_TRUE(fs::exists(run + "/metrics.csv"));  // untouched

  EXPECT_THROW(modnet::prepare_run_dir(run, RunDirMode::resume), modnet::Error);  // no config.yaml
  EXPECT_THROW(modnet::prepare_run_dir((dir_ / "nothing").string(), RunDirMode::resume), modnet::Error);

  fs::create_directories(run + "/nested/deeper");
  modnet::prepare_run_dir(run, RunDirMode::force);
  EXPECT_TRUE(fs::is_directory(run));
  EXPECT_TRUE(fs::is_empty(run));

  modnet::write_file_atomic(run + "/config.yaml", "seed: 0\n");
  EXPECT_NO_THROW(modnet::prepare_run_dir(run, RunDirMode::resume));
  EXPECT_TRUE(fs::exists(run + "/config.yaml"));  // resume keeps the run

  // A file where the directory should be is an error in every mode.
  modnet::write_file_atomic((dir_ / "afile").string(), "x");
  for (auto mode : {RunDirMode::fresh, RunDirMode::force, RunDirMode::resume})
    EXPECT_THROW(modnet::prepare_run_dir((dir_ / "afile").string(), mode), modnet::Error);
}
