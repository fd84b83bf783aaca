// Tests of modnet/data: the modular sine-wave task (shapes, determinism, statistics, config checks).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "modnet/core/config.h"
#include "modnet/core/error.h"
#include "modnet/data/registry.h"
#include "modnet/data/sine_wave_task.h"
#include "fixtures.h"

using modnet::data::Batch;
using modnet::data::SineWaveOptions;
using modnet::data::SineWaveTask;
using modnet::data::Split;

namespace {

// The task draws everything from its own seeded generators; the fixture seeds torch's global
// generator anyway, so that nothing in a test depends on the order the tests ran in.
class SineWaveTest : public modnet::testing::SeededTest {
 protected:
  static SineWaveOptions small() {
    SineWaveOptions o;
    o.dim = 32;
    o.modules = 4;
    o.module_dim = 2;
    o.n_train = 500;
    o.n_val = 300;
    o.n_test = 700;
    return o;
  }
};

void expect_same_batch(const Batch& a, const Batch& b) {
  EXPECT_TRUE(torch::equal(a.x, b.x));
  EXPECT_TRUE(torch::equal(a.y, b.y));
}

bool same_batch(const Batch& a, const Batch& b) { return torch::equal(a.x, b.x) && torch::equal(a.y, b.y); }

double variance_of(const torch::Tensor& t) { return t.to(torch::kDouble).var(/*unbiased=*/false).item<double>(); }
double mean_of(const torch::Tensor& t) { return t.to(torch::kDouble).mean().item<double>(); }

}  // namespace

// ---- shapes ---------------------------------------------------------------------------------

TEST_F(SineWaveTest, ShapesAndSizes) {
  const SineWaveTask task(small(), 1);
  EXPECT_EQ(task.name(), "sine");
  EXPECT_EQ(task.input_dim(), 32);
  EXPECT_EQ(task.output_dim(), 1);
  const std::vector<std::pair<Split, int64_t>> splits{{Split::train, 500}, {Split::val, 300}, {Split::test, 700}};
  for (const auto& [split, n] : splits) {
    EXPECT_EQ(task.size(split), n);
    const auto b = task.all(split);
    EXPECT_EQ(b.x.sizes(), (std::vector<int64_t>{n, 32}));
    EXPECT_EQ(b.y.sizes(), (std::vector<int64_t>{n, 1}));
    EXPECT_EQ(b.x.scalar_type(), torch::kFloat);
    EXPECT_EQ(b.y.scalar_type(), torch::kFloat);
    EXPECT_TRUE(torch::isfinite(b.y).all().item<bool>());
  }
  EXPECT_EQ(task.ridge_directions().sizes(), (std::vector<int64_t>{32, 4 * 2}));
}

TEST_F(SineWaveTest, GetSelectsRows) {
  const SineWaveTask task(small(), 1);
  const auto all = task.all(Split::train);
  const auto idx = torch::tensor({4, 0, 499, 4}, torch::kLong);
  const auto b = task.get(Split::train, idx, torch::kCPU);
  EXPECT_TRUE(torch::equal(b.x, all.x.index_select(0, idx)));
  EXPECT_TRUE(torch::equal(b.y, all.y.index_select(0, idx)));
  // All = every row, in order.
  expect_same_batch(all, task.get(Split::train, torch::arange(500, torch::kLong), torch::kCPU));
}

TEST_F(SineWaveTest, EmptyValidationSplit) {
  auto o = small();
  o.n_val = 0;
  const SineWaveTask task(o, 1);
  EXPECT_EQ(task.size(Split::val), 0);
  EXPECT_THROW(task.get(Split::val, torch::tensor({0}, torch::kLong), torch::kCPU), c10::Error);
}

TEST_F(SineWaveTest, InputsAreStandardNormal) {
  auto o = small();
  o.n_train = 20000;
  const SineWaveTask task(o, 3);
  const auto x = task.all(Split::train).x.to(torch::kDouble);
  // 640k draws: the sd of the overall mean is 0.0013, of the overall variance 0.0018.
  EXPECT_NEAR(mean_of(x), 0.0, 0.01);
  EXPECT_NEAR(variance_of(x), 1.0, 0.015);
  // Per coordinate (20k draws each): sd of the mean 0.007, of the variance 0.01.
  const auto col_mean = x.mean(0), col_var = x.var(0, /*unbiased=*/false);
  EXPECT_LT(col_mean.abs().max().item<double>(), 0.04);
  EXPECT_LT((col_var - 1).abs().max().item<double>(), 0.06);
}

