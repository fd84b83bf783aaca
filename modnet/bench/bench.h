#pragma once
// modnet-bench, the library part: timing, the machine's GEMM rate, analytic FLOP counts, the fixed
// workloads (workloads.cpp) and the report (text table + JSON).
//
// Every workload is timed the same way: `warmup` steps, then a calibration that finds how many
// steps make one repeat last at least `seconds` (so a 2 ms step is timed over hundreds of steps),
// then `repeats` timed repeats of that many steps; the reported rate is the median over repeats.
// On CUDA the device is synchronised before and after every timed repeat.
//
// Achieved GFLOP/s = analytic FLOPs per step × steps/s; it is also given as a fraction of the
// machine's GEMM rate measured in the same run (a float32 n×n×n torch::mm, 2n³ FLOPs, best of
// repeats), so that numbers from a busy or a different machine stay comparable.
//
// FLOP convention (the same in the JSON, key "flop_convention"): only GEMM FLOPs are counted,
// 2·m·n·k per [m,k]×[k,n] product; a training step counts 3× the forward GEMM FLOPs (backward ≈
// 2× forward). Bias adds, activations, losses and optimiser updates are not counted. The 3× is
// the usual convention and an upper bound: the input gradient of the first layer is never computed
// (inputs need no gradient), so where the first GEMM dominates (the projection of cifar-modular,
// the first layer of cifar-monolithic) the true count is up to 1/3 lower.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "modnet/core/cli.h"
#include "modnet/core/config.h"
#include "modnet/core/csv.h"
#include "modnet/core/json.h"

namespace modnet::bench {

/// The workloads, in report order: sine-modular, cifar-modular, cifar-monolithic, kernel-init,
/// compositional-data.
const std::vector<std::string>& workload_names();
/// One line describing a workload (its fixed sizes).
std::string workload_description(const std::string& name);

/// Options of a benchmark run: configs/bench/*.yaml, then `key=value` overrides, then the flags.
struct BenchOptions {
  std::vector<std::string> workloads = workload_names();
  int64_t repeats = 5;        // timed repeats per workload (the median is reported)
  int64_t warmup = 2;         // untimed steps before calibration
  double seconds = 0.5;       // minimum duration of one timed repeat
  int64_t threads = 0;        // torch intra-op threads (0 = 1, the library's measured default)
  int64_t blas_threads = 0;   // OpenBLAS threads (0 = keep)
  std::string device = "cpu"; // cpu | cuda | cuda:N | auto
  int64_t gemm_size = 2048;   // n of the n×n×n float32 GEMM that measures the machine's rate
  std::string data_root = "data/cifar10-jpeg";  // compositional-data images (synthetic when absent)
  int64_t seed = 0;
  bool profile = false;       // also time each phase of one step (where the time goes)
  bool end_to_end = false;    // also time one whole training run (run_end_to_end)
  std::string end_to_end_config = "configs/bench/end-to-end.yaml";
  std::string end_to_end_out;  // keep that run's directory here ("" = a temporary one, removed)

