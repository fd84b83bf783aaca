#include "modnet/bench/bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <set>
#include <thread>

#include <torch/cuda.h>
#include <torch/version.h>

#include "modnet/core/device.h"
#include "modnet/core/torch_compat.h"
#include "modnet/core/error.h"
#include "modnet/core/log.h"
#include "modnet/init/kernel_init.h"

namespace modnet::bench {

// ---- options --------------------------------------------------------------------------------------

void BenchOptions::resolve(const config::Reader& r) {
  const auto& names = workload_names();
  std::string all;
  for (const auto& n : names) all += (all.empty() ? "" : ", ") + n;
  r.check(!workloads.empty() || end_to_end,
          "workloads: give at least one workload (" + all + "), or end_to_end: true (--end-to-end)");
  std::set<std::string> seen;
  for (const auto& w : workloads) {
    r.check(std::find(names.begin(), names.end(), w) != names.end(),
            fmt::format("workloads: unknown workload '{}'; expected some of: {}", w, all));
    r.check(seen.insert(w).second, fmt::format("workloads: '{}' is listed twice", w));
  }
  r.check(device == "auto" || device == "cpu" || device == "cuda" || device.rfind("cuda:", 0) == 0,
          fmt::format("device: expected cpu, cuda, cuda:N or auto, got '{}'", device));
}

std::vector<cli::FlagSpec> bench_flags() {
  return {{"--config", true, "benchmark config (YAML, e.g. configs/bench/default.yaml)", "FILE"},
          {"--workloads", true, "comma-separated workloads (default: all; see --list)", "A,B", "workloads",
           [](const std::string& text) {
             if (text.empty()) return std::string("[]");  // none: with --end-to-end, only that
             std::string list;
             for (const auto& item : cli::split_list("--workloads", text)) list += (list.empty() ? "" : ", ") + item;
             return "[" + list + "]";
           }},
          {"--repeats", true, "timed repeats per workload (default 5)", "N", "repeats"},
          {"--warmup", true, "untimed warm-up steps per workload (default 2)", "N", "warmup"},
          {"--seconds", true, "minimum seconds per timed repeat (default 0.5)", "S", "seconds"},
          {"--threads", true, "torch intra-op threads", "N", "threads"},
          {"--blas-threads", true, "OpenBLAS threads", "N", "blas_threads"},
          {"--device", true, "cpu, cuda, cuda:N or auto (default cpu)", "DEVICE", "device"},
          {"--json", true, "also write the report as JSON to FILE", "FILE"},
          {"--profile", false, "also time the phases of one step of each training workload", "", "profile"},
          {"--end-to-end", false,
           "also time one whole training run (configs/bench/end-to-end.yaml), phase by phase; alone with --workloads ''",
           "", "end_to_end"},
          {"--list", false, "list the workloads and exit"}};
}

BenchOptions bench_options_from_args(const cli::Args& args) {
  return config::load<BenchOptions>(args.get("--config").value_or(""), args.config_overrides());
}

// ---- timing ---------------------------------------------------------------------------------------

double median(std::vector<double> v) {
  TORCH_CHECK(!v.empty(), "median of an empty list");
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

double Timing::median_step_seconds() const { return median(step_seconds); }

namespace {
std::vector<double> rates(const Timing& t, double items) {
  std::vector<double> r;
  for (double s : t.step_seconds) r.push_back(items / s);
  return r;
}
}  // namespace

double Timing::median_rate(double items) const { return median(rates(*this, items)); }
double Timing::min_rate(double items) const {
  const auto r = rates(*this, items);
  return *std::min_element(r.begin(), r.end());
}
double Timing::max_rate(double items) const {
  const auto r = rates(*this, items);
  return *std::max_element(r.begin(), r.end());
}

void synchronize(const torch::Device& device) {
  // torch::cuda::synchronize is declared in every libtorch (CPU-only builds included); it is only
  // reached for a CUDA device, which resolve_device refuses on a CPU-only build.
  if (device.is_cuda()) torch::cuda::synchronize(device.has_index() ? device.index() : -1);
}

Timing time_steps(const std::function<void()>& step, const TimingOptions& o, const torch::Device& device) {
  TORCH_CHECK(o.repeats >= 1 && o.warmup >= 0 && o.seconds > 0, "time_steps: bad timing options");
  using clock = std::chrono::steady_clock;
  auto timed = [&](int64_t n) {
    synchronize(device);
    const auto t0 = clock::now();
    for (int64_t i = 0; i < n; ++i) step();
    synchronize(device);
    return std::chrono::duration<double>(clock::now() - t0).count();
  };
  for (int64_t i = 0; i < o.warmup; ++i) step();
  // Calibration: the number of steps for which one repeat lasts at least `seconds`.
  constexpr int64_t kMaxSteps = 10000000;
  int64_t n = 1;
  for (;;) {
    const double t = timed(n);
    if (t >= o.seconds || n >= kMaxSteps) break;
    const double want = std::ceil(double(n) * o.seconds / std::max(t, 1e-9) * 1.05);
    n = std::clamp<int64_t>(int64_t(std::min(want, 1e12)), n + 1, std::min(100 * n, kMaxSteps));
  }
  Timing timing;
  timing.steps_per_repeat = n;
  for (int64_t r = 0; r < o.repeats; ++r) timing.step_seconds.push_back(timed(n) / double(n));
  return timing;
}

GemmRate measure_gemm_rate(int64_t n, const TimingOptions& o, const torch::Device& device) {
  TORCH_CHECK(n >= 1, "measure_gemm_rate: n must be positive, got ", n);
  const auto opts = torch::TensorOptions().dtype(torch::kFloat).device(device);
  torch::NoGradGuard no_grad;
  const auto a = torch::randn({n, n}, opts), b = torch::randn({n, n}, opts);
  auto c = torch::empty({n, n}, opts);
  GemmRate g;
  g.n = n;
  g.flops = 2.0 * double(n) * double(n) * double(n);
  const auto timing = time_steps([&] { torch::mm_out(c, a, b); }, o, device);
  // The machine's rate is its best repeat: on a shared machine the median wanders (103-186
  // GFLOP/s between runs on the 2-core CI machine), and a fraction of a depressed rate flatters.
  g.gflops = timing.max_rate(g.flops) / 1e9;
  g.seconds = g.flops / (g.gflops * 1e9);
  return g;
}

// ---- FLOP counts ----------------------------------------------------------------------------------

double mlp_forward_flops(int64_t batch, int64_t in, const std::vector<int64_t>& hidden, int64_t out) {
  double macs = 0;  // multiply-adds per sample
  int64_t prev = in;
  for (int64_t w : hidden) {
    macs += double(prev) * double(w);
    prev = w;
  }
  macs += double(prev) * double(out);
  return 2.0 * double(batch) * macs;
}

double modular_forward_flops(int64_t batch, int64_t D, int64_t K, int64_t b, const std::vector<int64_t>& hidden,
                             int64_t out) {
  return 2.0 * double(batch) * double(D) * double(K * b) + double(K) * mlp_forward_flops(batch, b, hidden, out);
}

double kernel_init_step_flops(int64_t n, int64_t D, int64_t K, int64_t b, int64_t d) {
  init::KernelInitOptions o;
  o.kernel = "rbf";
  o.batch_size = n;
  return init::kernel_step_flops(o, K, D, b, d, {});
}

// ---- a run ----------------------------------------------------------------------------------------

namespace {

RateSummary summarise(const Timing& t, double items, double flops_per_step, double gemm_gflops) {
  RateSummary s;
  s.timing = t;
  s.rate = t.median_rate(items);
  s.rate_min = t.min_rate(items);
  s.rate_max = t.max_rate(items);
  s.gflops = flops_per_step > 0 ? s.rate / items * flops_per_step / 1e9 : 0.0;
  s.gemm_fraction = gemm_gflops > 0 ? s.gflops / gemm_gflops : 0.0;
  return s;
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

BenchReport run_bench(const BenchOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  BenchReport report;
  report.options = options;
  const auto device = resolve_device(options.device);
  flush_denormals();  // as every training run
  if (!apply_thread_policy(options.threads, options.blas_threads))
    log::warn("--blas-threads {}: the BLAS in use ({}) is not OpenBLAS; its threads are left as they are",
              options.blas_threads, blas_library());
  report.device = device.str();
  report.device_description = describe_device(device);
  report.blas_library = blas_library();
  report.torch_version = compat::torch_version();
  report.date = utc_now();
  report.threads = torch::get_num_threads();
  report.blas_threads = blas_threads();
  report.cpu_cores = int64_t(std::thread::hardware_concurrency());
  const TimingOptions timing{options.repeats, options.warmup, options.seconds};
  log::info("modnet-bench on {}; torch {}", report.device_description, report.torch_version);

  report.gemm = measure_gemm_rate(options.gemm_size, timing, device);
  log::info("GEMM {0}x{0}x{0} float32: {1:.1f} GFLOP/s", report.gemm.n, report.gemm.gflops);

  // The whole run first: its load is then a cold one (compositional-data caches the images in the process).
  if (options.end_to_end) {
    report.end_to_end = run_end_to_end(options);
    const auto& e = *report.end_to_end;
    log::info("end-to-end: {} samples in {:.1f} s = {:.4g} samples/s", e.samples, e.wall_seconds, e.samples_per_second());
  }
  const WorkloadContext context{device, options.data_root, uint64_t(options.seed)};
  for (const auto& name : options.workloads) {
    Workload w = make_workload(name, context);
    WorkloadResult r;
    r.name = w.name;
    r.description = w.description;
    r.unit = w.unit;
    r.flop_formula = w.flop_formula;
    r.items_per_step = w.items_per_step;
    r.flops_per_step = w.flops_per_step;
    r.batched = summarise(time_steps(w.step, timing, device), w.items_per_step, w.flops_per_step, report.gemm.gflops);
    if (w.loop_step)
      r.loop = summarise(time_steps(w.loop_step, timing, device), w.items_per_step, w.flops_per_step, report.gemm.gflops);
    if (w.reference_step)
      r.reference =
          summarise(time_steps(w.reference_step, timing, device), w.items_per_step, w.flops_per_step, report.gemm.gflops);
    if (options.profile && w.profile) {
      // Median over steps of each phase, after the timing above has warmed everything up.
      std::vector<std::vector<double>> samples;
      std::vector<std::string> phases;
      for (int i = 0; i < 11; ++i) {
        const auto p = w.profile();
        if (phases.empty())
          for (const auto& [phase, sec] : p) phases.push_back(phase), samples.emplace_back();
        for (size_t j = 0; j < p.size() && j < samples.size(); ++j) samples[j].push_back(p[j].second);
      }
      for (size_t j = 0; j < phases.size(); ++j) r.profile.emplace_back(phases[j], median(samples[j]));
    }
    log::info("{}: {:.4g} {}{}", name, r.batched.rate, r.unit,
              r.loop ? fmt::format(" (per-module loop {:.4g}, batched/loop {:.2f}x)", r.loop->rate, r.speedup()) : "");
    report.results.push_back(std::move(r));
  }
  // Measure the GEMM rate again at the end and keep the better one, so that a slow moment at the
  // start does not make every fraction look good.
  const auto again = measure_gemm_rate(options.gemm_size, timing, device);
  if (again.gflops > report.gemm.gflops) {
    report.gemm = again;
    for (auto& r : report.results) {
      if (r.flops_per_step > 0) r.batched.gemm_fraction = r.batched.gflops / report.gemm.gflops;
      if (r.loop && r.flops_per_step > 0) r.loop->gemm_fraction = r.loop->gflops / report.gemm.gflops;
      if (r.reference && r.flops_per_step > 0) r.reference->gemm_fraction = r.reference->gflops / report.gemm.gflops;
    }
  }
  report.total_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

// ---- the report -----------------------------------------------------------------------------------

namespace {

std::string rate_text(double v) {
  if (v >= 1e6) return fmt::format("{:.3g}M", v / 1e6);
  if (v >= 1e4) return fmt::format("{:.1f}k", v / 1e3);
  return fmt::format("{:.4g}", v);
}

std::string row(const std::string& label, const std::string& unit, const RateSummary& s, double flops_per_step,
                const std::string& speedup) {
  const double ms = s.timing.median_step_seconds() * 1e3;
  const bool flops = flops_per_step > 0;
  return fmt::format("{:<22} {:>10} {:<15} {:>9.3f} {:>10} {:>9} {:>8} {:>9}\n", label, rate_text(s.rate), unit, ms,
                     flops ? fmt::format("{:.3f}", flops_per_step / 1e9) : "-",
                     flops ? fmt::format("{:.1f}", s.gflops) : "-",
                     flops ? fmt::format("{:.1f}%", 100 * s.gemm_fraction) : "-", speedup);
}

Json rate_json(const RateSummary& s, double items, double flops_per_step) {
  Json j;
  j.set("rate", s.rate);
  j.set("rate_min", s.rate_min);
  j.set("rate_max", s.rate_max);
  j.set("steps_per_second", s.rate / items);
  j.set("step_seconds_median", s.timing.median_step_seconds());
  j.set("steps_per_repeat", s.timing.steps_per_repeat);
  j.set("repeats", int64_t(s.timing.step_seconds.size()));
  if (flops_per_step > 0) {
    j.set("gflops", s.gflops);
    j.set("gemm_fraction", s.gemm_fraction);
  }
  return j;
}

}  // namespace

std::string format_table(const BenchReport& r) {
  std::string out;
  out += fmt::format("modnet-bench  {}  torch {}  device {}\n", r.date, r.torch_version, r.device_description);
  out += fmt::format("threads: torch {}, OpenBLAS {}   BLAS: {}   CPU cores: {}\n", r.threads,
                     r.blas_threads >= 0 ? std::to_string(r.blas_threads) : "n/a (not OpenBLAS)", r.blas_library,
                     r.cpu_cores);
  out += fmt::format("timing: median of {} repeats of >= {} s each, after {} warm-up steps\n", r.options.repeats,
                     r.options.seconds, r.options.warmup);
  out += fmt::format("GEMM rate: float32 mm {0}x{0}x{0}: {1:.1f} GFLOP/s ({2:.2f} ms per GEMM)\n\n", r.gemm.n,
                     r.gemm.gflops, r.gemm.seconds * 1e3);
  out += fmt::format("{:<22} {:>10} {:<15} {:>9} {:>10} {:>9} {:>8} {:>9}\n", "workload", "rate", "unit", "ms/step",
                     "GFLOP/step", "GFLOP/s", "of GEMM", "speedup");
  for (const auto& w : r.results) {
    out += row(w.name, w.unit, w.batched, w.flops_per_step, w.loop ? fmt::format("{:.2f}x", w.speedup()) : "");
    if (w.reference)
      out += row("  autograd reference", w.unit, *w.reference, w.flops_per_step,
                 fmt::format("{:.2f}x", w.reference->rate > 0 ? w.batched.rate / w.reference->rate : 0.0));
    if (w.loop) out += row("  per-module loop", w.unit, *w.loop, w.flops_per_step, "");
  }
  out += fmt::format("\nFLOPs: GEMM FLOPs only (2mnk per product); a training step counts 3x the forward GEMMs.\n");
  out += "speedup: on a workload's row, batched over its per-module loop; on an autograd-reference row, the fused\n"
         "step over that reference.\n";
  for (const auto& w : r.results) {
    if (w.profile.empty()) continue;
    double total = 0;
    for (const auto& [phase, sec] : w.profile) total += sec;
    out += fmt::format("\nwhere the time goes: {} (median of 11 profiled steps, {:.3f} ms in all)\n", w.name, total * 1e3);
    for (const auto& [phase, sec] : w.profile)
      out += fmt::format("  {:<28} {:>9.3f} ms {:>6.1f}%\n", phase, sec * 1e3, 100 * sec / total);
  }
  if (r.end_to_end) {
    const auto& e = *r.end_to_end;
    const double gemm = r.gemm.gflops;
    out += fmt::format("\nend to end: {} ({}), one whole training run\n", e.config, e.name);
    out += fmt::format("  {} training samples ({} steps) in {:.1f} s: {:.4g} samples/s over the whole run\n", e.samples,
                       e.steps, e.wall_seconds, e.samples_per_second());
    out += fmt::format("  {:.1f} MFLOP per training sample (3x forward GEMMs): whole run {:.1f} GFLOP/s = {:.1f}% of "
                       "GEMM; training steps {:.1f} GFLOP/s = {:.1f}% of GEMM\n",
                       e.flops_per_sample / 1e6, e.whole_gflops(), 100 * e.whole_gflops() / gemm,
                       e.train_steps_gflops(), 100 * e.train_steps_gflops() / gemm);
    out += fmt::format("  after the last step (final evaluation, writing): {:.1f}% of the run\n",
                       100 * e.post_training_fraction());
    for (const auto& [phase, sec] : e.phases)
      out += fmt::format("  {:<30} {:>9.2f} s {:>6.1f}%\n", phase, sec, 100 * sec / e.wall_seconds);
  }
  out += fmt::format("total {:.1f} s\n", r.total_seconds);
  return out;
}

Json report_json(const BenchReport& r) {
  Json env;
  env.set("date", r.date);
  env.set("torch_version", r.torch_version);
  env.set("device", r.device);
  env.set("device_description", r.device_description);
  env.set("blas_library", r.blas_library);
  env.set("threads", r.threads);
  env.set("blas_threads", r.blas_threads);
  env.set("cpu_cores", r.cpu_cores);

  Json options;
  std::string list;
  for (const auto& w : r.options.workloads) list += (list.empty() ? "" : ",") + w;
  options.set("workloads", list);
  options.set("repeats", r.options.repeats);
  options.set("warmup", r.options.warmup);
  options.set("seconds", r.options.seconds);
  options.set("threads", r.options.threads);
  options.set("blas_threads", r.options.blas_threads);
  options.set("device", r.options.device);
  options.set("gemm_size", r.options.gemm_size);
  options.set("data_root", r.options.data_root);
  options.set("seed", r.options.seed);
  options.set("end_to_end", r.options.end_to_end);
  if (r.options.end_to_end) options.set("end_to_end_config", r.options.end_to_end_config);

  Json gemm;
  gemm.set("n", r.gemm.n);
  gemm.set("flops", r.gemm.flops);
  gemm.set("seconds_best", r.gemm.seconds);
  gemm.set("gflops", r.gemm.gflops);
  gemm.set("formula", "float32 torch::mm of two n x n matrices, FLOPs = 2n^3, best repeat, measured before and after the workloads (the higher kept)");

  Json workloads;
  for (const auto& w : r.results) {
    Json j;
    j.set("description", w.description);
    j.set("unit", w.unit);
    j.set("items_per_step", w.items_per_step);
    if (w.flops_per_step > 0) {
      j.set("flops_per_step", w.flops_per_step);
      j.set("flop_formula", w.flop_formula);
    }
    j.merge(rate_json(w.batched, w.items_per_step, w.flops_per_step));
    if (w.loop) {
      j.set("per_module_loop", rate_json(*w.loop, w.items_per_step, w.flops_per_step));
      j.set("speedup_batched_over_loop", w.speedup());
    }
    if (w.reference) {
      j.set("autograd_reference", rate_json(*w.reference, w.items_per_step, w.flops_per_step));
      j.set("speedup_fused_over_reference", w.reference->rate > 0 ? w.batched.rate / w.reference->rate : 0.0);
    }
    if (!w.profile.empty()) {
      Json prof;
      for (const auto& [phase, sec] : w.profile) prof.set(phase, sec);
      j.set("profile_seconds", prof);
    }
    workloads.set(w.name, j);
  }

  Json out;
  if (r.end_to_end) {
    const auto& e = *r.end_to_end;
    Json j, phases;
    j.set("config", e.config).set("name", e.name).set("samples", e.samples).set("steps", e.steps);
    j.set("flops_per_sample", e.flops_per_sample).set("wall_seconds", e.wall_seconds);
    j.set("samples_per_second", e.samples_per_second());
    j.set("whole_run_gflops", e.whole_gflops()).set("whole_run_gemm_fraction", e.whole_gflops() / r.gemm.gflops);
    j.set("train_steps_gflops", e.train_steps_gflops())
        .set("train_steps_gemm_fraction", e.train_steps_gflops() / r.gemm.gflops);
    j.set("post_training_fraction", e.post_training_fraction());
    for (const auto& [phase, sec] : e.phases) phases.set(phase, sec);
    j.set("phase_seconds", phases);
    out.set("end_to_end", j);
  }
  out.set("benchmark", "modnet-bench");
  out.set("environment", env);
  out.set("options", options);
  out.set("flop_convention",
          "GEMM FLOPs only, 2*m*n*k per [m,k]x[k,n] product; a training step counts 3x the forward GEMM FLOPs "
          "(backward ~ 2x forward; an upper bound, since the first layer's input gradient is never computed); bias "
          "adds, activations, losses and optimiser updates are not counted");
  out.set("gemm", gemm);
  out.set("workloads", workloads);
  out.set("total_seconds", r.total_seconds);
  return out;
}

}  // namespace modnet::bench
