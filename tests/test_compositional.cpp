// Tests of modnet/data/compositional: slot layout, the combinatorial OOD split, loss and accuracy,
// input noise, slot energies; on a small CIFAR-10 binary set the test writes, and on the real
// CIFAR-10 images when they are unpacked in data/.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>

#include <torch/torch.h>

#include "modnet/analysis/similarity.h"
#include "modnet/core/config.h"
#include "modnet/core/error.h"
#include "modnet/data/compositional.h"
#include "modnet/data/images.h"
#include "modnet/data/registry.h"
#include "modnet/run/experiment.h"
#include "fixtures.h"

namespace fs = std::filesystem;
using modnet::data::CompositionalOptions;
using modnet::data::CompositionalTask;
using modnet::data::OodSplit;
using modnet::data::Split;

namespace {

// A CIFAR-10 binary set in `root` with `per_class` images per class in each split; pixel values are
// random but the first byte of every image is its index (mod 256), so layouts can be checked exactly.
std::string write_tiny_cifar(const fs::path& root, int per_class_train = 12, int per_class_test = 6) {
  auto gen = torch::make_generator<at::CPUGeneratorImpl>(7);
  auto write = [&](const std::string& file, int per_class) {
    std::ofstream out(root / file, std::ios::binary);
    for (int i = 0; i < 10 * per_class; ++i) {
      const char label = char(i % 10);
      out.write(&label, 1);
      auto pixels = torch::randint(0, 256, {3072}, gen, torch::kUInt8);
      pixels[0] = uint8_t(i % 256);
      out.write(reinterpret_cast<const char*>(pixels.data_ptr<uint8_t>()), 3072);
    }
  };
  for (int b = 1; b <= 5; ++b) write("data_batch_" + std::to_string(b) + ".bin", per_class_train / 5 + (b <= per_class_train % 5));
  write("test_batch.bin", per_class_test);
  return root.string();
}

CompositionalOptions tiny(const std::string& root, int64_t slots) {
  CompositionalOptions o;
  o.root = root;
  o.format = "cifar10_binary";
  o.slots = slots;
  o.n_train = 400;
  o.n_val = 50;
  o.n_test = 100;
  o.n_ood = 100;
  o.val_images = 20;
  return o;
}

// The image set is written once per test suite (per process: ctest runs each test case as its own
// process, several at a time) into a scratch directory removed after the suite.
class CompositionalTest : public modnet::testing::SeededTest {
 protected:
  static void SetUpTestSuite() {
    suite_dir_ = std::make_unique<modnet::testing::TempDir>("compositional");
    root_ = write_tiny_cifar(suite_dir_->path());
  }
  static void TearDownTestSuite() { suite_dir_.reset(); }
  static std::unique_ptr<modnet::testing::TempDir> suite_dir_;
  static std::string root_;
};
std::unique_ptr<modnet::testing::TempDir> CompositionalTest::suite_dir_;
std::string CompositionalTest::root_;

int64_t code_of(const torch::Tensor& labels_row, int64_t classes) {
  int64_t code = 0, scale = 1;
  for (int64_t s = 0; s < labels_row.size(0); ++s, scale *= classes) code += labels_row[s].item<int64_t>() * scale;
  return code;
}

}  // namespace

TEST_F(CompositionalTest, ShapesAndSizes) {
  CompositionalTask task(tiny(root_, 3), 0);
  EXPECT_EQ(task.input_dim(), 3 * 32 * 32 * 3);
  EXPECT_EQ(task.output_dim(), 30);
  EXPECT_EQ(task.module_count(), 3);
  EXPECT_TRUE(task.classification());
  EXPECT_EQ(task.size(Split::train), 400);
  EXPECT_EQ(task.size(Split::val), 50);
  EXPECT_EQ(task.size(Split::test), 100);
  EXPECT_EQ(task.size(Split::ood), 100);
  const auto batch = task.get(Split::train, torch::arange(5), torch::kCPU);
  EXPECT_EQ(batch.x.sizes(), (std::vector<int64_t>{5, 9216}));
  EXPECT_EQ(batch.x.scalar_type(), torch::kFloat);
  EXPECT_EQ(batch.y.sizes(), (std::vector<int64_t>{5, 3}));
  EXPECT_EQ(batch.y.scalar_type(), torch::kLong);
}

