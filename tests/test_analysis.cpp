// Tests of modnet/analysis: module similarity and its chance levels (PAPER.md §5), ridge coverage,
// per-slot energy, t-SNE and projector features, and gnuplot figures.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "modnet/analysis/metric_report.h"
#include "modnet/analysis/plot.h"
#include "modnet/analysis/sample_complexity.h"
#include "modnet/analysis/similarity.h"
#include "modnet/analysis/sweep_figures.h"
#include "modnet/analysis/tsne.h"
#include "modnet/core/error.h"
#include "modnet/core/files.h"
#include "fixtures.h"

namespace fs = std::filesystem;
namespace ma = modnet::analysis;

namespace {

const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);

using modnet::testing::TempDir;

class AnalysisTest : public modnet::testing::SeededTest {
 protected:
  torch::Generator gen_ = at::detail::createCPUGenerator(1234);

  torch::Tensor gaussian(std::vector<int64_t> shape) { return torch::randn(shape, gen_, kF64); }
  // A random [.., D, m] matrix with orthonormal columns.
  torch::Tensor random_basis(int64_t D, int64_t m) { return std::get<0>(torch::linalg_qr(gaussian({D, m}))); }
  std::vector<torch::Tensor> random_truth(int64_t k, int64_t D, int64_t m) {
    std::vector<torch::Tensor> t;
    for (int64_t i = 0; i < k; ++i) t.push_back(random_basis(D, m));
    return t;
  }
};

}  // namespace

// ---- similarity ------------------------------------------------------------------------------

TEST_F(AnalysisTest, OrthonormalBasisSpansInputAndKeepsShape) {
  const auto u = gaussian({4, 10, 3}) * 5.0;
  const auto q = ma::orthonormal_basis(u.to(torch::kFloat32));
  ASSERT_EQ(q.sizes(), u.sizes());
  EXPECT_EQ(q.scalar_type(), torch::kFloat64);
  const auto gram = torch::matmul(q.transpose(1, 2), q);
  EXPECT_TRUE(torch::allclose(gram, torch::eye(3, kF64).expand({4, 3, 3}), 0, 1e-12));
  // Same span: projecting u onto span(q) changes nothing.
  const auto proj = torch::matmul(q, torch::matmul(q.transpose(1, 2), u));
  EXPECT_TRUE(torch::allclose(proj, u, 1e-5, 1e-4));
  EXPECT_THROW(ma::orthonormal_basis(gaussian({3, 5})), c10::Error);  // b > D
  EXPECT_THROW(ma::orthonormal_basis(gaussian({3})), c10::Error);
}

TEST_F(AnalysisTest, SimilarityIsOneForTheTrueProjections) {
  const int64_t D = 16, k = 3, m = 3;
  const auto truth = random_truth(k, D, m);
  const auto stacked = torch::stack(truth);
  EXPECT_NEAR(ma::similarity_score(stacked, truth), 1.0, 1e-9);
  // Rescaled and rotated within each subspace by a random orthogonal m×m matrix.
  std::vector<torch::Tensor> moved;
  for (const auto& u : truth) moved.push_back(3.7 * torch::mm(u, random_basis(m, m)));
  const auto learned = torch::stack(moved).to(torch::kFloat32);
  EXPECT_NEAR(ma::similarity_score(learned, truth), 1.0, 1e-6);  // float32 input
  EXPECT_NEAR(ma::similarity_score(torch::stack(moved), truth), 1.0, 1e-9);
  const auto ov = ma::subspace_overlaps(torch::stack(moved), truth);
  ASSERT_EQ(ov.sizes(), (std::vector<int64_t>{k, k}));
  EXPECT_TRUE(torch::allclose(ov.diagonal(), torch::ones({k}, kF64), 0, 1e-9));
  EXPECT_LT(ov.fill_diagonal_(0).max().item<double>(), 1.0);
  // min(b, m): a smaller span inside a true one, and a larger one containing it, both score 1.
  const auto inside = truth[0].narrow(1, 0, 2).unsqueeze(0);  // b = 2 < m
  EXPECT_NEAR(ma::similarity_score(inside, truth), 1.0, 1e-9);
  const auto around = torch::cat({truth[1], gaussian({D, 2})}, 1).unsqueeze(0);  // b = 5 > m
  EXPECT_NEAR(ma::subspace_overlaps(around, truth)[0][1].item<double>(), 1.0, 1e-9);
}

