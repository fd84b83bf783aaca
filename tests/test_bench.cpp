// Tests of modnet/bench and modnet-bench: correctness, not speed (speed is measured by the
// benchmark itself, never in a test). The per-module loop formulation equals the batched modular
// network; the FLOP formulas match hand counts; the timing helpers and the GEMM rate behave; the
// options are validated; the binary writes a valid JSON report.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <torch/torch.h>
#include <yaml-cpp/yaml.h>

#include "modnet/bench/bench.h"
#include "modnet/bench/synthetic_images.h"
#include "modnet/core/config.h"
#include "modnet/core/device.h"
#include "modnet/core/error.h"
#include "modnet/core/files.h"
#include "modnet/init/kernel_init.h"
#include "fixtures.h"
#include "modnet/models/modular.h"
#include "modnet/run/experiment.h"
#include "shell.h"

namespace fs = std::filesystem;
namespace bench = modnet::bench;
namespace models = modnet::models;

namespace {

using BenchTest = modnet::testing::SeededTest;
using modnet::testing::TempDir;

// ---- the per-module loop is the same function as the batched forward ------------------------------

TEST_F(BenchTest, PerModuleLoopEqualsBatchedForwardValuesAndGradients) {
  for (bool shared : {false, true}) {
    for (const std::string act : {"relu", "tanh"}) {
      torch::manual_seed(3);
      models::Modular model(models::ModularOptions(12, 3, 5, 2).hidden({7, 6}).activation(act).shared_weights(shared));
      model->to(torch::kDouble);
      const auto x = torch::randn({9, 12}, torch::kDouble).requires_grad_(true);
      const auto batched = model->forward(x);
      const auto loop = model->forward_per_module(x);
      ASSERT_EQ(loop.sizes(), (std::vector<int64_t>{9, 3}));
      EXPECT_TRUE(torch::allclose(batched, loop, 1e-12, 1e-12)) << "shared " << shared << " " << act;
      // Gradients w.r.t. every parameter and the input, for a non-trivial scalar of the output.
      auto inputs = model->parameters();
      inputs.push_back(x);
      const auto w = torch::randn({9, 3}, torch::kDouble);
      const auto g_batched = torch::autograd::grad({(batched * w).sum()}, inputs);
      const auto g_loop = torch::autograd::grad({(loop * w).sum()}, inputs);
      ASSERT_EQ(g_batched.size(), inputs.size());
      for (size_t i = 0; i < inputs.size(); ++i) {
        ASSERT_TRUE(g_loop[i].defined()) << "input " << i;
        EXPECT_GT(g_loop[i].abs().max().item<double>(), 0.0) << "input " << i;
        EXPECT_TRUE(torch::allclose(g_batched[i], g_loop[i], 1e-12, 1e-12))
            << "shared " << shared << " " << act << " gradient of input " << i << " (the last is x)";
      }
    }
  }
}

TEST_F(BenchTest, PerModuleLoopRejectsWrongInput) {
  models::Modular model(models::ModularOptions(12, 3, 5, 2).hidden({4}));
  EXPECT_THROW(model->forward_per_module(torch::randn({4, 11})), c10::Error);
}

// ---- FLOP formulas --------------------------------------------------------------------------------

TEST_F(BenchTest, FlopFormulasByHand) {
  // MLP 12 -> 7 -> 6 -> 3 on B = 4: 2·4·(12·7 + 7·6 + 6·3) = 8·144 = 1152.
  EXPECT_DOUBLE_EQ(bench::mlp_forward_flops(4, 12, {7, 6}, 3), 1152.0);
  // No hidden layer: 2·B·in·out.
  EXPECT_DOUBLE_EQ(bench::mlp_forward_flops(5, 3, {}, 2), 60.0);
  // Modular D = 12, K = 5, b = 2, module 2 -> 7 -> 6 -> 3, B = 9:
  //   projection 2·9·12·(5·2) = 2160; one module 2·9·(2·7 + 7·6 + 6·3) = 18·74 = 1332; five 6660.
  EXPECT_DOUBLE_EQ(bench::modular_forward_flops(9, 12, 5, 2, {7, 6}, 3), 2160.0 + 6660.0);
  EXPECT_DOUBLE_EQ(bench::training_step_flops(8820.0), 26460.0);
  // The fixed workloads: sine-modular forward 2·256·64·64 + 16·2·256·(4·64 + 64·64 + 64) = 38 273 024.
  EXPECT_DOUBLE_EQ(bench::modular_forward_flops(256, 64, 16, 4, {64, 64}, 1), 38273024.0);
  // cifar-monolithic forward 2·256·(12288·1024 + 1024·1024 + 1024·40) = 512·13 672 448 = 7 000 293 376.
  EXPECT_DOUBLE_EQ(bench::mlp_forward_flops(256, 12288, {1024, 1024}, 40), 7000293376.0);
  // Kernel init, n = 6, D = 10, K = 3, b = 2, d = 4, per module forward:
  //   projection 2·6·10·2 = 240; distances 2·36·2 = 144; exp 6·36 = 216; Cholesky 216/3 = 72;
  //   solves 2·36·4 = 288; trace 2·6·4 = 48 → 1008; × 3 (backward) × K = 9072.
  EXPECT_DOUBLE_EQ(bench::kernel_init_step_flops(6, 10, 3, 2, 4), 9072.0);
}

TEST_F(BenchTest, WorkloadFlopsUseTheFormulas) {
  // The sine-modular workload's count is 3 × its forward formula (small enough to build here).
  const auto w = bench::make_workload("sine-modular", bench::WorkloadContext{});
  EXPECT_DOUBLE_EQ(w.flops_per_step, 3.0 * 38273024.0);
  EXPECT_EQ(w.items_per_step, 256.0);
  EXPECT_TRUE(bool(w.step));
  EXPECT_TRUE(bool(w.loop_step));
  EXPECT_NE(w.flop_formula.find("3 x forward"), std::string::npos);
  w.step();
  w.loop_step();
  EXPECT_THROW(bench::make_workload("no-such-workload", bench::WorkloadContext{}), modnet::ConfigError);
}

// ---- timing ---------------------------------------------------------------------------------------

TEST_F(BenchTest, Median) {
  EXPECT_DOUBLE_EQ(bench::median({3.0, 1.0, 2.0}), 2.0);
  EXPECT_DOUBLE_EQ(bench::median({4.0, 1.0, 3.0, 2.0}), 2.5);
  EXPECT_DOUBLE_EQ(bench::median({7.0}), 7.0);
  EXPECT_ANY_THROW(bench::median({}));
}

TEST_F(BenchTest, RatesFromStepTimesByHand) {
  // Three repeats of 0.5 s, 0.25 s and 2 s per step, 10 items a step: 20, 40 and 5 items/s.
  bench::Timing t;
  t.steps_per_repeat = 4;
  t.step_seconds = {0.5, 0.25, 2.0};
  EXPECT_DOUBLE_EQ(t.median_step_seconds(), 0.5);
  EXPECT_DOUBLE_EQ(t.median_rate(10.0), 20.0);
  EXPECT_DOUBLE_EQ(t.min_rate(10.0), 5.0);
  EXPECT_DOUBLE_EQ(t.max_rate(10.0), 40.0);
}

TEST_F(BenchTest, TimeStepsRunsWarmupCalibrationAndRepeats) {
  int64_t calls = 0;
  const bench::TimingOptions o{3, 2, 0.01};
  const auto t = bench::time_steps([&] { ++calls; }, o, torch::kCPU);
  ASSERT_EQ(t.step_seconds.size(), 3u);
  EXPECT_GE(t.steps_per_repeat, 1);
  EXPECT_GE(calls, 2 + 3 * t.steps_per_repeat);
  for (double s : t.step_seconds) EXPECT_GT(s, 0.0);
  // Each timed repeat lasts about `seconds` or more: a trivial step is repeated many times.
  EXPECT_GT(t.steps_per_repeat, 100);
  EXPECT_GT(t.median_rate(10.0), 0.0);
  EXPECT_LE(t.min_rate(10.0), t.median_rate(10.0));
  EXPECT_GE(t.max_rate(10.0), t.median_rate(10.0));
}

TEST_F(BenchTest, GemmRateMatchesAnIndependentTiming) {
  const auto g = bench::measure_gemm_rate(128, bench::TimingOptions{2, 1, 0.02}, torch::kCPU);
  EXPECT_EQ(g.n, 128);
  EXPECT_DOUBLE_EQ(g.flops, 2.0 * 128 * 128 * 128);
  EXPECT_GT(g.gflops, 0.0);
  EXPECT_GT(g.seconds, 0.0);
  // The rate is the machine's, in GFLOP/s: compare with a GEMM rate timed here, independently of
  // bench's timing code - the best of 3 repeats of >= 0.05 s of the same float32 128³ torch::mm_out,
  // counting 2n³ FLOPs each. Timing on a shared machine wanders (up to ~2x between runs), so only a
  // factor of 10 either way is asked for; a unit or FLOP-count mistake is off by 10³ or more.
  const auto a = torch::randn({128, 128}), b = torch::randn({128, 128});
  auto c = torch::empty({128, 128});
  double independent = 0;
  for (int repeat = 0; repeat < 3; ++repeat) {
    int64_t calls = 0;
    const auto t0 = std::chrono::steady_clock::now();
    double seconds = 0;
    do {
      torch::mm_out(c, a, b);
      ++calls;
      seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    } while (seconds < 0.05);
    independent = std::max(independent, 2.0 * 128 * 128 * 128 * double(calls) / seconds / 1e9);
  }
  EXPECT_GT(g.gflops, independent / 10) << "independently timed: " << independent << " GFLOP/s";
  EXPECT_LT(g.gflops, independent * 10) << "independently timed: " << independent << " GFLOP/s";
}

TEST_F(BenchTest, BlasThreads) {
  // OpenBLAS is what the project installs; elsewhere both report "not available".
  const int before = modnet::blas_threads();
  if (before < 0) {
    EXPECT_FALSE(modnet::set_blas_threads(1));
    GTEST_SKIP() << "the BLAS in use (" << modnet::blas_library() << ") is not OpenBLAS";
  }
  EXPECT_GE(before, 1);
  EXPECT_TRUE(modnet::set_blas_threads(1));
  EXPECT_EQ(modnet::blas_threads(), 1);
  EXPECT_FALSE(modnet::set_blas_threads(0));
  EXPECT_EQ(modnet::blas_threads(), 1);
  EXPECT_TRUE(modnet::set_blas_threads(before));
  EXPECT_EQ(modnet::blas_threads(), before);
}

// ---- options --------------------------------------------------------------------------------------

TEST_F(BenchTest, DefaultConfigEqualsBuiltInDefaults) {
  const auto file = modnet::config::load<bench::BenchOptions>(std::string(MODNET_SOURCE_DIR) + "/configs/bench/default.yaml");
  const auto builtin = modnet::config::load<bench::BenchOptions>("");
  EXPECT_EQ(modnet::config::to_yaml(modnet::config::write(file)), modnet::config::to_yaml(modnet::config::write(builtin)));
  EXPECT_EQ(builtin.workloads, bench::workload_names());
  EXPECT_EQ(builtin.repeats, 5);
  const auto quick = modnet::config::load<bench::BenchOptions>(std::string(MODNET_SOURCE_DIR) + "/configs/bench/quick.yaml");
  EXPECT_LT(quick.repeats, builtin.repeats);
  EXPECT_EQ(quick.workloads, bench::workload_names());
}

TEST_F(BenchTest, OptionsAreValidated) {
  EXPECT_THROW(modnet::config::load<bench::BenchOptions>("", {"workloads=[sine-modular, nope]"}), modnet::ConfigError);
  EXPECT_THROW(modnet::config::load<bench::BenchOptions>("", {"workloads=[sine-modular, sine-modular]"}), modnet::ConfigError);
  EXPECT_THROW(modnet::config::load<bench::BenchOptions>("", {"repeats=0"}), modnet::ConfigError);
  EXPECT_THROW(modnet::config::load<bench::BenchOptions>("", {"seconds=0"}), modnet::ConfigError);
  EXPECT_THROW(modnet::config::load<bench::BenchOptions>("", {"device=tpu"}), modnet::ConfigError);
  EXPECT_THROW(modnet::config::load<bench::BenchOptions>("", {"no_such_key=1"}), modnet::ConfigError);
  const auto o = modnet::config::load<bench::BenchOptions>("", {"workloads=[kernel-init]", "repeats=7"});
  EXPECT_EQ(o.workloads, std::vector<std::string>{"kernel-init"});
  EXPECT_EQ(o.repeats, 7);
}

// ---- synthetic images for compositional-data ------------------------------------------------------

TEST_F(BenchTest, SyntheticCompositionalTaskWhenTheImagesAreAbsent) {
  modnet::data::CompositionalOptions o;
  const TempDir temp("bench");
  o.root = temp.sub("no_such_folder");
  o.slots = 3;
  o.n_train = 64, o.n_val = 8, o.n_test = 16, o.n_ood = 8, o.val_images = 20;
  bool synthetic = false;
  const auto task = bench::make_compositional_task(o, 1, &synthetic, 200, 50);
  EXPECT_TRUE(synthetic);
  EXPECT_EQ(task->input_dim(), 3 * 32 * 32 * 3);
  EXPECT_EQ(task->output_dim(), 30);
  const auto batch = task->get(modnet::data::Split::train, torch::arange(5), torch::kCPU);
  EXPECT_EQ(batch.x.sizes(), (std::vector<int64_t>{5, 3 * 32 * 32 * 3}));
  EXPECT_EQ(batch.y.sizes(), (std::vector<int64_t>{5, 3}));
  EXPECT_FALSE(fs::exists(o.root));

  // The CIFAR-10 binary writer round-trips through the ordinary reader.
  const auto dir = temp.path() / "cifar";
  const auto train = bench::synthetic_image_set(25, 10, 7), test = bench::synthetic_image_set(10, 10, 8);
  bench::write_cifar10_binary(train, test, dir.string());
  const auto back = modnet::data::load_cifar10_binary(dir.string(), modnet::data::ImageSplit::train);
  EXPECT_TRUE(torch::equal(back.images, train.images));
  EXPECT_TRUE(torch::equal(back.labels, train.labels));
  EXPECT_EQ(back.classes, train.classes);
}

// ---- the binary ----------------------------------------------------------------------------------

TEST_F(BenchTest, BinaryWritesJsonReport) {
  const TempDir temp("bench");
  const auto json = temp.path() / "report.json";
  const std::string cmd = std::string(MODNET_BINARY_DIR) + "/bin/modnet-bench --config " + MODNET_SOURCE_DIR +
                          "/configs/bench/quick.yaml --workloads sine-modular --repeats 2 --json " + json.string();
  const auto r = modnet::testing::sh(cmd);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("sine-modular"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("GFLOP/s"), std::string::npos) << r.output;
  ASSERT_TRUE(fs::exists(json));
  const auto doc = YAML::LoadFile(json.string());  // JSON is YAML
  EXPECT_EQ(doc["benchmark"].as<std::string>(), "modnet-bench");
  EXPECT_FALSE(doc["environment"]["blas_library"].as<std::string>().empty());
  EXPECT_GE(doc["environment"]["threads"].as<int>(), 1);
  EXPECT_TRUE(doc["environment"]["blas_threads"].IsDefined());
  EXPECT_EQ(doc["options"]["repeats"].as<int>(), 2);
  EXPECT_TRUE(doc["flop_convention"].IsDefined());
  EXPECT_GT(doc["gemm"]["gflops"].as<double>(), 0.0);
  EXPECT_EQ(doc["gemm"]["n"].as<int>(), 1024);
  const auto w = doc["workloads"]["sine-modular"];
  ASSERT_TRUE(w.IsMap());
  EXPECT_EQ(doc["workloads"].size(), 1u);
  EXPECT_EQ(w["unit"].as<std::string>(), "samples/s");
  EXPECT_GT(w["rate"].as<double>(), 0.0);
  EXPECT_GT(w["gflops"].as<double>(), 0.0);
  EXPECT_GT(w["gemm_fraction"].as<double>(), 0.0);
  EXPECT_DOUBLE_EQ(w["flops_per_step"].as<double>(), 3.0 * 38273024.0);
  EXPECT_FALSE(w["flop_formula"].as<std::string>().empty());
  EXPECT_EQ(w["repeats"].as<int>(), 2);
  EXPECT_GT(w["per_module_loop"]["rate"].as<double>(), 0.0);
  EXPECT_NEAR(w["speedup_batched_over_loop"].as<double>(),
              w["rate"].as<double>() / w["per_module_loop"]["rate"].as<double>(), 1e-6);
  fs::remove(json);

  // Bad input: one clear message, non-zero exit, no report.
  const auto bad = modnet::testing::sh(std::string(MODNET_BINARY_DIR) + "/bin/modnet-bench --workloads nope --json " +
                                       json.string());
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.output.find("unknown workload 'nope'"), std::string::npos) << bad.output;
  EXPECT_FALSE(fs::exists(json));
}

}  // namespace