TEST_F(CompositionalTest, SlotSOccupiesColumns32sTo32sPlus31) {
  auto o = tiny(root_, 4);
  o.normalize = false;  // x = pixel / 255
  CompositionalTask task(o, 0);
  const auto set = modnet::data::load_images(root_, "cifar10_binary", modnet::data::ImageSplit::test);
  const auto index = torch::tensor({3, 0, 7}, torch::kLong);
  const auto batch = task.get(Split::test, index, torch::kCPU);
  const auto tuples = task.tuples(Split::test).index_select(0, index);
  const auto image = batch.x.view({3, 3, 32, 4 * 32});  // [B, C, H, k·W]
  for (int64_t b = 0; b < 3; ++b)
    for (int64_t s = 0; s < 4; ++s) {
      const auto src = set.images[tuples[b][s].item<int64_t>()];  // uint8 [3, 32, 32]
      const auto got = image[b].narrow(2, 32 * s, 32).mul(255.0f).round().to(torch::kUInt8);
      EXPECT_TRUE(torch::equal(got, src)) << "batch row " << b << " slot " << s;
      EXPECT_EQ(batch.y[b][s].item<int64_t>(), set.labels[tuples[b][s].item<int64_t>()].item<int64_t>());
    }
  // input_slots agrees with the layout.
  const auto slots = task.input_slots().view({3, 32, 4 * 32});
  for (int64_t s = 0; s < 4; ++s) EXPECT_TRUE(slots.narrow(2, 32 * s, 32).eq(s).all().item<bool>());
}

TEST_F(CompositionalTest, NormalisationUsesTrainingChannelStatistics) {
  CompositionalTask task(tiny(root_, 2), 0);
  const auto [mean, std] = task.channel_stats();
  EXPECT_NEAR(mean[0].item<float>(), 127.5f, 5.0f);  // uniform random pixels
  EXPECT_NEAR(std[1].item<float>(), 73.9f, 3.0f);
  const auto x = task.get(Split::train, torch::arange(400), torch::kCPU).x;
  EXPECT_NEAR(x.mean().item<double>(), 0.0, 0.02);
  EXPECT_NEAR(x.std().item<double>(), 1.0, 0.02);
}

TEST_F(CompositionalTest, OodSplitIsExactDeterministicAndKeepsEveryClassInEverySlot) {
  OodSplit a(10, 2, 0.2, 5), b(10, 2, 0.2, 5), c(10, 2, 0.2, 6);
  int held = 0, same = 0, differs = 0;
  for (int64_t code = 0; code < 100; ++code) {
    held += a.held_out(code);
    same += a.held_out(code) == b.held_out(code);
    differs += a.held_out(code) != c.held_out(code);
  }
  EXPECT_EQ(held, 20);
  EXPECT_EQ(same, 100);
  EXPECT_GT(differs, 0);
  // k = 1: holding out 2 of 10 classes would remove them from training - refused.
  EXPECT_THROW(OodSplit(10, 1, 0.2, 0), modnet::ConfigError);
  EXPECT_NO_THROW(OodSplit(10, 1, 0.0, 0));
  // Beyond 10^6 combinations membership is a seeded hash: the fraction holds approximately.
  OodSplit big(10, 7, 0.2, 1);
  EXPECT_FALSE(big.enumerated());
  modnet::Rng rng(3);
  int big_held = 0;
  for (int i = 0; i < 200000; ++i) big_held += big.held_out(int64_t(rng.below(10000000)));
  EXPECT_NEAR(big_held / 200000.0, 0.2, 0.005);
  EXPECT_TRUE(big.held_out(big.draw_held_out(rng)));
}

TEST_F(CompositionalTest, TrainingTuplesAvoidHeldOutCombinationsAndCoverEveryClassInEverySlot) {
  for (int64_t k : {2, 3}) {
    auto o = tiny(root_, k);
    o.n_train = 2000;
    CompositionalTask task(o, 1);
    const auto& ood = task.ood_split();
    EXPECT_DOUBLE_EQ(ood.held_out_count(), std::round(0.2 * std::pow(10.0, double(k))));
    const auto train = task.tuple_labels(Split::train);
    std::set<int64_t> train_codes;
    for (int64_t i = 0; i < train.size(0); ++i) {
      const auto code = code_of(train[i], 10);
      EXPECT_FALSE(ood.held_out(code)) << "training tuple " << i << " has a held-out combination";
      train_codes.insert(code);
    }
    for (int64_t s = 0; s < k; ++s)
      EXPECT_EQ(std::get<0>(at::_unique(train.select(1, s))).numel(), 10) << "slot " << s << " misses a class";
    const auto test = task.tuple_labels(Split::test), unseen = task.tuple_labels(Split::ood);
    for (int64_t i = 0; i < test.size(0); ++i) EXPECT_FALSE(ood.held_out(code_of(test[i], 10)));
    for (int64_t i = 0; i < unseen.size(0); ++i) {
      const auto code = code_of(unseen[i], 10);
      EXPECT_TRUE(ood.held_out(code));
      EXPECT_EQ(train_codes.count(code), 0u) << "ood combination " << code << " seen in training";
    }
  }
}