TEST_F(AnalysisTest, OverlapOfOrthogonalSubspacesIsZero) {
  const auto eye = torch::eye(12, kF64);
  const std::vector<torch::Tensor> truth{eye.narrow(1, 0, 3), eye.narrow(1, 3, 3)};
  const auto learned = torch::stack({eye.narrow(1, 6, 3), 2.0 * eye.narrow(1, 9, 3)});
  const auto ov = ma::subspace_overlaps(learned, truth);
  EXPECT_LT(ov.abs().max().item<double>(), 1e-12);
  // Half of a learned module inside truth 0: overlap 1/3 per basis vector.
  const auto half = torch::cat({eye.narrow(1, 0, 1), eye.narrow(1, 6, 2)}, 1).unsqueeze(0);
  EXPECT_NEAR(ma::subspace_overlaps(half, truth)[0][0].item<double>(), 1.0 / 3.0, 1e-12);
  EXPECT_THROW(ma::subspace_overlaps(gaussian({2, 10, 3}), truth), c10::Error);  // D mismatch
  EXPECT_THROW(ma::subspace_overlaps(learned, {}), c10::Error);
}

TEST_F(AnalysisTest, RandomOverlapMatchesClosedForm) {
  // E‖Q̂ᵀQ‖²_F / min(b, m) = b·m / (D·min(b, m)): 0.09375 for D = 32, b = m = 3.
  EXPECT_DOUBLE_EQ(ma::expected_random_overlap(32, 3, 3), 3.0 / 32.0);
  EXPECT_DOUBLE_EQ(ma::expected_random_overlap(32, 2, 5), 5.0 / 32.0);
  const int64_t samples = 6000;
  const auto truth = random_truth(1, 32, 3);
  const double mean33 = ma::subspace_overlaps(gaussian({samples, 32, 3}), truth).mean().item<double>();
  EXPECT_NEAR(mean33 / ma::expected_random_overlap(32, 3, 3), 1.0, 0.03);
  const auto truth5 = random_truth(1, 32, 5);
  const double mean25 = ma::subspace_overlaps(gaussian({samples, 32, 2}), truth5).mean().item<double>();
  EXPECT_NEAR(mean25 / ma::expected_random_overlap(32, 2, 5), 1.0, 0.03);
  EXPECT_THROW(ma::expected_random_overlap(4, 5, 2), c10::Error);
}

TEST_F(AnalysisTest, ChanceSimilarityAboveMeanOverlapAndReproducible) {
  const int64_t D = 32, K = 5, b = 3, samples = 300;
  const uint64_t seed = 7;
  const auto truth = random_truth(4, D, 3);
  const double chance = ma::chance_similarity(truth, K, b, samples, seed);
  EXPECT_GT(chance, ma::expected_random_overlap(D, b, 3) * 1.2);  // the max over 4 true modules
  EXPECT_LT(chance, 0.5);
  EXPECT_EQ(chance, ma::chance_similarity(truth, K, b, samples, seed));  // deterministic
  EXPECT_NE(chance, ma::chance_similarity(truth, K, b, samples, seed + 1));
  // Direct re-computation: one [samples*K, D, b] Gaussian draw from the same seeded generator.
  auto gen = at::detail::createCPUGenerator(seed);
  const auto draws = torch::randn({samples * K, D, b}, gen, kF64);
  EXPECT_NEAR(chance, ma::similarity_score(draws, truth), 1e-12);
}

TEST_F(AnalysisTest, RidgeCoverage) {
  const int64_t D = 24, b = 3;
  const auto truth = random_truth(3, D, b);
  // Two ridge directions per module, inside its span: U_i v_s.
  std::vector<torch::Tensor> dirs;
  for (const auto& u : truth) dirs.push_back(torch::mm(u, gaussian({b, 2})));
  const auto directions = torch::cat(dirs, 1);
  std::vector<torch::Tensor> moved;
  for (const auto& u : truth) moved.push_back(0.2 * torch::mm(u, random_basis(b, b)));
  EXPECT_NEAR(ma::ridge_coverage(torch::stack(moved), directions), 1.0, 1e-9);
  // Only the first true module learned: a third of the directions covered, the rest partly.
  const double one = ma::ridge_coverage(torch::stack(moved).narrow(0, 0, 1), directions);
  EXPECT_GT(one, 1.0 / 3.0);
  EXPECT_LT(one, 0.6);
  // One random module covers b/D of a direction on average.
  const double random1 = ma::expected_random_coverage(directions, 1, b, 3000, 3);
  EXPECT_NEAR(random1 / (static_cast<double>(b) / D), 1.0, 0.04);
  EXPECT_GT(ma::expected_random_coverage(directions, 8, b, 300, 3), random1);  // max over more modules
  EXPECT_THROW(ma::ridge_coverage(torch::stack(moved), torch::zeros({D, 2}, kF64)), c10::Error);
}

