// Trainer, schedules, checkpoints, metrics sinks and the experiment glue.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "modnet/core/config.h"
#include "modnet/core/files.h"
#include "modnet/core/log.h"
#include "modnet/data/sine_wave_task.h"
#include "modnet/models/mlp.h"
#include "modnet/models/modular.h"
#include "modnet/run/experiment.h"
#include "modnet/core/fused_adam.h"
#include "modnet/core/csv.h"
#include "modnet/core/json.h"
#include "modnet/core/rng.h"
#include "modnet/train/trainer.h"
#include "fixtures.h"

namespace fs = std::filesystem;
using namespace modnet;

// ---- a user's own model type, registered from this file as in docs/extending.md ----------------
namespace {
struct ResidualNetOptions {
  int64_t width = 32;
  template <class V>
  void fields(V& v) {
    v("width", width, config::at_least(1), "hidden width");
  }
};
// y = Linear(x) + MLP(x): a small network that is not one of the built-in types.
struct ResidualNetImpl : torch::nn::Module {
  ResidualNetImpl(int64_t in, int64_t width, int64_t out)
      : linear(register_module("linear", torch::nn::Linear(in, out))),
        mlp(register_module("mlp", models::MLP(models::MLPOptions(in, out).hidden({width})))) {}
  torch::Tensor forward(torch::Tensor x) { return linear(x) + mlp(x); }
  torch::nn::Linear linear;
  models::MLP mlp;
};
TORCH_MODULE(ResidualNet);
MODNET_REGISTER_MODEL("test_residual", ResidualNetOptions, "a residual network (registered by the test)", [](const ResidualNetOptions& o, const models::ModelContext& c) {
  return torch::nn::AnyModule(ResidualNet(c.input_dim, o.width, c.output_dim));
});
}  // namespace

namespace {

// Seeded, with a fresh directory per test (dir_, sub(name)), removed after it.
class TrainTest : public modnet::testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    log::set_level(log::Level::warn);
  }

  static data::TaskPtr small_task(int64_t n_train = 512) {
    data::SineWaveOptions o;
    o.dim = 8;
    o.modules = 2;
    o.module_dim = 1;
    o.n_train = n_train;
    o.n_val = 256;
    o.n_test = 512;
    return std::make_shared<data::SineWaveTask>(o, 7);
  }
  static torch::nn::AnyModule small_model(uint64_t seed = 1) {
    torch::manual_seed(seed);
    return torch::nn::AnyModule(models::MLP(models::MLPOptions(8, 1).hidden({64, 64})));
  }
  static train::TrainOptions options(int64_t steps) {
    train::TrainOptions o;
    o.steps = steps;
    o.batch_size = 64;
    o.lr = 3e-3;
    o.eval_every = 25;
    o.progress = false;
    return o;
  }
  static std::vector<torch::Tensor> params(torch::nn::AnyModule& m) {
    std::vector<torch::Tensor> out;
    for (const auto& p : m.ptr()->parameters()) out.push_back(p.detach().clone());
    return out;
  }
  static void expect_equal(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i])) << "parameter " << i << " differs";
  }
};

TEST(Schedule, WarmupStepAndCosine) {
  train::TrainOptions o;
  o.lr = 1.0;
  o.warmup_steps = 4;
  // Linear warm-up reaches lr at the end of warm-up: (step+1)/warmup.
  EXPECT_DOUBLE_EQ(train::learning_rate(o, 0, 100), 0.25);
  EXPECT_DOUBLE_EQ(train::learning_rate(o, 3, 100), 1.0);
  EXPECT_DOUBLE_EQ(train::learning_rate(o, 50, 100), 1.0);  // constant afterwards
  o.schedule = "step";
  o.step_size = 10;
  o.gamma = 0.5;
  EXPECT_DOUBLE_EQ(train::learning_rate(o, 13, 100), 1.0);   // 9 steps after warm-up
  EXPECT_DOUBLE_EQ(train::learning_rate(o, 14, 100), 0.5);   // 10 steps after warm-up
  EXPECT_DOUBLE_EQ(train::learning_rate(o, 34, 100), 0.125);
  o.schedule = "cosine";
  o.min_lr = 0.1;
  EXPECT_DOUBLE_EQ(train::learning_rate(o, 4, 104), 1.0);                 // start of the cosine
  EXPECT_NEAR(train::learning_rate(o, 54, 104), 0.55, 1e-12);             // half-way: (1+0.1)/2
  EXPECT_NEAR(train::learning_rate(o, 104, 104), 0.1, 1e-12);             // the floor
}