TEST_F(SineWaveTest, ProjectionsAreOrthonormal) {
  for (const std::string proj : {"random", "disjoint"}) {
    auto o = small();
    o.projections = proj;
    o.module_dim = 3;
    const SineWaveTask task(o, 2);
    const auto U = task.true_projections();
    ASSERT_EQ(U.size(), 4u) << proj;
    for (const auto& u : U) {
      EXPECT_EQ(u.sizes(), (std::vector<int64_t>{32, 3})) << proj;
      EXPECT_TRUE(torch::allclose(u.t().matmul(u), torch::eye(3, u.options()), 0, 1e-10)) << proj;
    }
    // Across modules: orthogonal when disjoint; random 3-dim subspaces of R^32 overlap.
    double max_cross = 0;
    for (size_t i = 0; i < U.size(); ++i)
      for (size_t j = i + 1; j < U.size(); ++j)
        max_cross = std::max(max_cross, U[i].t().matmul(U[j]).abs().max().item<double>());
    if (proj == "disjoint")
      EXPECT_LT(max_cross, 1e-10);
    else
      EXPECT_GT(max_cross, 1e-3);
  }
}

TEST_F(SineWaveTest, DisjointProjectionsMayFillTheSpace) {
  auto o = small();
  o.dim = 8;
  o.modules = 4;
  o.module_dim = 2;
  o.projections = "disjoint";
  const SineWaveTask task(o, 2);
  const auto all = torch::cat(task.true_projections(), 1);  // [8, 8]
  EXPECT_TRUE(torch::allclose(all.t().matmul(all), torch::eye(8, all.options()), 0, 1e-10));
}

// ---- determinism ----------------------------------------------------------------------------

TEST_F(SineWaveTest, SameSeedSameData) {
  const SineWaveTask a(small(), 5), b(small(), 5);
  for (auto split : {Split::train, Split::val, Split::test}) expect_same_batch(a.all(split), b.all(split));
  for (size_t i = 0; i < a.true_projections().size(); ++i)
    EXPECT_TRUE(torch::equal(a.true_projections()[i], b.true_projections()[i]));
}

TEST_F(SineWaveTest, DifferentRunSeedDifferentData) {
  const SineWaveTask a(small(), 5), b(small(), 6);
  for (auto split : {Split::train, Split::val, Split::test}) EXPECT_FALSE(same_batch(a.all(split), b.all(split)));
  EXPECT_FALSE(torch::equal(a.true_projections()[0], b.true_projections()[0]));
}

TEST_F(SineWaveTest, SplitsDifferFromEachOther) {
  auto o = small();
  o.n_val = o.n_train = o.n_test = 100;
  const SineWaveTask t(o, 5);
  EXPECT_FALSE(torch::equal(t.all(Split::train).x, t.all(Split::val).x));
  EXPECT_FALSE(torch::equal(t.all(Split::train).x, t.all(Split::test).x));
  EXPECT_FALSE(torch::equal(t.all(Split::val).x, t.all(Split::test).x));
}

TEST_F(SineWaveTest, TaskSeedOverridesRunSeed) {
  auto o = small();
  o.seed = 123;
  const SineWaveTask a(o, 5), b(o, 6);
  for (auto split : {Split::train, Split::val, Split::test}) expect_same_batch(a.all(split), b.all(split));
  o.seed = 124;
  const SineWaveTask c(o, 5);
  EXPECT_FALSE(same_batch(a.all(Split::train), c.all(Split::train)));
}

TEST_F(SineWaveTest, SplitsAreIndependentOfEachOthersSizes) {
  auto o = small();
  const SineWaveTask a(o, 5);
  o.n_test = 5000;
  o.n_val = 0;
  const SineWaveTask b(o, 5);
  expect_same_batch(a.all(Split::train), b.all(Split::train));
  // A longer split extends a shorter one: the first rows are the same draws.
  o = small();
  o.n_train = 800;
  const SineWaveTask c(o, 5);
  EXPECT_TRUE(torch::equal(c.all(Split::train).x.slice(0, 0, 500), a.all(Split::train).x));
  expect_same_batch(a.all(Split::test), c.all(Split::test));
  expect_same_batch(a.all(Split::val), c.all(Split::val));
}