TEST_F(AnalysisTest, SimilarityTrackerReportsScoresAndChanceLevels) {
  const int64_t D = 20, K = 4, b = 2;
  const auto truth = random_truth(3, D, 2);
  const auto directions = torch::cat({truth[0], truth[1].narrow(1, 0, 1)}, 1);
  const ma::SimilarityTracker tracker(truth, directions, K, b, 100, 11);
  EXPECT_EQ(tracker.chance(), ma::chance_similarity(truth, K, b, 100, 11));
  EXPECT_EQ(tracker.ridge_chance(), ma::expected_random_coverage(directions, K, b, 100, 12));
  const auto learned = torch::stack({truth[0], truth[1], truth[2], gaussian({D, b})});
  const auto r = tracker.measure(learned);
  EXPECT_DOUBLE_EQ(r.score, ma::similarity_score(learned, truth));
  EXPECT_GT(r.score, 0.75);
  EXPECT_EQ(r.chance, tracker.chance());
  EXPECT_NEAR(r.ridge_coverage, 1.0, 1e-9);
  EXPECT_EQ(r.ridge_chance, tracker.ridge_chance());
  EXPECT_LT(r.chance, r.score);
  EXPECT_THROW(tracker.measure(learned.narrow(0, 0, 3)), c10::Error);  // K differs
  // No ridge directions, or no truth at all: NaN, not an error.
  const ma::SimilarityTracker plain(truth, torch::Tensor(), K, b, 50, 0);
  const auto rp = plain.measure(learned);
  EXPECT_TRUE(std::isnan(rp.ridge_coverage) && std::isnan(rp.ridge_chance));
  EXPECT_FALSE(std::isnan(rp.score));
  const ma::SimilarityTracker none({}, torch::Tensor(), K, b, 50, 0);
  EXPECT_TRUE(std::isnan(none.measure(learned).score) && std::isnan(none.measure(learned).chance));
}

TEST_F(AnalysisTest, ModuleSlotEnergy) {
  const int64_t D = 12, b = 2;
  const std::vector<std::pair<int64_t, int64_t>> slots{{0, 4}, {4, 8}, {8, 12}};
  auto learned = gaussian({3, D, b});
  learned[0].zero_();
  learned[0].narrow(0, 4, 4).copy_(gaussian({4, b}));  // module 0 sees slot 1 only
  const auto e = ma::module_slot_energy(learned, slots);
  ASSERT_EQ(e.sizes(), (std::vector<int64_t>{3, 3}));
  EXPECT_NEAR(e[0][1].item<double>(), 1.0, 1e-12);
  EXPECT_NEAR(e[0][0].item<double>() + e[0][2].item<double>(), 0.0, 1e-12);
  EXPECT_TRUE(torch::allclose(e.sum(1), torch::ones({3}, kF64), 0, 1e-12));
  EXPECT_TRUE((e >= 0).all().item<bool>());
  // Energy is Frobenius: by hand for module 2, slot 2.
  EXPECT_NEAR(e[2][2].item<double>(),
              learned[2].narrow(0, 8, 4).pow(2).sum().item<double>() / learned[2].pow(2).sum().item<double>(),
              1e-12);
  const auto onehot = torch::eye(3, kF64);
  EXPECT_DOUBLE_EQ(ma::mean_max_slot_share(onehot), 1.0);
  EXPECT_DOUBLE_EQ(ma::mean_max_slot_share(torch::full({2, 4}, 0.25, kF64)), 0.25);
  EXPECT_THROW(ma::module_slot_energy(learned, {{0, 5}, {4, 8}}), c10::Error);  // overlapping
  EXPECT_THROW(ma::module_slot_energy(learned, {{0, 13}}), c10::Error);         // beyond D
}

// ---- t-SNE -----------------------------------------------------------------------------------