TEST_F(CompositionalTest, ValidationImagesAreHeldOutOfTraining) {
  CompositionalTask task(tiny(root_, 2), 0);
  const auto train = task.tuples(Split::train).reshape({-1}), val = task.tuples(Split::val).reshape({-1});
  std::set<int64_t> train_ids(train.data_ptr<int64_t>(), train.data_ptr<int64_t>() + train.numel());
  for (int64_t i = 0; i < val.numel(); ++i) EXPECT_EQ(train_ids.count(val[i].item<int64_t>()), 0u);
}

TEST_F(CompositionalTest, SameSeedSameTuplesOtherSeedOthers) {
  CompositionalTask a(tiny(root_, 3), 4), b(tiny(root_, 3), 4), c(tiny(root_, 3), 5);
  for (auto split : {Split::train, Split::val, Split::test, Split::ood})
    EXPECT_TRUE(torch::equal(a.tuples(split), b.tuples(split)));
  EXPECT_FALSE(torch::equal(a.tuples(Split::train), c.tuples(Split::train)));
}

TEST_F(CompositionalTest, LossIsMeanOfPerSlotCrossEntropiesAndAccuracyPerSlot) {
  CompositionalTask task(tiny(root_, 3), 0);
  const auto y = task.get(Split::train, torch::arange(8), torch::kCPU).y;
  auto logits = torch::randn({8, 30});
  double expected = 0;
  for (int64_t s = 0; s < 3; ++s)
    expected += torch::nn::functional::cross_entropy(logits.narrow(1, 10 * s, 10), y.select(1, s)).item<double>() / 3;
  EXPECT_NEAR(task.loss(logits, y).item<double>(), expected, 1e-5);
  // Slot 0 always right, slot 1 always wrong, slot 2 right on the first half.
  auto pred = torch::zeros({8, 30});
  for (int64_t b = 0; b < 8; ++b) {
    pred[b][y[b][0].item<int64_t>()] = 1;
    pred[b][10 + (y[b][1].item<int64_t>() + 1) % 10] = 1;
    pred[b][20 + (b < 4 ? y[b][2].item<int64_t>() : (y[b][2].item<int64_t>() + 1) % 10)] = 1;
  }
  const auto m = task.metric_sums(pred, y);
  EXPECT_DOUBLE_EQ(m.at("accuracy_slot0"), 8);
  EXPECT_DOUBLE_EQ(m.at("accuracy_slot1"), 0);
  EXPECT_DOUBLE_EQ(m.at("accuracy_slot2"), 4);
  EXPECT_DOUBLE_EQ(m.at("accuracy"), 4);  // sum over the batch of the mean slot accuracy
  EXPECT_THROW(task.loss(torch::zeros({8, 20}), y), c10::Error);
  // Kernel targets: the one-hot rows of all slots.
  const auto t = task.target_matrix(y);
  EXPECT_EQ(t.sizes(), (std::vector<int64_t>{8, 30}));
  EXPECT_TRUE(t.sum(1).eq(3).all().item<bool>());
  EXPECT_EQ(t[0][10 + y[0][1].item<int64_t>()].item<float>(), 1.0f);
}

TEST_F(CompositionalTest, InputNoiseHasTheRequestedStatisticsAndIsSeeded) {
  const auto x = torch::zeros({200, 500});
  const auto a = modnet::data::add_input_noise(x, 0.7, 11);
  EXPECT_NEAR(a.mean().item<double>(), 0.0, 0.01);
  EXPECT_NEAR(a.std().item<double>(), 0.7, 0.01);
  EXPECT_TRUE(torch::equal(a, modnet::data::add_input_noise(x, 0.7, 11)));
  EXPECT_FALSE(torch::equal(a, modnet::data::add_input_noise(x, 0.7, 12)));
  EXPECT_TRUE(torch::equal(modnet::data::add_input_noise(x, 0.0, 11), x));
  EXPECT_THROW(modnet::data::add_input_noise(x, -1.0, 0), c10::Error);
}