TEST_F(TrainTest, DrivesTrainingLossWellBelowTargetVariance) {
  auto task = small_task(1024);
  auto model = small_model();
  auto opts = options(600);
  train::Trainer trainer(opts, model, task, torch::kCPU, 3, "");
  const auto result = trainer.run();
  ASSERT_TRUE(result.finished);
  const double variance = task->all(data::Split::train).y.var(false).item<double>();
  const double train_loss = result.final.at(data::Split::train).loss;
  const double test_loss = result.final.at(data::Split::test).loss;
  EXPECT_LT(train_loss, 0.1 * variance) << "variance " << variance;
  EXPECT_LT(test_loss, 0.5 * variance) << "variance " << variance;
}

TEST_F(TrainTest, EpochBudgetCountsPartialBatches) {
  auto opts = options(1);
  opts.steps.reset();
  opts.epochs = 3;
  opts.batch_size = 100;  // 512 samples: 6 batches per epoch, the last one partial
  train::Trainer trainer(opts, small_model(), small_task(512), torch::kCPU, 3, "");
  EXPECT_EQ(trainer.steps_per_epoch(), 6);
  EXPECT_EQ(trainer.total_steps(), 18);
  EXPECT_EQ(trainer.run().steps, 18);
}

TEST_F(TrainTest, ResumeEqualsUninterruptedRun) {
  auto task = small_task();
  for (const std::string optimizer : {"adam", "sgd", "adamw"}) {
    auto opts = options(120);
    opts.optimizer = optimizer;
    opts.schedule = "cosine";
    opts.warmup_steps = 10;
    opts.grad_clip = 1.0;
    opts.early_stopping.enabled = true;
    opts.early_stopping.patience = 100;

    auto full_model = small_model();
    train::Trainer full(opts, full_model, task, torch::kCPU, 5, sub("full_" + optimizer));
    fs::create_directories(sub("full_" + optimizer));
    full.run();

    // N steps, stop (checkpointed), then a fresh trainer with a *different* initial model resumes.
    fs::create_directories(sub("split_" + optimizer));
    auto first_model = small_model();
    train::Trainer first(opts, first_model, task, torch::kCPU, 5, sub("split_" + optimizer));
    const auto partial = first.run(60);
    EXPECT_FALSE(partial.finished);
    EXPECT_EQ(partial.steps, 60);
    auto second_model = small_model(99);
    train::Trainer second(opts, second_model, task, torch::kCPU, 5, sub("split_" + optimizer));
    second.resume();
    EXPECT_EQ(second.step(), 60);
    const auto rest = second.run();
    EXPECT_TRUE(rest.finished);
    expect_equal(params(full_model), params(second_model));
    // The resumed metrics log equals the uninterrupted one except for wall-clock columns.
    auto strip_seconds = [](const std::string& text) {
      std::string out;
      std::istringstream in(text);
      for (std::string line; std::getline(in, line);) out += line.substr(0, line.rfind(',')) + "\n";
      return out;
    };
    EXPECT_EQ(strip_seconds(read_file(sub("full_" + optimizer + "/metrics.csv"))),
              strip_seconds(read_file(sub("split_" + optimizer + "/metrics.csv"))))
        << optimizer;
  }
}