TEST_F(AnalysisTest, TsneSeparatesTwoClustersAndIsDeterministic) {
  const int64_t n = 30, f = 10;
  auto centre = torch::zeros({f}, kF64);
  centre[0] = 10.0;  // centres 10 apart, unit noise
  const auto points = torch::cat({gaussian({n, f}), gaussian({n, f}) + centre});
  ma::TsneOptions o;
  o.seed = 5;
  const auto y = ma::tsne(points, o);
  ASSERT_EQ(y.sizes(), (std::vector<int64_t>{2 * n, 2}));
  ASSERT_TRUE(torch::isfinite(y).all().item<bool>());
  const auto labels = torch::cat({torch::zeros({n}, torch::kLong), torch::ones({n}, torch::kLong)});
  const auto dist = torch::cdist(y, y) + torch::eye(2 * n, kF64) * 1e30;
  const auto nearest = std::get<1>(dist.min(1));
  EXPECT_TRUE(labels.index_select(0, nearest).equal(labels)) << "a nearest neighbour from the other cluster";
  const auto a = y.narrow(0, 0, n), b = y.narrow(0, n, n);
  const auto ca = a.mean(0), cb = b.mean(0);
  const double between = (ca - cb).norm().item<double>();
  const double within = 0.5 * ((a - ca).norm(2, 1).mean() + (b - cb).norm(2, 1).mean()).item<double>();
  EXPECT_GT(between, 2.0 * within);
  EXPECT_TRUE(ma::tsne(points, o).equal(y));  // same seed, same embedding
  o.seed = 6;
  EXPECT_FALSE(ma::tsne(points, o).equal(y));
  // Tiny inputs: perplexity clamped, no NaN.
  EXPECT_TRUE(torch::isfinite(ma::tsne(gaussian({3, 4}), o)).all().item<bool>());
  EXPECT_EQ(ma::tsne(gaussian({1, 4}), o).sizes(), (std::vector<int64_t>{1, 2}));
  auto bad = points.clone();
  bad[0][0] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(ma::tsne(bad, o), c10::Error);
}

TEST_F(AnalysisTest, TsneBandwidthsMatchThePerplexity) {
  // Points at very different scales (distances ~1e-3 and ~1e3): every row's entropy is log(perplexity).
  const auto points = torch::cat({1e-3 * gaussian({40, 5}), 1e3 * gaussian({40, 5})});
  for (const double perplexity : {2.0, 10.0, 30.0}) {
    const auto p = ma::tsne_conditional_p(points, perplexity);
    EXPECT_TRUE(torch::allclose(p.sum(1), torch::ones({80}, kF64), 0, 1e-12));
    EXPECT_EQ(p.diagonal().abs().max().item<double>(), 0.0);
    const auto entropy = -(p * torch::log(p.clamp_min(1e-300))).sum(1);
    EXPECT_LT((entropy - std::log(perplexity)).abs().max().item<double>(), 1e-4) << "perplexity " << perplexity;
  }
}

TEST_F(AnalysisTest, ProjectorFeaturesAreBasisIndependent) {
  const int64_t D = 8;
  const auto u = random_basis(D, 3);
  const auto v = 2.5 * torch::mm(u, gaussian({3, 3}));  // same span, another (non-orthonormal) basis
  const auto f = ma::projector_features(torch::stack({u, v}));
  ASSERT_EQ(f.sizes(), (std::vector<int64_t>{2, D * D}));
  EXPECT_TRUE(torch::allclose(f[0], f[1], 0, 1e-10));
  // List form with different dimensions; chordal distance ‖P1 − P2‖² = b1 + b2 − 2‖Q1ᵀQ2‖².
  const auto w = random_basis(D, 2);
  const auto g = ma::projector_features(std::vector<torch::Tensor>{u, w});
  ASSERT_EQ(g.sizes(), (std::vector<int64_t>{2, D * D}));
  EXPECT_TRUE(torch::allclose(g[0], f[0], 0, 1e-10));
  const double chordal = (g[0] - g[1]).pow(2).sum().item<double>();
  EXPECT_NEAR(chordal, 3 + 2 - 2 * torch::mm(u.t(), w).pow(2).sum().item<double>(), 1e-10);
  EXPECT_THROW(ma::projector_features(std::vector<torch::Tensor>{u, random_basis(D + 1, 2)}), c10::Error);
}

TEST_F(AnalysisTest, TsneCsv) {
  TempDir dir("analysis");
  const auto path = (dir.path() / "sub" / "tsne.csv").string();
  const auto coords = torch::tensor({0.5, -1.0, 2.0, 3.25}, kF64).view({2, 2});
  ma::write_tsne_csv(path, coords, {"learned 0", "true, \"1\""});
  EXPECT_EQ(modnet::read_file(path), "x,y,label\n0.5,-1,learned 0\n2,3.25,\"true, \"\"1\"\"\"\n");
  EXPECT_THROW(ma::write_tsne_csv(path, coords, {"only one"}), c10::Error);
}