TEST_F(CompositionalTest, SlotEnergyOfAModuleOnOneSlot) {
  CompositionalTask task(tiny(root_, 3), 0);
  const auto slots = task.input_slots();
  auto u = torch::zeros({2, task.input_dim(), 4}, torch::kDouble);
  u[0].index_put_({slots.eq(1)}, 1.0);  // module 0 only on slot 1
  u[1].fill_(1.0);                      // module 1 spread evenly
  const auto e = modnet::analysis::module_slot_energy(u, slots);
  EXPECT_EQ(e.sizes(), (std::vector<int64_t>{2, 3}));
  EXPECT_NEAR(e[0][1].item<double>(), 1.0, 1e-12);
  EXPECT_NEAR(e[1][2].item<double>(), 1.0 / 3, 1e-12);
  EXPECT_NEAR(modnet::analysis::mean_max_slot_share(e), (1.0 + 1.0 / 3) / 2, 1e-12);
}

namespace {
struct TaskSection {
  modnet::data::TaskSpec task;
  template <class V>
  void fields(V& v) {
    v("task", task, modnet::config::required(), "task");
  }
};
modnet::data::TaskSpec spec_of(const std::string& root, const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> keys{{"type", "compositional"}, {"root", root}, {"format", "cifar10_binary"},
                                          {"n_train", "10"}, {"n_test", "10"}, {"n_ood", "10"}, {"n_val", "10"},
                                          {"val_images", "20"}};
  for (const auto& [k, v] : extra) keys[k] = v;
  std::string text = "task:\n";
  for (const auto& [k, v] : keys) text += "  " + k + ": " + v + "\n";
  return modnet::config::read<TaskSection>(modnet::config::load_string(text, "task.yaml")).task;
}
modnet::data::TaskPtr build(const std::string& root, const std::map<std::string, std::string>& extra) {
  return modnet::data::build_task(spec_of(root, extra), 0);
}
}  // namespace

TEST_F(CompositionalTest, TaskShapeEqualsTheBuiltTasksSizes) {
  // data::task_shape reads the image headers only; the sizes are those of the task built in full.
  for (const std::string slots : {"1", "2", "3"}) {
    const auto spec = spec_of(root_, {{"slots", slots}});
    const auto shape = modnet::data::task_shape(spec);
    ASSERT_TRUE(shape.has_value()) << "slots " << slots;
    const auto task = modnet::data::build_task(spec, 0);
    EXPECT_EQ(shape->input_dim, task->input_dim()) << "slots " << slots;
    EXPECT_EQ(shape->output_dim, task->output_dim()) << "slots " << slots;
    EXPECT_EQ(shape->modules, task->module_count()) << "slots " << slots;
    // By hand: k images of 3×32×32 side by side, 10 classes per slot, k true modules.
    const int64_t k = std::stoll(slots);
    EXPECT_EQ(shape->input_dim, k * 3 * 32 * 32);
    EXPECT_EQ(shape->output_dim, k * 10);
    EXPECT_EQ(shape->modules, k);
  }
}

TEST_F(CompositionalTest, ConfigChecks) {
  EXPECT_NO_THROW(build(root_, {{"slots", "2"}}));
  EXPECT_THROW(build(root_, {{"slots", "0"}}), modnet::ConfigError);
  EXPECT_EQ(build(root_, {{"slots", "1"}})->size(Split::ood), 0);  // one slot: no combinations to hold out
  EXPECT_NO_THROW(build(root_, {{"slots", "1"}, {"ood_fraction", "0"}, {"n_ood", "0"}}));
  EXPECT_THROW(build(root_, {{"slots", "1"}, {"ood_fraction", "0"}}), modnet::ConfigError);  // n_ood without ood
  EXPECT_THROW(build(root_, {{"ood_fraction", "1.0"}}), modnet::ConfigError);
  EXPECT_THROW(build(root_, {{"val_images", "1000"}}), modnet::ConfigError);
  EXPECT_THROW(build(root_, {{"colour", "red"}}), modnet::ConfigError);
  EXPECT_THROW(build("/nonexistent/modnet", {}), modnet::DataError);
}

TEST_F(CompositionalTest, RealCifar10AtSixSlots) {
  const std::string root = MODNET_SOURCE_DIR "/data/cifar10-jpeg";
  if (!fs::exists(root + "/train")) GTEST_SKIP() << root << " not unpacked (scripts/setup.sh unpacks ../shared/data)";
  if (!modnet::data::image_folder_supported()) GTEST_SKIP() << "built without OpenCV (MODNET_WITH_OPENCV=OFF): the JPEG folder cannot be read";
  CompositionalOptions o;
  o.root = root;
  o.slots = 6;
  o.n_train = 1000;
  o.n_test = 500;
  o.n_ood = 500;
  CompositionalTask task(o, 0);
  EXPECT_EQ(task.input_dim(), 18432);
  EXPECT_EQ(task.output_dim(), 60);
  const auto batch = task.get(Split::ood, torch::arange(256), torch::kCPU);
  EXPECT_EQ(batch.x.sizes(), (std::vector<int64_t>{256, 18432}));
  EXPECT_NEAR(task.get(Split::train, torch::arange(1000), torch::kCPU).x.mean().item<double>(), 0.0, 0.05);
}