TEST_F(TrainTest, CheckpointRoundTrip) {
  auto task = small_task();
  auto model = small_model();
  auto opts = options(30);
  train::Trainer trainer(opts, model, task, torch::kCPU, 5, "");
  trainer.run();
  train::TrainerState state;
  state.step = 30;
  state.best_val = 0.25;
  state.best_step = 20;
  state.bad_evals = 2;
  state.seconds = 1.5;
  std::vector<torch::Tensor> best{torch::ones({3}), torch::arange(4)};
  train::save_checkpoint(sub("ck.pt"), *model.ptr(), trainer.optimizer(), state, best);
  EXPECT_TRUE(fs::exists(sub("ck.pt")));
  for (const auto& e : fs::directory_iterator(dir_)) EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos);

  auto other = small_model(42);
  auto other_opt = train::make_optimizer(opts, other.ptr()->parameters());
  train::TrainerState loaded;
  std::vector<torch::Tensor> loaded_best;
  train::load_checkpoint(sub("ck.pt"), *other.ptr(), *other_opt, loaded, loaded_best);
  expect_equal(params(model), params(other));
  EXPECT_EQ(loaded.step, 30);
  EXPECT_EQ(loaded.best_val, 0.25);
  EXPECT_EQ(loaded.best_step, 20);
  EXPECT_EQ(loaded.bad_evals, 2);
  EXPECT_EQ(loaded.seconds, 1.5);
  expect_equal(best, loaded_best);
  // Optimiser state came along: one more identical step on both gives identical parameters.
  auto batch = task->get(data::Split::train, torch::arange(64), torch::kCPU);
  auto step = [&](torch::nn::AnyModule& m, torch::optim::Optimizer& o) {
    o.zero_grad();
    task->loss(m.forward(batch.x), batch.y).backward();
    o.step();
  };
  step(model, trainer.optimizer());
  step(other, *other_opt);
  expect_equal(params(model), params(other));

  // A checkpoint of another architecture is refused with a message naming the file.
  torch::manual_seed(0);
  auto wrong = torch::nn::AnyModule(models::MLP(models::MLPOptions(8, 1).hidden({5})));
  auto wrong_opt = train::make_optimizer(opts, wrong.ptr()->parameters());
  try {
    train::load_checkpoint(sub("ck.pt"), *wrong.ptr(), *wrong_opt, loaded, loaded_best);
    FAIL() << "loading into a different architecture must fail";
  } catch (const modnet::Error& e) {
    EXPECT_NE(std::string(e.what()).find("ck.pt"), std::string::npos) << e.what();
  }
  EXPECT_THROW(train::load_checkpoint(sub("missing.pt"), *other.ptr(), *other_opt, loaded, loaded_best), modnet::Error);
}