// ---- end to end ---------------------------------------------------------------------------------

TEST_F(BenchTest, EndToEndTimesAWholeRunPhaseByPhase) {
  const TempDir temp("bench-e2e");
  // A small sine run with the kernel initialiser, written as a config file like the benchmark's.
  auto cfg = modnet::run::load_experiment_config(
      std::string(MODNET_SOURCE_DIR) + "/configs/sine/kernel_modular.yaml",
      {"task.n_train=300", "task.n_val=64", "task.n_test=128", "train.steps=5", "train.batch_size=64",
       "train.eval_every=2", "init.steps=3", "init.batch_size=32", "train.progress=false", "init.progress=false",
       "log_level=warn", "analysis.chance_samples=8"});
  const auto config_path = (temp.path() / "e2e.yaml").string();
  modnet::write_file_atomic(config_path, modnet::run::experiment_config_yaml(cfg));
  bench::BenchOptions o;
  o.end_to_end_config = config_path;
  o.end_to_end_out = (temp.path() / "run").string();
  const auto r = bench::run_end_to_end(o);
  EXPECT_EQ(r.steps, 5);       // ceil(300 / 64)
  EXPECT_EQ(r.samples, 300);   // one pass, the last batch partial
  // FLOPs per sample: 3 × the modular forward of the config's model.
  modnet::run::Experiment e(cfg);
  const auto& m = *std::dynamic_pointer_cast<models::ModularImpl>(e.model().ptr());
  EXPECT_DOUBLE_EQ(r.flops_per_sample, 3 * bench::modular_forward_flops(1, m.options.in_features(), m.options.modules(),
                                                                        m.options.module_dim(), m.options.hidden(),
                                                                        m.options.out_features()));
  // Every phase measured, and together they are the run.
  ASSERT_EQ(r.phases.size(), 8u);
  double sum = 0;
  for (const auto& [phase, seconds] : r.phases) {
    EXPECT_GE(seconds, 0.0) << phase;
    sum += seconds;
  }
  for (const char* phase : {"load", "kernel init", "train steps", "evaluations during training", "checkpoints during training",
                            "final evaluation", "write"})
    EXPECT_GT(r.phase(phase), 0.0) << phase;
  EXPECT_NEAR(sum, r.wall_seconds, 1e-6 + 1e-3 * r.wall_seconds);
  EXPECT_GT(r.post_training_fraction(), 0.0);
  EXPECT_LT(r.post_training_fraction(), 1.0);
  EXPECT_TRUE(fs::exists(temp.path() / "run" / "summary.json"));  // end_to_end_out is kept
}

TEST_F(BenchTest, EndToEndWithoutAConfigIsAClearError) {
  bench::BenchOptions o;
  o.end_to_end_config = "no/such/config.yaml";
  try {
    bench::run_end_to_end(o);
    ADD_FAILURE() << "expected an error";
  } catch (const modnet::Error& e) {
    EXPECT_CONTAINS(std::string(e.what()), "end_to_end_config 'no/such/config.yaml'");
  }
}