TEST_F(SineWaveTest, IndependentOfThreadCount) {
  const int saved = torch::get_num_threads();
  auto o = small();
  o.n_train = 3000;  // large enough for the matmul to be split across threads
  torch::set_num_threads(1);
  const SineWaveTask a(o, 9);
  torch::set_num_threads(2);
  const SineWaveTask b(o, 9);
  torch::set_num_threads(saved);
  for (auto split : {Split::train, Split::val, Split::test}) expect_same_batch(a.all(split), b.all(split));
}

// ---- statistics -----------------------------------------------------------------------------

namespace {
// Compares the empirical moments of a large noise-free test split with the closed form.
void expect_moments_match(const SineWaveOptions& base, uint64_t seed) {
  auto o = base;
  o.n_train = 10;
  o.n_val = 0;
  o.n_test = 200000;
  o.noise = 0.0;
  const SineWaveTask task(o, seed);
  const auto [m, v] = task.ridge_target_moments();
  ASSERT_GT(v, 0);
  const auto y = task.all(Split::test).y;
  // sd of the empirical mean is sqrt(v / 2e5) = 0.0022·sqrt(v); of the variance about 0.3-0.5% of v.
  EXPECT_NEAR(mean_of(y), m, 0.01 * std::sqrt(v));
  EXPECT_NEAR(variance_of(y), v, 0.025 * v);
}
}  // namespace

TEST_F(SineWaveTest, RidgeMomentsMatchClosedForm) {
  expect_moments_match(small(), 1);
}

TEST_F(SineWaveTest, RidgeMomentsMatchClosedFormWithCorrelatedRidges) {
  // Few input dimensions, several ridges per module and low frequencies: the ridge directions are
  // strongly correlated and the mean is far from 0, so every term of the closed form matters.
  SineWaveOptions o;
  o.dim = 6;
  o.modules = 3;
  o.module_dim = 4;
  o.ridges = 3;
  o.amplitudes = {1.0, 0.5};
  o.frequencies = {0.3, 1.0};
  const SineWaveTask probe(o, 4);
  const auto [m, v] = probe.ridge_target_moments();
  EXPECT_GT(std::abs(m), 0.2 * std::sqrt(v)) << "the case should have a clearly non-zero mean";
  expect_moments_match(o, 4);
}

TEST_F(SineWaveTest, TargetFunctionReproducesStoredTargets) {
  auto o = small();
  const SineWaveTask task(o, 1);
  for (auto split : {Split::train, Split::test}) {
    const auto b = task.all(split);
    const auto f = task.target(b.x);  // from the float32 x; the stored y came from float64 x
    EXPECT_EQ(f.sizes(), (std::vector<int64_t>{b.x.size(0), 1}));
    EXPECT_EQ(f.scalar_type(), torch::kDouble);
    EXPECT_TRUE(torch::allclose(f, b.y.to(torch::kDouble), 1e-4, 1e-4));
  }
  EXPECT_THROW(task.target(torch::zeros({3, 31})), c10::Error);
}

TEST_F(SineWaveTest, LabelNoise) {
  const double sigma = 0.5;
  auto o = small();
  o.n_train = o.n_val = o.n_test = 40000;
  o.noise = sigma;
  const SineWaveTask task(o, 2);
  // Residual y - f(x): N(0, σ²) on train and val (sd of the variance estimate 0.35% of σ²).
  for (auto split : {Split::train, Split::val}) {
    const auto b = task.all(split);
    const auto residual = b.y.to(torch::kDouble) - task.target(b.x);
    EXPECT_NEAR(variance_of(residual), sigma * sigma, 0.02 * sigma * sigma);
    EXPECT_NEAR(mean_of(residual), 0.0, 0.01);
    // The noise adds σ² to the target variance.
    EXPECT_NEAR(variance_of(b.y) - variance_of(task.target(b.x)), sigma * sigma, 0.03);
  }
  // Test targets are clean.
  const auto test = task.all(Split::test);
  EXPECT_TRUE(torch::allclose(task.target(test.x), test.y.to(torch::kDouble), 1e-4, 1e-4));

  o.noise_on_test = true;
  const SineWaveTask noisy(o, 2);
  const auto t2 = noisy.all(Split::test);
  EXPECT_NEAR(variance_of(t2.y.to(torch::kDouble) - noisy.target(t2.x)), sigma * sigma, 0.02 * sigma * sigma);
  // The noise does not change the inputs or the function.
  EXPECT_TRUE(torch::equal(t2.x, test.x));
}

