// End-to-end tests of the command-line apps, run as a user would run them.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include <torch/torch.h>
#include <yaml-cpp/yaml.h>

#include "fixtures.h"
#include "modnet/core/files.h"
#include "modnet/run/experiment.h"
#include "modnet/train/checkpoint.h"
#include "shell.h"

namespace fs = std::filesystem;

namespace {

using modnet::testing::Result;
using modnet::testing::sh;

const std::string kBin = std::string(MODNET_BINARY_DIR) + "/bin/";
const std::string kConfig = std::string(MODNET_SOURCE_DIR) + "/configs/sine/monolithic.yaml";
// A small, fast version of the preset: the overrides a user would type.
const std::string kSmall =
    " task.n_train=512 task.n_val=256 task.n_test=512 train.steps=120 train.eval_every=40 log_level=warn";

// Each test gets a fresh directory of its own (dir_, sub(name)), removed after it.
using AppsTest = modnet::testing::TempDirTest;

TEST_F(AppsTest, TrainThenEvaluate) {
  auto r = sh(kBin + "modnet-train --config " + kConfig + kSmall + " --out " + sub("run"));
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* f : {"config.yaml", "metrics.csv", "model.pt", "checkpoint.pt", "summary.json"})
    EXPECT_TRUE(fs::exists(sub(std::string("run/") + f))) << f;
  const auto summary = YAML::LoadFile(sub("run/summary.json"));
  EXPECT_EQ(summary["steps"].as<int>(), 120);
  EXPECT_LT(summary["test_loss"].as<double>(), summary["test_target_variance"].as<double>());

  // modnet-eval reproduces the summary's test loss from the saved weights.
  r = sh(kBin + "modnet-eval --run " + sub("run"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("test loss"), std::string::npos) << r.output;
  const auto eval = YAML::LoadFile(sub("run/eval_test.json"));
  EXPECT_NEAR(eval["noise0"]["loss"].as<double>(), summary["test_loss"].as<double>(), 1e-6);
  r = sh(kBin + "modnet-eval --run " + sub("run") + " --split train");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NEAR(YAML::LoadFile(sub("run/eval_train.json"))["noise0"]["loss"].as<double>(), summary["train_loss"].as<double>(),
              1e-6);
  // Under input noise the loss rises; the same seed gives the same number twice.
  r = sh(kBin + "modnet-eval --run " + sub("run") + " --noise 0,1");
  ASSERT_EQ(r.status, 0) << r.output;
  const auto noisy = YAML::LoadFile(sub("run/eval_test.json"));
  EXPECT_GT(noisy["noise1"]["loss"].as<double>(), noisy["noise0"]["loss"].as<double>());
  r = sh(kBin + "modnet-eval --run " + sub("run") + " --noise 1");
  EXPECT_DOUBLE_EQ(YAML::LoadFile(sub("run/eval_test.json"))["noise1"]["loss"].as<double>(),
                   noisy["noise1"]["loss"].as<double>());
  // The sine task has no ood split; a bad σ list is refused.
  EXPECT_NE(sh(kBin + "modnet-eval --run " + sub("run") + " --split ood").status, 0);
  r = sh(kBin + "modnet-eval --run " + sub("run") + " --noise 0,,1");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("--noise"), std::string::npos) << r.output;
}

TEST_F(AppsTest, ExistingRunDirectoryIsRefusedUnlessForced) {
  ASSERT_EQ(sh(kBin + "modnet-train --config " + kConfig + kSmall + " train.steps=10 --out " + sub("run")).status, 0);
  const std::string before = modnet::read_file(sub("run/summary.json"));
  auto r = sh(kBin + "modnet-train --config " + kConfig + kSmall + " train.steps=10 --out " + sub("run"));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("--force"), std::string::npos) << r.output;
  EXPECT_EQ(modnet::read_file(sub("run/summary.json")), before);  // untouched
  r = sh(kBin + "modnet-train --config " + kConfig + kSmall + " train.steps=20 --out " + sub("run") + " --force");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(YAML::LoadFile(sub("run/summary.json"))["steps"].as<int>(), 20);
}

TEST_F(AppsTest, StopAndResumeEqualsOneRun) {
  ASSERT_EQ(sh(kBin + "modnet-train --config " + kConfig + kSmall + " --out " + sub("full")).status, 0);
  auto r = sh(kBin + "modnet-train --config " + kConfig + kSmall + " --out " + sub("split") + " --stop-at-step 50");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("--resume"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(sub("split/summary.json")));
  r = sh(kBin + "modnet-train --resume " + sub("split"));
  ASSERT_EQ(r.status, 0) << r.output;
  const auto a = YAML::LoadFile(sub("full/summary.json"));
  const auto b = YAML::LoadFile(sub("split/summary.json"));
  for (const char* key : {"train_loss", "val_loss", "test_loss", "steps", "config_hash"})
    EXPECT_EQ(a[key].as<std::string>(), b[key].as<std::string>()) << key;
  // The saved weights are the same, tensor for tensor: each model.pt loaded into the model its run's
  // config.yaml builds.
  auto saved_weights = [&](const std::string& run) {
    modnet::run::Experiment e(modnet::run::load_experiment_config(sub(run + "/config.yaml")));
    std::vector<std::pair<std::string, torch::Tensor>> initial, loaded;
    for (const auto& p : e.model().ptr()->named_parameters()) initial.emplace_back(p.key(), p.value().detach().clone());
    modnet::train::load_weights(sub(run + "/model.pt"), *e.model().ptr());
    for (const auto& p : e.model().ptr()->named_parameters()) loaded.emplace_back(p.key(), p.value().detach().clone());
    // Guard against a load that changes nothing: the trained weights are not the initial ones.
    bool changed = false;
    for (size_t i = 0; i < loaded.size(); ++i) changed = changed || !torch::equal(initial[i].second, loaded[i].second);
    EXPECT_TRUE(changed) << run << "/model.pt holds the initial weights";
    return loaded;
  };
  const auto full = saved_weights("full"), split = saved_weights("split");
  ASSERT_EQ(full.size(), split.size());
  ASSERT_FALSE(full.empty());
  for (size_t i = 0; i < full.size(); ++i) {
    EXPECT_EQ(full[i].first, split[i].first);
    EXPECT_TRUE(torch::equal(full[i].second, split[i].second)) << "parameter " << full[i].first << " differs";
  }
}