// ---- plots -----------------------------------------------------------------------------------

TEST_F(AnalysisTest, PlotRejectsBadSeries) {
  TempDir dir("analysis");
  ma::Panel p;
  p.series.push_back({"bad", {1, 2, 3}, {1, 2}});
  EXPECT_THROW(ma::write_png((dir.path() / "a.png").string(), {p}), modnet::Error);
  p.series[0].y.push_back(3);
  p.series[0].color = "red-ish";
  EXPECT_THROW(ma::gnuplot_script({p}, "a.png"), modnet::Error);
  p.series[0].color = "#1f77b4";
  p.series[0].style = "bars";
  EXPECT_THROW(ma::gnuplot_script({p}, "a.png"), modnet::Error);
  EXPECT_THROW(ma::gnuplot_script({}, "a.png"), modnet::Error);
}

TEST_F(AnalysisTest, PlotScriptEscapesAndSkipsNonFinite) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  ma::Panel p;
  p.title = "it's a_title^2";
  p.logy = true;
  ma::Series s{"run 'a'", {1, 2, 3, 4, 5}, {1.0, nan, 3.0, -1.0, 5.0}};
  s.alpha = 0.25;
  s.color = "#1F77B4";
  p.series.push_back(s);
  const auto gp = ma::gnuplot_script({p}, "fig.png");
  EXPECT_NE(gp.find("set title 'it''s a_title^2'"), std::string::npos) << gp;
  EXPECT_NE(gp.find("title 'run ''a'''"), std::string::npos) << gp;
  EXPECT_NE(gp.find("lc rgb '#bf1F77B4'"), std::string::npos) << gp;  // 75 % transparent
  EXPECT_NE(gp.find("$s0_0 << EOD\n1 1\n\n3 3\n\n5 5\nEOD\n"), std::string::npos) << gp;  // nan, y <= 0 skipped
  EXPECT_EQ(gp.find("nan"), std::string::npos);
}

TEST_F(AnalysisTest, PlotWritesPngAndScript) {
  if (!ma::gnuplot_available()) GTEST_SKIP() << "gnuplot is not installed; write_png cannot render";
  TempDir dir("analysis");
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  ma::Panel loss{"test loss vs n", "n", "loss", true, true, {}, true};
  ma::Series ours{"ours", {100, 300, 1000, 3000, 10000}, {2.0, 1.5, nan, 0.8, 0.5}};
  ma::Series base{"baseline (dashed, light)", {100, 300, 1000, 3000, 10000}, {2.5, 2.2, 1.9, inf, 1.2}};
  base.dashed = true;
  base.alpha = 0.3;
  ma::Series pts{"samples", {100, 1000}, {2.2, 1.7}};
  pts.style = "points";
  pts.color = "#d62728";
  loss.series = {ours, base, pts};
  ma::Panel empty{"all NaN: 'quotes' & _under_", "x", "y", false, false, {{"nothing", {1, 2}, {nan, nan}}}, false};
  ma::Panel lp{"linespoints", "k", "accuracy", false, false, {{"acc", {1, 2, 3}, {0.55, 0.54, 0.53}, "linespoints"}}};
  const auto png = dir.path() / "figs" / "loss.png";
  ASSERT_TRUE(ma::write_png(png.string(), {loss, empty, lp}, 2));
  ASSERT_TRUE(fs::exists(png));
  std::ifstream in(png, std::ios::binary);
  char magic[8] = {};
  in.read(magic, 8);
  EXPECT_EQ(std::string(magic, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_GT(fs::file_size(png), 1000u);
  const auto gp = dir.path() / "figs" / "loss.gp";
  ASSERT_TRUE(fs::exists(gp));
  EXPECT_NE(modnet::read_file(gp.string()).find("set multiplot layout 2,2"), std::string::npos);
  // Nothing else left behind (no temporaries, no error logs).
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir.path() / "figs")) files += e.is_regular_file() ? 1 : 0;
  EXPECT_EQ(files, 2);
  // The script alone remakes the figure (as a user would), from its own directory.
  fs::remove(png);
  const std::string cmd = "cd '" + (dir.path() / "figs").string() + "' && gnuplot loss.gp 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_GT(fs::file_size(png), 1000u);
}

