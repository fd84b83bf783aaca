// CUDA-only tests (named *_CUDA; each skips on a machine without a GPU, and scripts/gpu-check.sh
// runs them on one): the batched paths on the GPU agree with the CPU, and training runs on CUDA in
// fp32 and under bf16 autocast.
#include <gtest/gtest.h>

#include <filesystem>

#include <torch/torch.h>

#include "modnet/core/config.h"
#include "modnet/core/error.h"
#include "modnet/core/precision.h"
#include "modnet/init/kernel_objective.h"
#include "modnet/models/modular.h"
#include "modnet/run/experiment.h"
#include "fixtures.h"

namespace fs = std::filesystem;
using namespace modnet;

namespace {

#define REQUIRE_CUDA() \
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device on this machine"

// Seeded, with a fresh directory per test (sub(name): a path inside it, not yet created).
class CudaTest : public modnet::testing::TempDirTest {
 protected:
  static run::ExperimentConfig sine(const std::string& extra, const std::string& more = "") {
    return run::parse_experiment_config(config::load_string(
        "name: cuda\nseed: 1\ndevice: cuda\nlog_level: warn\n"
        "task: {type: sine, dim: 16, modules: 2, module_dim: 2, n_train: 1024, n_val: 256, n_test: 512}\n"
        "model: {type: modular, modules: 2, module_dim: 2, hidden: [32, 32]}\n"
        "train: {steps: 200, lr: 0.003, batch_size: 128, eval_every: 100, progress: false" + extra + "}\n" + more,
        "cuda.yaml"));
  }
};

}  // namespace

TEST_F(CudaTest, PrecisionNeedsCudaForBf16) {
  EXPECT_NO_THROW(check_precision("fp32", torch::kCPU, "train.precision"));
  EXPECT_THROW(check_precision("bf16", torch::kCPU, "train.precision"), ConfigError);
  AutocastGuard off(torch::kCPU, "bf16");
  EXPECT_FALSE(off.active());
}

TEST_F(CudaTest, ModularForwardAndGradientsMatchCpu_CUDA) {
  REQUIRE_CUDA();
  models::Modular cpu(models::ModularOptions(64, 3, 8, 4).hidden({32, 32}));
  auto gpu = std::dynamic_pointer_cast<models::ModularImpl>(cpu->clone(torch::Device(torch::kCUDA)));
  const auto x = torch::randn({100, 64});
  const auto out_cpu = cpu->forward(x);
  const auto out_gpu = gpu->forward(x.cuda());
  EXPECT_TRUE(torch::allclose(out_gpu.cpu(), out_cpu, 1e-4, 1e-5));
  out_cpu.pow(2).sum().backward();
  out_gpu.pow(2).sum().backward();
  const auto pc = cpu->parameters(), pg = gpu->parameters();
  ASSERT_EQ(pc.size(), pg.size());
  for (size_t i = 0; i < pc.size(); ++i)
    EXPECT_TRUE(torch::allclose(pg[i].grad().cpu(), pc[i].grad(), 1e-3, 1e-4)) << "parameter " << i;
}

TEST_F(CudaTest, KernelObjectiveMatchesCpu_CUDA) {
  REQUIRE_CUDA();
  const auto z = torch::randn({4, 128, 3}, torch::kDouble);
  const auto y = torch::randn({4, 128, 2}, torch::kDouble);
  const auto g_cpu = init::rbf_gram(z, 1.0, false, true);
  const auto g_gpu = init::rbf_gram(z.cuda(), 1.0, false, true);
  EXPECT_TRUE(torch::allclose(g_gpu.cpu(), g_cpu, 1e-9, 1e-9));
  EXPECT_TRUE(torch::allclose(init::min_norm_objective(g_gpu, y.cuda(), 0.1).cpu(),
                              init::min_norm_objective(g_cpu, y, 0.1), 1e-8, 1e-8));
}

TEST_F(CudaTest, TrainsOnCudaInFp32AndBf16_CUDA) {
  REQUIRE_CUDA();
  run::Experiment fp32(sine(""));
  const auto a = fp32.run(sub("fp32"), RunDirMode::fresh);
  ASSERT_TRUE(a.finished);
  run::Experiment bf16(sine(", precision: bf16"));
  const auto b = bf16.run(sub("bf16"), RunDirMode::fresh);
  ASSERT_TRUE(b.finished);
  const double variance = fp32.task()->all(data::Split::test).y.var(false).item<double>();
  const double la = a.final.at(data::Split::test).loss, lb = b.final.at(data::Split::test).loss;
  EXPECT_LT(la, variance);
  EXPECT_LT(lb, variance);
  EXPECT_NEAR(lb, la, 0.25 * variance);  // bf16 rounding changes the path, not the outcome
  EXPECT_EQ(fp32.model().ptr()->parameters()[0].device().type(), torch::kCUDA);
  EXPECT_EQ(bf16.model().ptr()->parameters()[0].scalar_type(), torch::kFloat);  // master weights stay fp32
}

TEST_F(CudaTest, KernelInitialisedRunOnCuda_CUDA) {
  REQUIRE_CUDA();
  const auto cfg = sine("", "init: {type: kernel, steps: 20, batch_size: 128, progress: false}\n");
  run::Experiment e(cfg);
  ASSERT_TRUE(e.run(sub("kernel"), RunDirMode::fresh).finished);
}