TEST_F(SineWaveTest, ProductTarget) {
  auto o = small();
  o.target = "product";
  o.module_dim = 3;
  const SineWaveTask task(o, 1);
  const auto b = task.all(Split::train);
  EXPECT_EQ(b.y.sizes(), (std::vector<int64_t>{500, 1}));
  EXPECT_TRUE(torch::isfinite(b.y).all().item<bool>());
  EXPECT_GT(variance_of(b.y), 1e-3);
  EXPECT_TRUE(torch::allclose(task.target(b.x), b.y.to(torch::kDouble), 1e-4, 1e-4));
  // The product target uses the module's own coordinates as its directions.
  EXPECT_TRUE(torch::allclose(task.ridge_directions(), torch::cat(task.true_projections(), 1)));
  EXPECT_THROW(task.ridge_target_moments(), c10::Error);  // closed form is for ridge targets only
  // It is a different function from the ridge target of the same task seed.
  o.target = "ridge";
  const SineWaveTask ridge(o, 1);
  EXPECT_FALSE(torch::allclose(ridge.all(Split::train).y, b.y));
}

TEST_F(SineWaveTest, ProductTargetMatchesHandComputation) {
  // One module, m = 2, D = 2, one sine: y = a·sin(ω z_1 + φ_1) · a·sin(ω z_2 + φ_2), z = Uᵀx, so
  // the target is separable in the module's coordinates whatever the (random) phases are.
  SineWaveOptions o;
  o.dim = 2;
  o.modules = 1;
  o.module_dim = 2;
  o.target = "product";
  o.amplitudes = {2.0};
  o.frequencies = {1.0};
  o.n_train = o.n_val = o.n_test = 1;
  const SineWaveTask task(o, 3);
  const auto U = task.true_projections()[0];  // [2, 2]
  // f(U z) for z on a grid equals the separable product g1(z1)·g2(z2) (rank one in the grid).
  const auto grid = torch::linspace(-2, 2, 7, torch::kDouble);
  auto z = torch::stack(torch::meshgrid({grid, grid}, "ij"), -1).reshape({-1, 2});  // [49, 2]
  const auto f = task.target(z.matmul(U.t())).reshape({7, 7});
  const auto s = torch::linalg_svdvals(f);
  EXPECT_LT(s[1].item<double>(), 1e-10 * s[0].item<double>());
}

// ---- config validation through the registry ---------------------------------------------------