  template <class V>
  void fields(V& v) {
    using namespace config;
    v("workloads", workloads, none(), "workloads to run (default: all)");
    v("repeats", repeats, at_least(1), "timed repeats per workload; the median is reported");
    v("warmup", warmup, at_least(0), "untimed warm-up steps per workload");
    v("seconds", seconds, greater_than(0), "minimum seconds per timed repeat (small steps are repeated)");
    v("threads", threads, at_least(0), "torch intra-op threads (0 = 1, as in training runs)");
    v("blas_threads", blas_threads, at_least(0), "OpenBLAS threads (0 = default)");
    v("device", device, none(), "cpu, cuda, cuda:N or auto");
    v("gemm_size", gemm_size, at_least(16), "n of the float32 n x n x n GEMM measuring the machine's rate");
    v("data_root", data_root, none(), "compositional-data image folder (synthetic images when it is absent)");
    v("seed", seed, at_least(0), "seed of the random inputs and models");
    v("profile", profile, none(), "time the phases of a step (forward, loss, backward, optimiser ...)");
    v("end_to_end", end_to_end, none(), "also time one whole modnet-train run of end_to_end_config, phase by phase");
    v("end_to_end_config", end_to_end_config, none(), "the experiment config the end-to-end run trains");
    v("end_to_end_out", end_to_end_out, none(),
      "run directory of the end-to-end run, kept (\"\" = a temporary directory, removed afterwards)");
  }
  void resolve(const config::Reader& r);
};

/// The command-line flags of modnet-bench.
std::vector<cli::FlagSpec> bench_flags();
/// Options from parsed flags: --config, then key=value overrides, then the flags (each flag is
/// applied as an override, so it is checked like a config value).
BenchOptions bench_options_from_args(const cli::Args& args);

// ---- timing ---------------------------------------------------------------------------------------

struct TimingOptions {
  int64_t repeats = 5;
  int64_t warmup = 2;
  double seconds = 0.5;
};

struct Timing {
  int64_t steps_per_repeat = 0;
  std::vector<double> step_seconds;  // mean seconds per step, one per repeat
  double median_step_seconds() const;
  /// Median over repeats of items/s, and the lowest and highest repeat.
  double median_rate(double items_per_step) const;
  double min_rate(double items_per_step) const;
  double max_rate(double items_per_step) const;
};

/// Median (mean of the two middle values for an even count). Throws on an empty list.
double median(std::vector<double> values);
/// Waits for the device's queued work (CUDA); nothing on the CPU.
void synchronize(const torch::Device& device);
/// Times `step` as described at the top of this file.
Timing time_steps(const std::function<void()>& step, const TimingOptions& options, const torch::Device& device);

struct GemmRate {
  int64_t n = 0;
  double flops = 0;        // 2n³
  double seconds = 0;      // seconds per GEMM at the best repeat
  double gflops = 0;       // the best repeat (the machine's rate; see measure_gemm_rate)
};
/// The machine's float32 GEMM rate: torch::mm_out of two n×n matrices, best repeat. run_bench
/// measures it before and after the workloads and keeps the higher.
GemmRate measure_gemm_rate(int64_t n, const TimingOptions& options, const torch::Device& device);

// ---- FLOP counts (GEMM FLOPs, see the convention at the top) ---------------------------------------

/// Forward GEMM FLOPs of an MLP in → hidden… → out on `batch` samples: 2·B·Σ_l in_l·out_l.
double mlp_forward_flops(int64_t batch, int64_t in, const std::vector<int64_t>& hidden, int64_t out);
/// Forward GEMM FLOPs of the modular network: projection 2·B·D·(K·b), plus K module MLPs
/// b → hidden… → out, each 2·B·Σ_l in_l·out_l. The per-module loop does the same GEMMs.
double modular_forward_flops(int64_t batch, int64_t D, int64_t K, int64_t b, const std::vector<int64_t>& hidden,
                             int64_t out);
/// A training step: 3 × the forward GEMM FLOPs.
inline double training_step_flops(double forward_flops) { return 3.0 * forward_flops; }
/// One kernel-initialiser step (objective + gradient) of K modules, RBF kernel on n samples, d
/// target columns: init::kernel_step_flops, i.e. 3·K·(2nDb + 2n²b + 6n² + n³/3 + 2n²d + 2nd)
/// (projection, distance GEMM, exp, Cholesky, two triangular solves, trace; ×3 for backward).
double kernel_init_step_flops(int64_t n, int64_t D, int64_t K, int64_t b, int64_t d);

// ---- workloads ------------------------------------------------------------------------------------

/// One benchmark workload, built ready to run: `step` does one full iteration (a training step, a
/// kernel-init step, a batch gathered); `loop_step`, for the modular workloads, does the same
/// iteration with the per-module loop formulation (Modular::forward_per_module).
struct Workload {
  std::string name;
  std::string description;
  std::string unit = "samples/s";    // what items_per_step counts, per second
  double items_per_step = 0;
  double flops_per_step = 0;         // 0: not a FLOP workload
  std::string flop_formula;          // how flops_per_step was counted, with the sizes filled in
  std::function<void()> step;
  std::function<void()> loop_step;   // empty when there is no loop formulation
  std::function<void()> reference_step;  // the autograd reference of a fused step (empty: none)
  /// One step timed phase by phase (the device synchronised between phases): (phase, seconds).
  /// Empty when the workload has no breakdown.
  std::function<std::vector<std::pair<std::string, double>>()> profile;
};

struct WorkloadContext {
  torch::Device device = torch::kCPU;
  std::string data_root = "data/cifar10-jpeg";
  uint64_t seed = 0;
};

/// Builds a workload by name (ConfigError for an unknown name).
Workload make_workload(const std::string& name, const WorkloadContext& context);

// ---- end to end -----------------------------------------------------------------------------------

/// Forward GEMM FLOPs per sample of a built model (modular or MLP; 0 for other model types).
double model_forward_flops(const torch::nn::AnyModule& model);

/// One whole training run, as `modnet-train --config FILE --out DIR` does it (run::Experiment:
/// load the data and build the model, initialise, train, evaluate, write), timed phase by phase.
struct EndToEndResult {
  std::string config;                 // the experiment config file
  std::string name;                   // its `name`
  int64_t samples = 0;                // training samples seen (steps × batch, the last batch partial)
  int64_t steps = 0;
  double flops_per_sample = 0;        // training FLOPs per sample: 3 × forward GEMMs (the convention)
  double wall_seconds = 0;            // the whole run
  // load, init, train steps, evaluations and checkpoints during training, final evaluation, write
  std::vector<std::pair<std::string, double>> phases;
  double samples_per_second() const { return wall_seconds > 0 ? double(samples) / wall_seconds : 0.0; }
  double train_flops() const { return double(samples) * flops_per_sample; }
  double phase(const std::string& name) const;
  double train_steps_gflops() const;  // training FLOPs / training-step seconds
  double whole_gflops() const { return wall_seconds > 0 ? train_flops() / wall_seconds / 1e9 : 0.0; }
  /// Share of the run after the last training step: the final evaluation and writing.
  double post_training_fraction() const;
};
EndToEndResult run_end_to_end(const BenchOptions& options);

// ---- a run and its report -------------------------------------------------------------------------

struct RateSummary {
  Timing timing;
  double rate = 0, rate_min = 0, rate_max = 0;  // items/s: median, lowest, highest repeat
  double gflops = 0;                            // achieved, from the median rate
  double gemm_fraction = 0;                     // gflops / the GEMM rate
};

struct WorkloadResult {
  std::string name, description, unit, flop_formula;
  double items_per_step = 0, flops_per_step = 0;
  RateSummary batched;
  std::optional<RateSummary> loop;       // per-module loop formulation
  std::optional<RateSummary> reference;  // the autograd reference (models::Modular fused(false))
  double speedup() const { return loop && loop->rate > 0 ? batched.rate / loop->rate : 0.0; }
  std::vector<std::pair<std::string, double>> profile;  // phase -> median seconds per step (--profile)
};

struct BenchReport {
  BenchOptions options;
  std::string device, device_description, blas_library, torch_version, date;
  int64_t threads = 0, blas_threads = -1, cpu_cores = 0;
  GemmRate gemm;
  std::vector<WorkloadResult> results;
  std::optional<EndToEndResult> end_to_end;
  double total_seconds = 0;
};

/// Applies the thread settings, measures the GEMM rate and runs every selected workload.
BenchReport run_bench(const BenchOptions& options);
/// The text table (with a header of the environment and the GEMM rate).
std::string format_table(const BenchReport& report);
/// The report as JSON (see docs in the keys themselves: flop_convention, flop_formula).
Json report_json(const BenchReport& report);

}  // namespace modnet::bench