TEST_F(AnalysisTest, PlotReportsGnuplotFailure) {
  if (!ma::gnuplot_available()) GTEST_SKIP() << "gnuplot is not installed";
  TempDir dir("analysis");
  ma::Panel p{"t", "x", "y"};
  p.series.push_back({"a", {1, 2}, {1, 2}});
  // A directory where the PNG should go: gnuplot cannot rename onto it; false, and the script stays.
  const auto png = dir.path() / "taken.png";
  fs::create_directories(png / "inside");
  EXPECT_FALSE(ma::write_png(png.string(), {p}));
  EXPECT_TRUE(fs::exists(dir.path() / "taken.gp"));
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) files += e.is_regular_file() ? 1 : 0;
  EXPECT_EQ(files, 1);  // only the script: the temporary PNG was removed
}

// ---- sample complexity from sweeps ---------------------------------------------------------------

TEST(SampleComplexity, InterpolatesInLogN) {
  // loss = 4 / log10(n): 2.0 at n = 100, 1.0 at n = 10^4. Threshold 1.5 lies half-way in the loss
  // between n = 100 and n = 10^4 (the only bracketing points), so log-n interpolation gives 10^3.
  const std::vector<double> n{10000, 100, 10};  // unsorted on purpose
  const std::vector<double> loss{1.0, 2.0, 4.0};
  EXPECT_NEAR(modnet::analysis::sample_complexity(n, loss, 1.5), 1000.0, 1e-9);
  // Reached at the first point, never reached, and a point exactly on the threshold.
  EXPECT_DOUBLE_EQ(modnet::analysis::sample_complexity(n, loss, 5.0), 10.0);
  EXPECT_TRUE(std::isnan(modnet::analysis::sample_complexity(n, loss, 0.5)));
  EXPECT_NEAR(modnet::analysis::sample_complexity(n, loss, 2.0), 100.0, 1e-9);
  // NaN losses (failed points) are skipped.
  EXPECT_NEAR(modnet::analysis::sample_complexity({100, 1000, 10000}, {2.0, std::nan(""), 1.0}, 1.5), 1000.0, 1e-9);
  EXPECT_THROW(modnet::analysis::sample_complexity({1, 2}, {1}, 1.0), modnet::Error);
}

TEST(SampleComplexity, MedianCountsUnreachedAsInfinite) {
  const double nan = std::nan("");
  EXPECT_DOUBLE_EQ(modnet::analysis::median_unreached_high({300, 100, 200}), 200);
  EXPECT_DOUBLE_EQ(modnet::analysis::median_unreached_high({300, nan, 100}), 300);  // 100, 300, inf
  EXPECT_TRUE(std::isnan(modnet::analysis::median_unreached_high({nan, nan, 100})));
  EXPECT_DOUBLE_EQ(modnet::analysis::median_unreached_high({100, 300}), 200);
}

TEST(SampleComplexity, TableFromSweepResults) {
  modnet::CsvTable t;
  t.header = {"point", "status", "config", "task.module_dim", "task.n_train", "seed", "test_loss", "test_target_variance"};
  // Method a, m = 2: seed 0 crosses 1.5 between n = 100 (2.0) and 1000 (1.0) -> 10^1.5·10 ≈ 316.2;
  // seed 1 is already at 1.2 at n = 100 -> 100. Method b never reaches it. One failed point is ignored.
  t.rows = {{"p1", "done", "a", "2", "100", "0", "2.0", "2.0"},   {"p2", "done", "a", "2", "1000", "0", "1.0", "2.0"},
            {"p3", "done", "a", "2", "100", "1", "1.2", "2.0"},   {"p4", "done", "a", "2", "1000", "1", "0.9", "2.0"},
            {"p5", "done", "b", "2", "100", "0", "3.0", "2.0"},   {"p6", "done", "b", "2", "1000", "0", "2.5", "2.0"},
            {"p7", "failed", "b", "2", "1000", "1", "", ""}};
  modnet::analysis::SampleComplexityOptions o;
  const auto rows = modnet::analysis::sample_complexity_table(t, o);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].method, "a");
  EXPECT_NEAR(rows[0].per_seed[0], std::pow(10.0, 2.5), 1e-6);
  EXPECT_DOUBLE_EQ(rows[0].per_seed[1], 100.0);
  EXPECT_NEAR(rows[0].median, 0.5 * (100.0 + std::pow(10.0, 2.5)), 1e-6);
  EXPECT_EQ(rows[1].per_seed.size(), 1u);  // the failed seed is not there
  EXPECT_TRUE(std::isnan(rows[1].median));
  EXPECT_NE(modnet::analysis::format_sample_complexity(rows, o).find("not reached"), std::string::npos);
  // Relative threshold: 0.75 × variance 2.0 = 1.5, the same crossing.
  o.relative = true;
  o.threshold = 0.75;
  EXPECT_NEAR(modnet::analysis::sample_complexity_table(t, o)[0].per_seed[0], std::pow(10.0, 2.5), 1e-6);
  o.group_column = "nope";
  EXPECT_THROW(modnet::analysis::sample_complexity_table(t, o), modnet::DataError);
}