TEST_F(TrainTest, CheckpointsFromAnotherLibTorchVersionFailWithAClearMessage) {
  // Archives do not carry across LibTorch versions; every file records the version that wrote it.
  // A real file of the other version cannot be made here, so the recorded version is set by hand
  // ("0.9.0") and the load made to fail (another architecture): the message names both versions.
  auto task = small_task();
  auto model = small_model();
  auto opts = options(10);
  train::Trainer trainer(opts, model, task, torch::kCPU, 5, "");
  trainer.run();
  train::save_checkpoint(sub("old.pt"), *model.ptr(), trainer.optimizer(), train::TrainerState{}, {}, "0.9.0");
  train::save_weights(sub("old_model.pt"), *model.ptr(), "0.9.0");
  train::save_weights(sub("same_model.pt"), *model.ptr());
  auto wrong = torch::nn::AnyModule(models::MLP(models::MLPOptions(8, 1).hidden({5})));
  auto wrong_opt = train::make_optimizer(opts, wrong.ptr()->parameters());
  train::TrainerState state;
  std::vector<torch::Tensor> best;
  auto message = [](auto&& load) {
    try {
      load();
    } catch (const modnet::Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  const std::string ours = TORCH_VERSION;
  auto m = message([&] { train::load_checkpoint(sub("old.pt"), *wrong.ptr(), *wrong_opt, state, best); });
  EXPECT_NE(m.find("written by LibTorch 0.9.0 and this modnet is built against " + ours), std::string::npos) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  m = message([&] { train::load_weights(sub("old_model.pt"), *wrong.ptr()); });
  EXPECT_NE(m.find("written by LibTorch 0.9.0"), std::string::npos) << m;
  // Same version, wrong architecture: the first parameter that does not fit, no version story
  // (LibTorch's own load would replace the model's tensors by the file's without a word).
  m = message([&] { train::load_weights(sub("same_model.pt"), *wrong.ptr()); });
  EXPECT_NE(m.find("same_model.pt' does not fit this model: parameter '"), std::string::npos) << m;
  EXPECT_NE(m.find("in the file and 5x8 in the model"), std::string::npos) << m;
  EXPECT_EQ(m.find("LibTorch"), std::string::npos) << m;
  // The version tag does not get in the way of a normal load.
  auto other = small_model(42);
  train::load_weights(sub("same_model.pt"), *other.ptr());
  expect_equal(params(model), params(other));
  // A file that is not an archive at all: the message says what this build can read.
  write_file_atomic(sub("garbage.pt"), "not an archive\n");
  m = message([&] { train::load_weights(sub("garbage.pt"), *other.ptr()); });
  EXPECT_NE(m.find("built against LibTorch " + ours), std::string::npos) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;
}

TEST_F(TrainTest, EarlyStoppingRestoresBestValidationWeights) {
  // A tiny training set and a large lr overfit quickly; patience 2 stops the run early.
  auto task = small_task(64);
  auto model = small_model();
  auto opts = options(2000);
  opts.lr = 1e-2;
  opts.batch_size = 16;
  opts.eval_every = 20;
  opts.early_stopping.enabled = true;
  opts.early_stopping.patience = 2;
  std::vector<std::pair<int64_t, double>> val_curve;
  train::Trainer trainer(opts, model, task, torch::kCPU, 3, "");
  trainer.add_callback([&](const train::EvalPoint& p) { val_curve.emplace_back(p.step, p.results.at(data::Split::val).loss); });
  const auto result = trainer.run();
  ASSERT_TRUE(result.stopped_early);
  EXPECT_LT(result.steps, 2000);
  auto best = *std::min_element(val_curve.begin(), val_curve.end(),
                                [](const auto& a, const auto& b) { return a.second < b.second; });
  EXPECT_EQ(result.best_step, best.first);
  // The final weights are the best ones: their validation loss is the best logged one.
  EXPECT_NEAR(result.final.at(data::Split::val).loss, best.second, 1e-6);
  EXPECT_EQ(result.steps, best.first + opts.eval_every * opts.early_stopping.patience);
}

TEST_F(TrainTest, EarlyStoppingWithoutValidationSplitIsAnError) {
  data::SineWaveOptions o;
  o.dim = 8;
  o.n_val = 0;
  auto task = std::make_shared<data::SineWaveTask>(o, 1);
  auto opts = options(10);
  opts.early_stopping.enabled = true;
  train::Trainer trainer(opts, small_model(), task, torch::kCPU, 3, "");
  EXPECT_THROW(trainer.run(), modnet::ConfigError);
}

TEST_F(TrainTest, DivergenceIsReportedClearly) {
  auto opts = options(50);
  opts.lr = 1e12;
  opts.optimizer = "sgd";
  opts.momentum = 0.0;
  train::Trainer trainer(opts, small_model(), small_task(), torch::kCPU, 3, "");
  try {
    trainer.run();
    FAIL() << "a huge learning rate must diverge";
  } catch (const modnet::Error& e) {
    EXPECT_NE(std::string(e.what()).find("diverged"), std::string::npos) << e.what();
  }
}

TEST_F(TrainTest, MetricsCsvColumnsAndRows) {
  auto opts = options(50);
  train::Trainer trainer(opts, small_model(), small_task(), torch::kCPU, 3, dir_.string());
  trainer.run();
  std::istringstream in(read_file(sub("metrics.csv")));
  std::string header;
  std::getline(in, header);
  EXPECT_EQ(header, "step,epoch,split,loss,accuracy,lr,seconds");
  std::vector<std::string> rows;
  for (std::string line; std::getline(in, line);) rows.push_back(line);
  // Evaluations at steps 25 and 50, three rows each (train, val, test).
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(rows[0].rfind("25,", 0), 0u);
  EXPECT_NE(rows[1].find(",val,"), std::string::npos);
  EXPECT_NE(rows[5].find("50,"), std::string::npos);
  EXPECT_TRUE(fs::exists(sub("model.pt")));
}

TEST_F(TrainTest, CsvLogKeepsRowsUpToTheResumeStep) {
  {
    CsvLog log(sub("log.csv"), {"step", "value"});
    for (int s = 1; s <= 5; ++s) log.row({std::to_string(s * 10), std::to_string(s)});
  }
  {
    CsvLog log(sub("log.csv"), {"step", "value"}, 30);
    log.row({"40", "x"});
  }
  EXPECT_EQ(read_file(sub("log.csv")), "step,value\n10,1\n20,2\n30,3\n40,x\n");
  CsvLog log(sub("log.csv"), {"step", "value"});
  EXPECT_THROW(log.row({"1"}), modnet::Error);
}

TEST(Json, DumpsNestedObjectsAndNonFiniteAsNull) {
  Json inner;
  inner.set("a", int64_t(1));
  Json j;
  j.set("x", 0.5).set("s", "q\"uote").set("b", true).set("nan", std::nan("")).set("in", inner);
  EXPECT_EQ(j.dump(1), "{\n \"x\": 0.5,\n \"s\": \"q\\\"uote\",\n \"b\": true,\n \"nan\": null,\n \"in\": {\n  \"a\": 1\n }\n}\n");
  // The output parses as JSON (YAML 1.2 is a superset for this subset).
  auto node = YAML::Load(j.dump());
  EXPECT_EQ(node["in"]["a"].as<int>(), 1);
}

TEST_F(TrainTest, ExperimentWritesRunDirectory) {
  auto cfg = run::load_experiment_config(std::string(MODNET_SOURCE_DIR) + "/configs/sine/monolithic.yaml",
                                           {"train.steps=40", "train.eval_every=20", "task.n_train=256",
                                            "task.n_test=256", "train.progress=false", "log_level=warn"});
  run::Experiment experiment(cfg);
  const auto result = experiment.run(sub("run"), RunDirMode::fresh);
  EXPECT_TRUE(result.finished);
  for (const char* f : {"config.yaml", "metrics.csv", "model.pt", "checkpoint.pt", "summary.json"})
    EXPECT_TRUE(fs::exists(sub(std::string("run/") + f))) << f;
  const auto summary = YAML::LoadFile(sub("run/summary.json"));
  EXPECT_EQ(summary["steps"].as<int64_t>(), 40);
  EXPECT_EQ(summary["parameters"].as<int64_t>(), experiment.parameter_count());
  EXPECT_NEAR(summary["test_loss"].as<double>(), result.final.at(data::Split::test).loss, 1e-12);
  // The saved config reproduces the run's config exactly.
  EXPECT_EQ(read_file(sub("run/config.yaml")), run::experiment_config_yaml(cfg));
  // The same directory is refused without force/resume.
  run::Experiment again(cfg);
  EXPECT_THROW(again.run(sub("run"), RunDirMode::fresh), modnet::Error);
}

TEST_F(TrainTest, ExperimentIsDeterministicForASeed) {
  const std::vector<std::string> overrides{"train.steps=30", "train.eval_every=30", "task.n_train=256",
                                           "task.n_test=256", "train.progress=false", "log_level=warn"};
  auto cfg = run::load_experiment_config(std::string(MODNET_SOURCE_DIR) + "/configs/sine/monolithic.yaml", overrides);
  run::Experiment a(cfg), b(cfg);
  a.run(sub("a"), RunDirMode::fresh);
  b.run(sub("b"), RunDirMode::fresh);
  expect_equal(params(a.model()), params(b.model()));
  auto other = overrides;
  other.push_back("seed=1");
  run::Experiment c(run::load_experiment_config(std::string(MODNET_SOURCE_DIR) + "/configs/sine/monolithic.yaml", other));
  EXPECT_FALSE(torch::equal(params(a.model())[0], params(c.model())[0]));
}

TEST_F(TrainTest, UserRegisteredModelTrainsEndToEnd) {
  const std::string yaml =
      "name: custom\nseed: 3\ntask: {type: sine, dim: 8, modules: 2, module_dim: 1, n_train: 512, n_val: 128, "
      "n_test: 256}\nmodel: {type: test_residual, width: 48}\ntrain: {steps: 300, lr: 0.003, batch_size: 64, "
      "eval_every: 100, progress: false}\nlog_level: warn\n";
  auto cfg = run::parse_experiment_config(config::load_string(yaml, "custom.yaml"));
  EXPECT_NE(run::experiment_config_yaml(cfg).find("width: 48"), std::string::npos);
  run::Experiment experiment(cfg);
  EXPECT_EQ(experiment.parameter_count(), (8 + 1) + (8 * 48 + 48 + 48 + 1));
  const auto result = experiment.run(sub("custom"), RunDirMode::fresh);
  ASSERT_TRUE(result.finished);
  const double variance = experiment.task()->all(data::Split::test).y.var(false).item<double>();
  EXPECT_LT(result.final.at(data::Split::test).loss, 0.5 * variance);
  // Its options are checked like the built-in ones.
  EXPECT_THROW(run::parse_experiment_config(config::load_string(
                   "task: {type: sine}\nmodel: {type: test_residual, depth: 2}\ntrain: {steps: 1}\n", "bad.yaml")),
               ConfigError);
}

}  // namespace

// ---- the fused Adam step -----------------------------------------------------------------------------

TEST(FusedAdam, MatchesTorchAdamStepForStepAndSharesItsState) {
  for (double wd : {0.0, 0.01}) {
    torch::manual_seed(3);
    // A small tensor (one thread) and a large one (> 2^18 elements: split over the cores).
    auto a1 = torch::randn({7, 5}), a2 = torch::randn({600, 500});
    auto b1 = a1.clone(), b2 = a2.clone();
    for (auto* t : {&a1, &a2, &b1, &b2}) t->requires_grad_(true);
    const auto options = torch::optim::AdamOptions(0.01).betas({0.8, 0.95}).eps(1e-6).weight_decay(wd);
    torch::optim::Adam reference({a1, a2}, options);
    modnet::FusedAdam fused({b1, b2}, options);
    for (int step = 0; step < 5; ++step) {
      const auto g1 = torch::randn({7, 5}), g2 = torch::randn({600, 500});
      reference.zero_grad();
      fused.zero_grad();
      (a1 * g1).sum().add((a2 * g2).sum()).backward();
      (b1 * g1).sum().add((b2 * g2).sum()).backward();
      reference.step();
      fused.step();
    }
    EXPECT_TRUE(torch::allclose(b1, a1, 1e-5, 1e-6)) << "weight decay " << wd;
    EXPECT_TRUE(torch::allclose(b2, a2, 1e-5, 1e-6)) << "weight decay " << wd;
    // The state is torch::optim::Adam's: a checkpoint of one loads into the other.
    std::stringstream buffer;
    torch::serialize::OutputArchive out;
    fused.save(out);
    out.save_to(buffer);
    torch::serialize::InputArchive in;
    in.load_from(buffer);
    torch::optim::Adam restored({b1, b2}, options);
    restored.load(in);
    const auto& s = static_cast<torch::optim::AdamParamState&>(*restored.state().begin()->second);
    EXPECT_EQ(s.step(), 5);
  }
}

// ---- evaluation subsets and the fused model path -------------------------------------------------

TEST(EvaluationSubset, SeededSortedDistinctAndSized) {
  const auto a = train::evaluation_subset(1000, 100, 3), b = train::evaluation_subset(1000, 100, 3);
  const auto c = train::evaluation_subset(1000, 100, 4);
  ASSERT_EQ(a.numel(), 100);
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_FALSE(torch::equal(a, c));
  EXPECT_TRUE(torch::equal(a, std::get<0>(a.sort())));
  EXPECT_EQ(std::get<0>(torch::_unique(a)).numel(), 100);
  EXPECT_LT(a.max().item<int64_t>(), 1000);
  EXPECT_FALSE(train::evaluation_subset(1000, 0, 3).defined());     // 0 = the whole split
  EXPECT_FALSE(train::evaluation_subset(1000, 1000, 3).defined());  // as many as there are
  EXPECT_FALSE(train::evaluation_subset(10, 50, 3).defined());
}

TEST_F(TrainTest, TrainLossIsEvaluatedOnASeededSubsetOfTheConfiguredSize) {
  auto o = options(20);
  o.train_eval_samples = 100;
  auto run = [&](uint64_t seed) {
    auto task = small_task(512);
    train::Trainer trainer(o, small_model(), task, torch::kCPU, seed, "");
    return trainer.run();
  };
  const auto r1 = run(1), r2 = run(1);
  EXPECT_EQ(r1.final.at(data::Split::train).samples, 100);
  EXPECT_EQ(r1.final.at(data::Split::train).loss, r2.final.at(data::Split::train).loss);
  EXPECT_EQ(r1.final.at(data::Split::test).samples, 512);  // other splits whole
  // The subset is the one evaluation_subset draws for the trainer's seed.
  auto task = small_task(512);
  train::Trainer trainer(o, small_model(), task, torch::kCPU, 1, "");
  const auto result = trainer.run();
  auto model = trainer.model();
  const auto index = train::evaluation_subset(512, 100, modnet::derive_seed(1, "train-eval-subset"));
  const auto direct = train::evaluate(model, *task, data::Split::train, torch::kCPU, 4096, 0.0, 0, index);
  EXPECT_DOUBLE_EQ(direct.loss, result.final.at(data::Split::train).loss);
  // train_eval_samples = 0: the whole training split.
  o.train_eval_samples = 0;
  train::Trainer whole(o, small_model(), small_task(512), torch::kCPU, 1, "");
  EXPECT_EQ(whole.run().final.at(data::Split::train).samples, 512);
}

TEST_F(TrainTest, EvaluationsDuringTrainingUseEvalSamplesAndTheFinalOneWholeSplits) {
  auto o = options(50);
  o.eval_samples = 64;
  auto task = small_task(512);
  train::Trainer trainer(o, small_model(), task, torch::kCPU, 1, "");
  std::vector<int64_t> seen;
  trainer.add_callback([&](const train::EvalPoint& p) {
    for (const auto& [split, r] : p.results) seen.push_back(r.samples);
  });
  const auto result = trainer.run();
  ASSERT_FALSE(seen.empty());
  for (auto n : seen) EXPECT_EQ(n, 64);
  EXPECT_EQ(result.final.at(data::Split::val).samples, 256);
  EXPECT_EQ(result.final.at(data::Split::test).samples, 512);
  EXPECT_GT(result.step_seconds, 0.0);
  EXPECT_GT(result.eval_seconds, 0.0);
  EXPECT_GT(result.final_eval_seconds, 0.0);
}

TEST_F(TrainTest, TrainingWithTheFusedModulesEqualsTheAutogradReference) {
  auto make = [](bool fused) {
    torch::manual_seed(9);
    return torch::nn::AnyModule(
        models::Modular(models::ModularOptions(8, 1, 4, 2).hidden({16, 16}).fused(fused)));
  };
  auto o = options(60);
  auto fused_model = make(true), reference_model = make(false);
  expect_equal(params(fused_model), params(reference_model));  // the same start
  train::Trainer a(o, fused_model, small_task(), torch::kCPU, 1, "");
  train::Trainer b(o, reference_model, small_task(), torch::kCPU, 1, "");
  const auto ra = a.run(), rb = b.run();
  const auto pa = params(fused_model), pb = params(reference_model);
  for (size_t i = 0; i < pa.size(); ++i)
    EXPECT_TRUE(torch::allclose(pa[i], pb[i], 1e-4, 1e-5)) << "parameter " << i << " after 60 Adam steps";
  EXPECT_NEAR(ra.final.at(data::Split::test).loss, rb.final.at(data::Split::test).loss,
              1e-4 * rb.final.at(data::Split::test).loss);
}

TEST(FusedAdam, TakesTheFusedPathForStridedParameters) {
  // The D-major projections of models::Modular: a [K, D, b] view of [D, K, b] memory.
  torch::manual_seed(5);
  const auto start = torch::randn({3, 700, 200}).permute({1, 0, 2}).contiguous().permute({1, 0, 2});
  auto a = start.clone().requires_grad_(true), b = torch::empty_like(start).copy_(start).requires_grad_(true);
  ASSERT_FALSE(b.is_contiguous());
  ASSERT_EQ(b.strides(), start.strides());
  const auto options = torch::optim::AdamOptions(0.01);
  torch::optim::Adam reference({a}, options);
  FusedAdam fused({b}, options);
  for (int step = 0; step < 3; ++step) {
    const auto g = torch::randn({3, 700, 200});
    for (auto* p : {&a, &b}) p->mutable_grad().reset();
    (a * g).sum().backward();
    (b * g).sum().backward();
    ASSERT_EQ(b.grad().strides(), b.strides()) << "the engine gives a dense parameter's layout to its gradient";
    reference.step();
    fused.step();
    EXPECT_TRUE(fused.fused_last_step());
  }
  EXPECT_TRUE(torch::allclose(b, a, 1e-5, 1e-6));
  EXPECT_EQ(b.strides(), start.strides());
}

// ---- slot-wired networks and protected projections ----------------------------------------------
namespace {
// A slot-wired modular network on the 8-dimensional task, its coordinates read as 2 interleaved slots.
torch::nn::AnyModule slot_wired_model(uint64_t seed) {
  torch::manual_seed(seed);
  return torch::nn::AnyModule(models::Modular(models::ModularOptions(8, 1, 4, 1).hidden({16}).slot_wired(true).input_slots(
      torch::arange(8, torch::kLong) % 2)));
}
bool inside_slots(torch::nn::AnyModule& m) {
  auto* modular = m.ptr()->as<models::Modular>();
  const auto u = modular->projections().detach();
  return torch::equal(u * (1 - modular->projection_mask()), torch::zeros_like(u)) && u.ne(0).any().item<bool>();
}
}  // namespace

TEST_F(TrainTest, SlotWiredMaskSurvivesTrainingCheckpointAndResume) {
  auto task = small_task();
  auto opts = options(80);
  opts.schedule = "cosine";
  auto full_model = slot_wired_model(1);
  fs::create_directories(sub("full"));
  train::Trainer(opts, full_model, task, torch::kCPU, 5, sub("full")).run();
  EXPECT_TRUE(inside_slots(full_model));

  fs::create_directories(sub("split"));
  auto first_model = slot_wired_model(1);
  train::Trainer(opts, first_model, task, torch::kCPU, 5, sub("split")).run(40);
  EXPECT_TRUE(inside_slots(first_model));
  auto second_model = slot_wired_model(2);  // a different start: everything comes from the checkpoint
  train::Trainer second(opts, second_model, task, torch::kCPU, 5, sub("split"));
  second.resume();
  EXPECT_TRUE(inside_slots(second_model));
  second.run();
  EXPECT_TRUE(inside_slots(second_model));
  expect_equal(params(full_model), params(second_model));
}

TEST_F(TrainTest, ProjectionLearningRateScaleAndFreezeApplyToTheProjectionsOnly) {
  auto task = small_task();
  auto modular = [](uint64_t seed) {
    torch::manual_seed(seed);
    return torch::nn::AnyModule(models::Modular(models::ModularOptions(8, 1, 4, 1).hidden({16})));
  };
  auto projections = [](torch::nn::AnyModule& m) { return m.ptr()->as<models::Modular>()->projections().detach().clone(); };
  auto others = [](torch::nn::AnyModule& m) {
    std::vector<torch::Tensor> out;
    for (const auto& item : m.ptr()->named_parameters())
      if (item.key() != "projections") out.push_back(item.value().detach().clone());
    return out;
  };

  // Frozen for the first 30 steps: Û unchanged at step 30 while the module MLPs trained; then it moves.
  auto opts = options(60);
  opts.freeze_projections_steps = 30;
  auto model = modular(1);
  const auto u0 = projections(model);
  const auto w0 = others(model);
  fs::create_directories(sub("freeze"));
  train::Trainer frozen(opts, model, task, torch::kCPU, 5, sub("freeze"));
  frozen.run(30);
  EXPECT_TRUE(torch::equal(projections(model), u0));
  EXPECT_FALSE(torch::equal(others(model)[0], w0[0]));
  frozen.run();
  EXPECT_FALSE(torch::equal(projections(model), u0));

  // A scale of 1 equals no scale; a small scale moves Û less than the default does, same module start.
  auto moved = [&](double scale, const std::string& name) {
    auto o = options(40);
    o.projection_lr_scale = scale;
    auto m = modular(3);
    const auto start = projections(m);
    fs::create_directories(sub(name));
    train::Trainer(o, m, task, torch::kCPU, 5, sub(name)).run();
    return (projections(m) - start).norm().item<double>();
  };
  const double full = moved(1.0, "scale1"), small = moved(0.01, "scale001");
  EXPECT_LT(small, 0.1 * full);
  EXPECT_GT(small, 0.0);

  // Models without projections: a configuration error naming the option.
  auto mlp = small_model();
  auto bad = options(10);
  bad.projection_lr_scale = 0.5;
  try {
    train::Trainer t(bad, mlp, task, torch::kCPU, 5, "");
    ADD_FAILURE() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_CONTAINS(std::string(e.what()), "train.projection_lr_scale needs a model with module projections");
  }
}