TEST_F(AppsTest, BadInputGivesOneClearLineAndNonZeroExit) {
  struct Case {
    std::string args, expect;
  };
  const std::vector<Case> cases{
      {"--config " + kConfig + " train.lrr=1 --out " + sub("x"), "train.lrr"},
      {"--config " + kConfig + " train.lr=-1 --out " + sub("x"), "train.lr"},
      {"--config " + kConfig + " task.dim=abc --out " + sub("x"), "task.dim"},
      {"--config " + kConfig + " model.type=nosuch --out " + sub("x"), "nosuch"},
      {"--config " + kConfig + " train.epochs=3 --out " + sub("x"), "only one of"},
      {"--config " + kConfig + " device=cuda:7 --out " + sub("x"), "cuda"},
      {"--config " + sub("missing.yaml") + " --out " + sub("x"), "missing.yaml"},
      {"--config " + kConfig, "--out"},
      {"--bogus", "--bogus"},
      {"--resume " + sub("nothing"), "config.yaml"},
  };
  for (const auto& c : cases) {
    auto r = sh(kBin + "modnet-train " + c.args);
    EXPECT_NE(r.status, 0) << c.args;
    EXPECT_NE(r.output.find("modnet-train: error:"), std::string::npos) << c.args << "\n" << r.output;
    EXPECT_NE(r.output.find(c.expect), std::string::npos) << c.args << "\n" << r.output;
    EXPECT_EQ(r.output.find("Exception raised from"), std::string::npos) << "backtrace leaked:\n" << r.output;
    EXPECT_FALSE(fs::exists(sub("x"))) << "nothing is written on bad input: " << c.args;
  }
  // A YAML file with an unknown key: the message points at the file and line.
  {
    std::ofstream f(sub("bad.yaml"));
    f << "task:\n  type: sine\nmodel:\n  type: monolithic\n  params: 100\ntrain:\n  steps: 5\n  bogus_key: 1\n";
  }
  auto r = sh(kBin + "modnet-train --config " + sub("bad.yaml") + " --out " + sub("x"));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("bad.yaml:8:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("train.bogus_key"), std::string::npos) << r.output;

  r = sh(kBin + "modnet-eval --run " + sub("nothing"));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("modnet-eval: error:"), std::string::npos) << r.output;
}

TEST_F(AppsTest, PrintConfigShowsResolvedValuesWithOverrides) {
  auto r = sh(kBin + "modnet-train --config " + kConfig + " train.lr=0.01 model.params=5000 --print-config");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("lr: 0.01"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("params: 5000"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("weight_decay: 0.0"), std::string::npos) << "defaults are shown:\n" << r.output;
  // The printed config is itself a valid config.
  modnet::write_file_atomic(sub("printed.yaml"), r.output);
  EXPECT_EQ(sh(kBin + "modnet-train --config " + sub("printed.yaml") + " --print-config").output, r.output);
  EXPECT_EQ(sh(kBin + "modnet-train --help").status, 0);
}

TEST_F(AppsTest, ReportTabulatesRunsAcrossSeeds) {
  for (int seed : {0, 1})
    ASSERT_EQ(sh(kBin + "modnet-train --config " + kConfig + kSmall + " seed=" + std::to_string(seed) + " --out " +
                 sub("runs/mono/seed" + std::to_string(seed)))
                  .status,
              0);
  const std::string modular = std::string(MODNET_SOURCE_DIR) + "/configs/sine/modular.yaml";
  ASSERT_EQ(sh(kBin + "modnet-train --config " + modular + kSmall + " --out " + sub("runs/modular/seed0")).status, 0);
  auto r = sh(kBin + "modnet-report --runs " + sub("runs"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("| sine-monolithic | 2 |"), std::string::npos) << r.output;  // two seeds, one row
  EXPECT_NE(r.output.find("| sine-modular | 1 |"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(" ± "), std::string::npos) << "mean ± std over seeds:\n" << r.output;
  EXPECT_TRUE(fs::exists(sub("runs/report.md")));
  if (sh("gnuplot --version").status == 0) {
    EXPECT_TRUE(fs::exists(sub("runs/report_test_loss.png")));
    EXPECT_TRUE(fs::exists(sub("runs/report_similarity.png")));  // the modular run logs similarity
  }
  EXPECT_NE(sh(kBin + "modnet-report --runs " + sub("nothing")).status, 0);
}

TEST_F(AppsTest, ConfigurationReferenceInDocsIsCurrent) {
  // docs/configuration.md is generated from the options structs; regenerate it with
  //   build/bin/modnet-train --config-reference > docs/configuration.md
  auto r = sh(kBin + "modnet-train --config-reference 2>/dev/null");
  ASSERT_EQ(r.status, 0);
  EXPECT_NE(r.output.find("`train.lr`"), std::string::npos);
  EXPECT_NE(r.output.find("`init.jitter`"), std::string::npos);
  EXPECT_EQ(r.output, modnet::read_file(std::string(MODNET_SOURCE_DIR) + "/docs/configuration.md"))
      << "docs/configuration.md is out of date: regenerate it with modnet-train --config-reference";
}

}  // namespace