TEST(SweepFigures, LossCurvesAverageOverSeeds) {
  modnet::CsvTable t;
  t.header = {"point", "status", "config", "task.n_train", "seed", "train_loss", "test_loss"};
  t.rows = {{"a", "done", "mono", "100", "0", "0.1", "1.0"}, {"b", "done", "mono", "100", "1", "0.3", "2.0"},
            {"c", "done", "mono", "1000", "0", "0.2", "0.5"}, {"d", "failed", "mono", "1000", "1", "", ""}};
  const auto curves = modnet::analysis::loss_curves(t, "task.n_train");
  ASSERT_EQ(curves.size(), 1u);
  EXPECT_EQ(curves[0].x, (std::vector<double>{100, 1000}));
  EXPECT_NEAR(curves[0].test[0], 1.5, 1e-12);
  EXPECT_NEAR(curves[0].train[0], 0.2, 1e-12);
  EXPECT_NEAR(curves[0].test[1], 0.5, 1e-12);
  EXPECT_EQ(curves[0].light_x.size(), 2u);  // one light line per seed
  const auto panel = modnet::analysis::loss_panel(curves, "n", true, true);
  EXPECT_EQ(panel.series.size(), 4u);  // 2 light + test + train
  EXPECT_NE(modnet::analysis::format_loss_curves(curves, "task.n_train").find("| mono | 100 | 0.2000 | 1.5000 | 2 |"),
            std::string::npos);
  // A column zipped with the axis (model.module_dim = task.module_dim) is not a setting: still one
  // light line per seed.
  modnet::CsvTable z;
  z.header = {"point", "status", "config", "task.module_dim", "model.module_dim", "seed", "train_loss", "test_loss"};
  z.rows = {{"a", "done", "mod", "2", "2", "0", "0.1", "1.0"}, {"b", "done", "mod", "3", "3", "0", "0.2", "2.0"},
            {"c", "done", "mod", "2", "2", "1", "0.1", "1.2"}, {"d", "done", "mod", "3", "3", "1", "0.2", "2.2"}};
  const auto zc = modnet::analysis::loss_curves(z, "task.module_dim");
  ASSERT_EQ(zc.size(), 1u);
  EXPECT_EQ(zc[0].light_x.size(), 2u);
  EXPECT_EQ(zc[0].light_x[0], (std::vector<double>{2, 3}));
}

// ---- metric reports (accuracy vs k, Table 1) ------------------------------------------------------