namespace {
struct TaskSection {
  modnet::data::TaskSpec task;
  template <class V>
  void fields(V& v) {
    v("task", task, modnet::config::required(), "the task");
  }
};

TaskSection read_section(const std::string& text) {
  return modnet::config::read<TaskSection>(modnet::config::load_string(text, "task.yaml"));
}

std::string task_error(const std::string& text) {
  try {
    read_section(text);
  } catch (const modnet::ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a ConfigError for: " << text;
  return "";
}
}  // namespace

TEST_F(SineWaveTest, ConfigRejectsImpossibleDisjointProjections) {
  const auto msg = task_error("task: {type: sine, modules: 20, module_dim: 2, dim: 32, projections: disjoint}\n");
  EXPECT_CONTAINS(msg, "disjoint");
  EXPECT_CONTAINS(msg, "task");
  EXPECT_CONTAINS(msg, "task.yaml");
  // The same sizes are fine with random projections.
  EXPECT_NO_THROW(read_section("task: {type: sine, modules: 20, module_dim: 2, dim: 32}\n"));
}

TEST_F(SineWaveTest, ConfigRejectsMismatchedBank) {
  EXPECT_CONTAINS(task_error("task: {type: sine, amplitudes: [1, 0.5], frequencies: [1]}\n"), "amplitudes");
  EXPECT_CONTAINS(task_error("task: {type: sine, amplitudes: [], frequencies: []}\n"), "amplitudes");
}

TEST_F(SineWaveTest, ConfigRejectsBadValues) {
  EXPECT_CONTAINS(task_error("task: {type: sine, module_dim: 40, dim: 32}\n"), "module_dim");
  EXPECT_CONTAINS(task_error("task: {type: sine, projections: orthogonal}\n"), "'task.projections'");
  EXPECT_CONTAINS(task_error("task: {type: sine, target: cosine}\n"), "'task.target'");
  EXPECT_CONTAINS(task_error("task: {type: sine, frequencies: [1, 0, 2]}\n"), "'task.frequencies[1]'");
  EXPECT_CONTAINS(task_error("task: {type: sine, noise: -0.1}\n"), "'task.noise'");
  EXPECT_CONTAINS(task_error("task: {type: sine, n_train: 0}\n"), "'task.n_train'");
  EXPECT_CONTAINS(task_error("task: {type: sine, size: 3}\n"), "unknown key 'task.size'");
  EXPECT_CONTAINS(task_error("task: {type: cosine}\n"), "sine");  // lists the registered types
}

TEST_F(SineWaveTest, BuildFromConfigMatchesDirectConstruction) {
  const auto s = read_section("task: {type: sine, dim: 16, modules: 2, n_train: 50, n_val: 20, n_test: 30}\n");
  const auto task = modnet::data::build_task(s.task, 7);
  ASSERT_TRUE(task);
  EXPECT_EQ(task->name(), "sine");
  EXPECT_EQ(task->input_dim(), 16);
  SineWaveOptions o;
  o.dim = 16;
  o.modules = 2;
  o.n_train = 50;
  o.n_val = 20;
  o.n_test = 30;
  const SineWaveTask direct(o, 7);
  for (auto split : {Split::train, Split::val, Split::test}) expect_same_batch(task->all(split), direct.all(split));
}

TEST_F(SineWaveTest, TaskShapeEqualsTheBuiltTasksSizes) {
  // data::task_shape gives the sizes without building the data; they are the built task's.
  for (const std::string text : {"task: {type: sine}\n",
                                 "task: {type: sine, dim: 16, modules: 3, module_dim: 4, n_train: 50, n_val: 0, n_test: 20}\n",
                                 "task: {type: sine, dim: 7, modules: 1, module_dim: 7, target: product, n_train: 10}\n"}) {
    const auto s = read_section(text);
    const auto shape = modnet::data::task_shape(s.task);
    ASSERT_TRUE(shape.has_value()) << text;
    const auto task = modnet::data::build_task(s.task, 3);
    EXPECT_EQ(shape->input_dim, task->input_dim()) << text;
    EXPECT_EQ(shape->output_dim, task->output_dim()) << text;
    EXPECT_EQ(shape->modules, task->module_count()) << text;
  }
  // By hand for the second: 16 inputs, one output, 3 true modules.
  const auto shape = modnet::data::task_shape(
      read_section("task: {type: sine, dim: 16, modules: 3, module_dim: 4, n_train: 50, n_val: 0, n_test: 20}\n").task);
  ASSERT_TRUE(shape.has_value());
  EXPECT_EQ(shape->input_dim, 16);
  EXPECT_EQ(shape->output_dim, 1);
  EXPECT_EQ(shape->modules, 3);
}

// ---- the Task interface ---------------------------------------------------------------------

TEST_F(SineWaveTest, LossIsMeanSquaredError) {
  const SineWaveTask task(small(), 1);
  const auto pred = torch::tensor({{1.0f}, {2.0f}, {4.0f}});
  const auto target = torch::tensor({{0.0f}, {2.0f}, {1.0f}});
  // ((1-0)² + 0² + (4-1)²) / 3 = 10/3
  EXPECT_NEAR(task.loss(pred, target).item<double>(), 10.0 / 3.0, 1e-6);
  EXPECT_THROW(task.loss(pred, target.view({1, 3})), c10::Error);
  EXPECT_TRUE(task.metric_sums(pred, target).empty());
}

TEST_F(SineWaveTest, SplitNames) {
  for (auto split : {Split::train, Split::val, Split::test})
    EXPECT_EQ(modnet::data::parse_split(modnet::data::to_string(split)), split);
  EXPECT_THROW(modnet::data::parse_split("validation"), modnet::ConfigError);
}