TEST_F(CompositionalTest, CpuBatchEqualsTheTensorOpDefinition) {
  // get() on the CPU assembles the batch in one pass; it must equal the definition written with
  // tensor ops: normalise each source image per channel, then place the slots side by side.
  CompositionalTask task(tiny(root_, 3), 2);
  const auto index = torch::tensor({5, 1, 99, 42}, torch::kLong);
  const auto x = task.get(Split::train, index, torch::kCPU).x;
  const auto set = modnet::data::load_images(root_, "cifar10_binary", modnet::data::ImageSplit::train);
  const auto [mean, std] = task.channel_stats();
  const auto ids = task.tuples(Split::train).index_select(0, index).reshape({-1});
  const auto normalised = (set.images.index_select(0, ids).to(torch::kFloat) - mean.view({1, 3, 1, 1})) / std.view({1, 3, 1, 1});
  const auto expected = normalised.view({4, 3, 3, 32, 32}).permute({0, 2, 3, 1, 4}).reshape({4, -1});
  EXPECT_TRUE(torch::allclose(x, expected, 1e-5, 1e-5));
}

// The two bounds of docs/reproducing.md through the real presets, on the tiny image set: the task's
// slots reach the model (slot-wired) and the initialiser (slot oracle), and both runs end with
// every module inside one slot (slot focus 1) or, for the oracle, start there.
TEST_F(CompositionalTest, SlotWiredAndSlotOraclePresetsRunOnACompositionalTask) {
  const modnet::testing::TempDir temp("bounds");
  for (const std::string preset : {"slot_wired", "oracle_modular"}) {
    auto cfg = modnet::run::load_experiment_config(
        std::string(MODNET_SOURCE_DIR) + "/configs/cifar/" + preset + ".yaml",
        {"task.root=" + root_, "task.format=cifar10_binary", "task.slots=3", "task.n_train=64", "task.n_val=16",
         "task.n_test=16", "task.n_ood=16", "task.val_images=20", "model.module_dim=2", "model.hidden=[8]",
         "train.epochs=null", "train.steps=6", "train.eval_every=3", "train.batch_size=16", "train.progress=false", "log_level=warn",
         "analysis.noise=[]"});
    modnet::run::check_experiment(cfg);
    const auto dir = temp.path() / preset;
    modnet::run::Experiment experiment(cfg);
    ASSERT_TRUE(experiment.run(dir.string(), modnet::RunDirMode::fresh).finished) << preset;
    const auto summary = YAML::LoadFile((dir / "summary.json").string());
    if (preset == "slot_wired") {
      EXPECT_NEAR(summary["slot_focus"].as<double>(), 1.0, 1e-9);
      EXPECT_FALSE(summary["init_type"]);
    } else {
      EXPECT_EQ(summary["init_type"].as<std::string>(), "slot_oracle");
      EXPECT_NEAR(summary["init_slot_focus"].as<double>(), 1.0, 1e-9);
      EXPECT_FALSE(summary["init_objective_start"]);  // no objective, none reported
      EXPECT_LT(summary["slot_focus"].as<double>(), 1.0);  // trained freely afterwards
    }
  }
  // K = 2k is checked against the oracle's per_slot = 2.
  auto odd = modnet::run::load_experiment_config(
      std::string(MODNET_SOURCE_DIR) + "/configs/cifar/oracle_modular.yaml",
      {"task.root=" + root_, "task.format=cifar10_binary", "task.slots=3", "task.n_train=64", "task.n_val=16",
       "task.n_test=16", "task.n_ood=16", "task.val_images=20", "model.modules=5", "model.module_dim=2",
       "model.hidden=[8]", "train.epochs=null", "train.steps=2", "train.progress=false", "log_level=warn"});
  modnet::run::Experiment experiment(odd);
  try {
    experiment.run((temp.path() / "odd").string(), modnet::RunDirMode::fresh);
    ADD_FAILURE() << "expected a ConfigError";
  } catch (const modnet::ConfigError& e) {
    EXPECT_CONTAINS(std::string(e.what()), "init.per_slot = 2: expected model.modules = 2 x 3 slots = 6, got 5");
  }
}