TEST(MetricReport, MeanAndStdPerMethodAndAxisValueOverFinishedRows) {
  const TempDir temp("metric_report");
  const fs::path& dir = temp.path();
  modnet::write_file_atomic((dir / "results.csv").string(),
                            "point,status,config,task.slots,seed,test_accuracy,ood_accuracy\n"
                            "a,done,mono,2,0,0.40,0.30\n"
                            "b,done,mono,2,1,0.44,0.34\n"
                            "c,done,mono,4,0,0.30,\n"
                            "d,failed,mono,4,1,0.99,0.99\n"
                            "e,done,ours,2,0,0.50,0.45\n");
  const auto t = ma::metric_table(modnet::read_csv((dir / "results.csv").string()), "task.slots",
                                  {"test_accuracy", "ood_accuracy"});
  EXPECT_EQ(t.methods, (std::vector<std::string>{"mono", "ours"}));
  EXPECT_EQ(t.xs, (std::vector<double>{2, 4}));
  const auto& m2 = t.cells.at("mono").at(2.0).at("test_accuracy");
  EXPECT_NEAR(m2.mean, 0.42, 1e-12);
  EXPECT_NEAR(m2.std, std::sqrt(0.0008), 1e-12);  // sample std of 0.40, 0.44
  EXPECT_EQ(m2.n, 2);
  EXPECT_EQ(t.cells.at("mono").at(4.0).at("test_accuracy").n, 1);  // the failed row is left out
  EXPECT_EQ(t.cells.at("mono").at(4.0).count("ood_accuracy"), 0u);  // empty value
  const auto table = ma::format_metric_table(t, 2.0);
  EXPECT_NE(table.find("| mono | 2 | 0.4200 ± 0.0283 (2) | 0.3200 ± 0.0283 (2) |"), std::string::npos) << table;
  EXPECT_EQ(table.find("| mono | 4 |"), std::string::npos) << table;
  EXPECT_THROW(ma::metric_table(modnet::read_csv((dir / "results.csv").string()), "task.slots", {"nope"}),
               modnet::DataError);
  // The report writes the table and a figure script (and the PNG where gnuplot runs), with
  // reference values drawn beside.
  modnet::write_file_atomic((dir / "ref.csv").string(), "method,x,metric,value\nmono,2,test_accuracy,0.5\n");
  ma::report_sweep_metrics(dir.string(), "task.slots", {"test_accuracy"}, (dir / "r").string(), std::nullopt,
                           (dir / "ref.csv").string());
  EXPECT_TRUE(fs::exists(dir / "r_test_accuracy_vs_task_slots.md"));
  EXPECT_TRUE(fs::exists(dir / "r_test_accuracy_vs_task_slots.gp"));
  EXPECT_NE(modnet::read_file((dir / "r_test_accuracy_vs_task_slots.gp").string()).find("mono (reference)"),
            std::string::npos);
}

TEST(MetricReport, SeveralSweepsReadAsOneWithAnUnvariedAxisFromEachRunsConfig) {
  // Sweep A varies task.slots; sweep B (a Table 1 at k = 6) does not: its k comes from config.yaml.
  const TempDir temp("metric_report_merge");
  const fs::path a = temp.path() / "a", b = temp.path() / "b";
  fs::create_directories(a);
  fs::create_directories(b / "runs" / "p0");
  fs::create_directories(b / "runs" / "p1");
  modnet::write_file_atomic((a / "results.csv").string(),
                            "point,status,config,task.slots,seed,test_accuracy,dir\n"
                            "x,done,mono,2,0,0.40,runs/x\n"
                            "y,done,ours,2,0,0.50,runs/y\n");
  modnet::write_file_atomic((b / "results.csv").string(),
                            "point,status,config,seed,ood_accuracy,test_accuracy,dir\n"
                            "p0,done,mono,0,0.31,0.30,runs/p0\n"
                            "p1,pending,ours,0,,,runs/p1\n");
  modnet::write_file_atomic((b / "runs" / "p0" / "config.yaml").string(), "task:\n  type: compositional\n  slots: 6\n");
  const auto merged = ma::read_sweep_results(a.string() + "," + b.string(), {"task.slots"});
  ASSERT_EQ(merged.rows.size(), 4u);
  const auto t = ma::metric_table(merged, "task.slots", {"test_accuracy"});
  EXPECT_EQ(t.xs, (std::vector<double>{2, 6}));
  EXPECT_NEAR(t.cells.at("mono").at(6.0).at("test_accuracy").mean, 0.30, 1e-12);
  EXPECT_EQ(t.cells.at("ours").count(6.0), 0u);  // the pending run is left out (and its config not read)
  // A column only one sweep has is empty for the other's rows.
  EXPECT_EQ(ma::metric_table(merged, "task.slots", {"ood_accuracy"}).cells.at("mono").count(2.0), 0u);
  // One folder: exactly its results.csv; a key it lacks from the runs' configs.
  const auto one = ma::read_sweep_results(a.string(), {"task.slots"});
  EXPECT_EQ(one.header, modnet::read_csv((a / "results.csv").string()).header);
  EXPECT_EQ(one.rows.size(), 2u);
  const auto table1 = ma::metric_table(ma::read_sweep_results(b.string(), {"task.slots"}), "task.slots", {"test_accuracy"});
  EXPECT_EQ(table1.xs, (std::vector<double>{6}));
  // A finished run whose config cannot be read is a clear error naming the file.
  modnet::write_file_atomic((b / "results.csv").string(),
                            "point,status,config,seed,test_accuracy,dir\np9,done,mono,0,0.3,runs/p9\n");
  try {
    ma::read_sweep_results(a.string() + "," + b.string(), {"task.slots"});
    ADD_FAILURE() << "expected a DataError";
  } catch (const modnet::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("runs/p9/config.yaml"), std::string::npos) << e.what();
  }
}
